package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	cases := []struct {
		status int
		want   error
	}{
		{0, nil}, {200, nil}, {201, nil}, {302, nil},
		{304, ErrNotModified},
		{400, ErrInvalid}, {401, ErrUnauthorized}, {403, ErrForbidden}, {404, ErrNotFound}, {405, ErrInvalid},
		{408, ErrBusy}, {409, ErrConflict}, {410, ErrNotFound}, {411, ErrInvalid}, {412, ErrPrecondition},
		{413, ErrQuota}, {416, ErrInvalid}, {422, ErrInvalid}, {429, ErrBusy},
		{500, ErrUnavailable}, {502, ErrUnavailable}, {503, ErrUnavailable}, {507, ErrUnavailable},
	}
	for _, c := range cases {
		if got := Of(c.status); got != c.want {
			t.Errorf("Of(%d) = %v, want %v", c.status, got, c.want)
		}
	}
}

func TestRefused(t *testing.T) {
	for _, err := range []error{ErrNotFound, ErrConflict, ErrForbidden, ErrInvalid, fmt.Errorf("put: %w", ErrInvalid)} {
		if !Refused(err) {
			t.Errorf("Refused(%v) = false", err)
		}
	}
	for _, err := range []error{nil, ErrPrecondition, ErrQuota, ErrUnauthorized, ErrBusy, ErrUnavailable, errors.New("disk")} {
		if Refused(err) {
			t.Errorf("Refused(%v) = true", err)
		}
	}
}
