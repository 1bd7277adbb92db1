package kamakirc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `# kamaki configuration
[global]
default_cloud = work
ca_certs = "/etc/ssl/global.pem"
ignore_ssl = off
colors = on

[cloud "work"]
url = https://accounts.example.org/identity/v2.0
token = tok-work
ca_certs = ~/work-ca.pem

[cloud "home"]
url: https://home.example.org/identity/v2.0
token = tok:home
ignore_ssl = on

[history]
file = ignored
`

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kamakirc")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	f, err := Read(write(t, sample))
	if err != nil {
		t.Fatal(err)
	}
	if f.DefaultCloud() != "work" || len(f.Clouds) != 2 {
		t.Fatalf("default %q, clouds %v", f.DefaultCloud(), f.Clouds)
	}
	if u, tok, err := f.Cloud("home"); err != nil || u != "https://home.example.org/identity/v2.0" || tok != "tok:home" {
		t.Fatalf("home: %q %q %v", u, tok, err)
	}
	if _, _, err := f.Cloud("nope"); err == nil {
		t.Fatal("unknown cloud found")
	}
	for _, tt := range []struct {
		cloud string
		want  TLS
	}{
		{"work", TLS{CACerts: "/home/u/work-ca.pem", CACertsFrom: `[cloud "work"]`, IgnoreSSLSet: true, IgnoreFrom: "[global]"}},
		{"home", TLS{CACerts: "/etc/ssl/global.pem", CACertsFrom: "[global]", IgnoreSSL: true, IgnoreSSLSet: true, IgnoreFrom: `[cloud "home"]`}},
		{"", TLS{CACerts: "/etc/ssl/global.pem", CACertsFrom: "[global]", IgnoreSSLSet: true, IgnoreFrom: "[global]"}},
	} {
		got, err := f.TLS(tt.cloud, "/home/u")
		if err != nil || got != tt.want {
			t.Errorf("TLS(%q) = %+v, %v; want %+v", tt.cloud, got, err, tt.want)
		}
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Read(write(t, "[global]\njust words\n")); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("a line that is no setting: %v", err)
	}
	f, err := Read(write(t, "[global]\nignore_ssl = maybe\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.TLS("", ""); !errors.Is(err, ErrNotOnOff) {
		t.Fatalf("ignore_ssl = maybe: %v", err)
	}
	if _, err := Read(write(t, "[global]\ntoken = "+strings.Repeat("x", maxLine)+"\n")); err == nil {
		t.Fatal("an overlong line was read")
	}
}

func TestDefaults(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	if p := DefaultPath(get); p != "/home/u/.kamakirc" {
		t.Fatalf("DefaultPath = %q", p)
	}
	env[EnvConfig] = "/etc/kamakirc"
	if p := DefaultPath(get); p != "/etc/kamakirc" {
		t.Fatalf("DefaultPath with %s = %q", EnvConfig, p)
	}
	f, err := Read(write(t, "[cloud \"only\"]\nurl = u\ntoken = t\n"))
	if err != nil || f.DefaultCloud() != "only" {
		t.Fatalf("the only cloud: %v %v", f, err)
	}
	for _, v := range []string{"on", "Yes", "TRUE", "1"} {
		if on, err := ParseOnOff(v); !on || err != nil {
			t.Errorf("ParseOnOff(%q) = %v, %v", v, on, err)
		}
	}
}
