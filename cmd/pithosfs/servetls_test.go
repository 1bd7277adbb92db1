package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeTLSSetup: the flag combinations of pithosfs serve's TLS, and --tls-self-signed making its
// files once and reusing them on the next start.
func TestServeTLSSetup(t *testing.T) {
	data := t.TempDir()
	now := time.Now()
	for _, tt := range []struct {
		name    string
		f       serveTLSFlags
		public  string
		wantErr string
		wantTLS bool
	}{
		{name: "plain HTTP", f: serveTLSFlags{}},
		{name: "cert without key", f: serveTLSFlags{Cert: "/c.pem"}, wantErr: "go together"},
		{name: "self-signed and cert", f: serveTLSFlags{SelfSigned: true, Cert: "/c.pem", Key: "/k.pem"}, wantErr: "leave out"},
		{name: "http public URL", f: serveTLSFlags{SelfSigned: true}, public: "http://cloud.test", wantErr: "https://"},
		{name: "missing cert file", f: serveTLSFlags{Cert: "/nonexistent/c.pem", Key: "/nonexistent/k.pem"}, wantErr: "--tls-cert"},
		{name: "self-signed", f: serveTLSFlags{SelfSigned: true}, wantTLS: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := tt.f.setup(data, "127.0.0.1:0", tt.public, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || (st.conf != nil) != tt.wantTLS {
				t.Fatalf("TLS %v, error %v; want TLS %v", st.conf != nil, err, tt.wantTLS)
			}
		})
	}

	f := serveTLSFlags{SelfSigned: true}
	st, err := f.setup(data, "127.0.0.1:0", "", now)
	if err != nil || st.note != "reused" || st.caFile != filepath.Join(data, "tls", "ca.pem") {
		t.Fatalf("restart: %+v %v, want the same CA reused", st, err)
	}
	// Own certificate files (here the self-signed pair) are served as given, with no CA to print.
	own := serveTLSFlags{Cert: filepath.Join(data, "tls", "server.pem"), Key: filepath.Join(data, "tls", "server-key.pem")}
	if st, err := own.setup(t.TempDir(), "127.0.0.1:0", "", now); err != nil || st.conf == nil || st.caFile != "" {
		t.Fatalf("--tls-cert/--tls-key: %+v %v", st, err)
	}
	// A public URL's host is added to the certificate (re-issued by the same CA).
	st, err = f.setup(data, "0.0.0.0:8443", "https://cloud.test:8443", now)
	if err != nil || !strings.Contains(st.note, "new server certificate") {
		t.Fatalf("new host: %+v %v", st, err)
	}
	leaf := st.conf.Certificates[0].Leaf
	if err := leaf.VerifyHostname("cloud.test"); err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("0.0.0.0"); err == nil {
		t.Fatal("the certificate names the unspecified address")
	}
}
