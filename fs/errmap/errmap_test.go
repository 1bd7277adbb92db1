package errmap

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

type own struct{}

func (own) Error() string        { return "read-only" }
func (own) Errno() syscall.Errno { return syscall.EROFS }

func TestErrno(t *testing.T) {
	st := func(s int) error { return &synnefo.ClientError{Status: s} }
	cases := []struct {
		name string
		err  error
		want syscall.Errno
		spec syscall.Errno // Spec's answer when it differs
	}{
		{"nil", nil, 0, 0},
		{"not found", st(404), syscall.ENOENT, syscall.EINVAL},
		{"gone", st(410), syscall.ENOENT, syscall.EINVAL},
		{"forbidden", st(403), syscall.EACCES, 0},
		{"unauthorized", st(401), syscall.EACCES, 0},
		{"conflict", st(409), syscall.EBUSY, 0},
		{"not empty", fmt.Errorf("c: %w (%w)", fault.ErrNotEmpty, st(409)), syscall.ENOTEMPTY, 0},
		{"precondition", st(412), syscall.EEXIST, 0},
		{"quota", st(413), syscall.EDQUOT, 0},
		{"bad request", st(400), syscall.EINVAL, 0},
		{"length required", st(411), syscall.EINVAL, 0},
		{"busy", st(429), syscall.EIO, 0},
		{"server error", st(500), syscall.EIO, 0},
		{"unavailable", st(503), syscall.EIO, 0},
		{"not modified", st(304), syscall.EIO, 0},
		{"wrapped", fmt.Errorf("wrapped: %w", st(404)), syscall.ENOENT, syscall.EINVAL},
		// A transport error carries the socket's errno: the kernel must get EIO.
		{"transport", &synnefo.ClientError{Err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED)}, syscall.EIO, 0},
		{"cancelled", context.Canceled, syscall.EINTR, 0},
		{"cancelled request", &synnefo.ClientError{Err: context.Canceled}, syscall.EINTR, 0},
		{"own errno", syscall.ENOTDIR, syscall.ENOTDIR, 0},
		{"carrier", fmt.Errorf("x: %w", own{}), syscall.EROFS, 0},
		{"file too large", fmt.Errorf("w: %w", writeback.ErrFileTooLarge), syscall.EFBIG, 0},
		{"commit quota", &writeback.QuotaError{Container: "c", Name: "n", Err: st(413)}, syscall.EDQUOT, 0},
		{"commit refused", &writeback.CommitError{Container: "c", Name: "n", Permanent: true, Err: st(403)}, syscall.EACCES, 0},
		{"other", errors.New("other"), syscall.EIO, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Errno(c.err); got != c.want {
				t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
			}
			want := c.spec
			if want == 0 {
				want = c.want
			}
			if got := Spec(c.err); got != want {
				t.Errorf("Spec(%v) = %v, want %v", c.err, got, want)
			}
		})
	}
}

func TestCommit(t *testing.T) {
	cases := []struct {
		err  error
		want syscall.Errno
	}{
		{&writeback.QuotaError{Container: "c", Name: "n", Err: &synnefo.ClientError{Status: 413}}, syscall.EDQUOT},
		{&writeback.ConflictError{Container: "c", Name: "n", ConflictName: "n.conflict"}, syscall.EIO},
		{&writeback.CommitError{Container: "c", Name: "n", Permanent: true, Err: &synnefo.ClientError{Status: 403}}, syscall.EIO},
		{&writeback.CommitError{Container: "c", Name: "n", Err: errors.New("no route")}, syscall.EIO},
	}
	for _, c := range cases {
		if got := Commit(c.err); got != c.want {
			t.Errorf("Commit(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
