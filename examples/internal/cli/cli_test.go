package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// TestResolve: what the flags leave unset comes from kamaki's configuration file; the flags win.
func TestResolve(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "kamakirc")
	body := "[global]\ndefault_cloud = a\nca_certs = /global.pem\n\n[cloud \"a\"]\nurl = https://a\ntoken = ta\nca_certs = /a.pem\n\n" +
		"[cloud \"b\"]\nurl = https://b\ntoken = tb\nignore_ssl = on\n"
	if err := os.WriteFile(rc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		in   Cloud
		want Cloud
	}{
		{"default cloud", Cloud{Config: rc}, Cloud{URL: "https://a", Token: "ta", CAFile: "/a.pem"}},
		{"named cloud", Cloud{Config: rc, Name: "b"}, Cloud{URL: "https://b", Token: "tb", CAFile: "/global.pem", Insecure: true}},
		{"flags keep the cloud, [global] CA", Cloud{Config: rc, URL: "https://f", Token: "tf"}, Cloud{URL: "https://f", Token: "tf", CAFile: "/global.pem"}},
		{"flag CA wins", Cloud{Config: rc, CAFile: "/flag.pem"}, Cloud{URL: "https://a", Token: "ta", CAFile: "/flag.pem"}},
		{"everything given", Cloud{Config: "/nonexistent", URL: "https://f", Token: "tf", CAFile: "/flag.pem"}, Cloud{URL: "https://f", Token: "tf", CAFile: "/flag.pem"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			if err := got.Resolve(); err != nil {
				t.Fatal(err)
			}
			got.Config, got.Name = "", ""
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if err := (&Cloud{Config: filepath.Join(t.TempDir(), "none")}).Resolve(); err == nil {
		t.Fatal("a missing -config file is no error")
	}
	if err := (&Cloud{Config: rc, Name: "nope"}).Resolve(); err == nil {
		t.Fatal("an unknown -cloud is no error")
	}
}
