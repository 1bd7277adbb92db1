package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestResolveTLS: the flag over the kamakirc cloud section over its [global], per setting; an explicit CA
// means verifying; the kamakirc counts only for a configured cloud.
func TestResolveTLS(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOME": "/home/u"}
	getenv := func(k string) string { return env[k] }
	rcWith := func(global, cloud string) string {
		p := filepath.Join(t.TempDir(), "kamakirc")
		body := "[global]\ndefault_cloud = c\n" + global + "\n[cloud \"c\"]\nurl = https://x/identity/v2.0\ntoken = t\n" + cloud + "\n" +
			"[cloud \"other\"]\nurl = https://y\ntoken = t\nca_certs = /other.pem\nignore_ssl = on\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fromRC := cloudConfig{URL: "https://x/identity/v2.0", Cloud: "c"}
	fromFlags := cloudConfig{URL: "https://x/identity/v2.0"}
	for _, tt := range []struct {
		name         string
		rc           string
		flagCA       string
		insecure     *bool
		cloud        cloudConfig
		found        bool
		wantCA       string
		wantSource   string
		wantInsecure bool
		wantErr      string
	}{
		{name: "nothing", rc: rcWith("", ""), cloud: fromRC, found: true},
		{name: "no kamakirc", rc: filepath.Join(dir, "missing"), cloud: fromRC, found: true},
		{name: "global ca_certs", rc: rcWith("ca_certs = /g.pem", ""), cloud: fromRC, found: true, wantCA: "/g.pem", wantSource: "[global]"},
		{name: "global applies to --url too", rc: rcWith("ca_certs = /g.pem", ""), cloud: fromFlags, found: true, wantCA: "/g.pem", wantSource: "[global]"},
		{name: "cloud over global", rc: rcWith("ca_certs = /g.pem", "ca_certs = /c.pem"), cloud: fromRC, found: true, wantCA: "/c.pem", wantSource: `[cloud "c"]`},
		{name: "flag over both", rc: rcWith("ca_certs = /g.pem", "ca_certs = /c.pem"), flagCA: "/f.pem", cloud: fromRC, found: true, wantCA: "/f.pem", wantSource: "--ca-certs"},
		{name: "quoted and ~", rc: rcWith(`ca_certs = "~/ca.pem"`, ""), cloud: fromRC, found: true, wantCA: "/home/u/ca.pem", wantSource: "[global]"},
		{name: "global ignore_ssl", rc: rcWith("ignore_ssl = on", ""), cloud: fromRC, found: true, wantInsecure: true},
		{name: "cloud ignore_ssl off over global on", rc: rcWith("ignore_ssl = on", "ignore_ssl = off"), cloud: fromRC, found: true},
		{name: "--insecure=false over ignore_ssl", rc: rcWith("ignore_ssl = on", ""), insecure: ptr(false), cloud: fromRC, found: true},
		{name: "--insecure", rc: rcWith("", ""), insecure: ptr(true), cloud: fromRC, found: true, wantInsecure: true},
		{name: "--ca-certs turns off kamakirc ignore_ssl", rc: rcWith("ignore_ssl = on", ""), flagCA: "/f.pem", cloud: fromRC, found: true, wantCA: "/f.pem", wantSource: "--ca-certs"},
		{name: "ignore_ssl and cloud ca_certs: not verified", rc: rcWith("ignore_ssl = on", "ca_certs = /c.pem"), cloud: fromRC, found: true, wantCA: "/c.pem", wantSource: `[cloud "c"]`, wantInsecure: true},
		{name: "another cloud's settings do not count", rc: rcWith("", ""), cloud: fromRC, found: true},
		{name: "embedded cloud ignores kamakirc", rc: rcWith("ca_certs = /g.pem\nignore_ssl = on", ""), found: false},
		{name: "bad ignore_ssl", rc: rcWith("ignore_ssl = maybe", ""), cloud: fromRC, found: true, wantErr: "ignore_ssl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := &mountOptions{Kamakirc: tt.rc, CACerts: tt.flagCA}
			if tt.insecure != nil {
				o.Insecure, o.insecureSet = *tt.insecure, true
			}
			got, err := resolveTLS(o, tt.cloud, tt.found, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.CAFile != tt.wantCA || got.Insecure != tt.wantInsecure || !strings.Contains(got.CASource, tt.wantSource) {
				t.Fatalf("got %+v, want CA %q from %q, insecure %v", got, tt.wantCA, tt.wantSource, tt.wantInsecure)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestMountOptsTLS: ca_certs= and insecure work as -o options, and a given insecure (even =false) is marked
// as set, so that it overrides ~/.kamakirc.
func TestMountOptsTLS(t *testing.T) {
	for _, tt := range []struct {
		opts         string
		ca           string
		insecure     bool
		insecureSeen bool
	}{
		{"ca_certs=/etc/ca.pem,_netdev", "/etc/ca.pem", false, false},
		{"insecure", "", true, true},
		{"insecure=false,cloud=x", "", false, true},
	} {
		fl := pflag.NewFlagSet("mount", pflag.ContinueOnError)
		var o mountOptions
		registerOptions(fl, &o)
		if err := applyMountOpts(fl, tt.opts); err != nil {
			t.Fatalf("%s: %v", tt.opts, err)
		}
		if o.CACerts != tt.ca || o.Insecure != tt.insecure || fl.Changed("insecure") != tt.insecureSeen {
			t.Errorf("-o %s: ca %q insecure %v (set %v)", tt.opts, o.CACerts, o.Insecure, fl.Changed("insecure"))
		}
	}
}

// TestTrustError: each kind of refused certificate becomes one line that says what to do; other errors
// pass unchanged.
func TestTrustError(t *testing.T) {
	wrap := func(e error) error {
		return fmt.Errorf("cannot reach https://x: %w", &tls.CertificateVerificationError{Err: e})
	}
	unknown := wrap(x509.UnknownAuthorityError{})
	plain := errors.New("connection refused")
	for _, tt := range []struct {
		name string
		set  tlsSettings
		err  error
		want string
	}{
		{"unknown authority", tlsSettings{}, unknown, "the server's certificate is not trusted: pass --ca-certs FILE (or ca_certs in ~/.kamakirc)"},
		{"unknown with a CA", tlsSettings{CAFile: "/ca.pem", CASource: "--ca-certs"}, unknown, "the server's certificate is not trusted, not even with /ca.pem (--ca-certs)"},
		{"host name", tlsSettings{}, wrap(x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"localhost"}}, Host: "10.1.1.1"}), "the server's certificate is not for the host in the URL"},
		{"expired", tlsSettings{}, wrap(x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired}), "the server's certificate is not valid"},
		{"other", tlsSettings{}, plain, "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.set.trustError(tt.err)
			if !strings.HasPrefix(got.Error(), tt.want) || strings.Contains(got.Error(), "\n") {
				t.Fatalf("got %q, want it to start with %q (one line)", got, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Fatalf("%v lost its cause", got)
			}
		})
	}
}

// TestInsecureWarns: an insecure configuration is logged as a warning naming what set it.
func TestInsecureWarns(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	if _, err := (tlsSettings{Insecure: true, InsecureSource: "--insecure"}).config(zap.New(core)); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 1 || !strings.Contains(logs.All()[0].Message, "NOT verified") {
		t.Fatalf("logs: %+v", logs.All())
	}
	if _, err := (tlsSettings{CAFile: filepath.Join(t.TempDir(), "none.pem"), CASource: "--ca-certs"}).config(zap.New(core)); err == nil ||
		!strings.Contains(err.Error(), "--ca-certs") {
		t.Fatalf("missing CA file: %v", err)
	}
}
