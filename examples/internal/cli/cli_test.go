package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/pithosfs/pithosfs/synnefo"
)

func TestPrintError(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"fault with details", fmt.Errorf("get: %w", synnefo.NewHTTPError("404 Not Found", 404,
			[]byte(`{"itemNotFound": {"message": "Server not found.", "code": 404, "details": "line one\nline two"}}`))),
			"Error: Server not found.\n- error code: 404\n- line one\n- line two\n"},
		{"bare body", synnefo.NewHTTPError("409 Conflict", 409, []byte(`["abc"]`)), "Error: Conflict\n- error code: 409\n- [\"abc\"]\n"},
		{"transport", &synnefo.ClientError{Message: "connection refused", Err: syscall.ECONNREFUSED},
			"Error: connection refused\n- connection refused\n"},
		{"other", errors.New("boom"), "Error: boom\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			PrintError(&b, tt.err)
			if b.String() != tt.want {
				t.Fatalf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code int
		out  string
	}{{nil, 0, ""}, {errors.New("x"), 1, "Error: x\n"}} {
		var b bytes.Buffer
		code := Run(context.Background(), func(context.Context, []string, io.Writer) error { return tt.err }, nil, &b)
		if code != tt.code || b.String() != tt.out {
			t.Fatalf("Run with %v: %d %q", tt.err, code, b.String())
		}
	}
}
