package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRemote(t *testing.T) {
	cases := []struct {
		in      string
		want    remoteSpec
		wantErr bool
	}{
		{"", remoteSpec{}, false},
		{"/photos", remoteSpec{Container: "photos"}, false},
		{"/photos/2024/summer/", remoteSpec{Container: "photos", Prefix: "2024/summer"}, false},
		{"pithos://bob@example.org/shared/docs", remoteSpec{Account: "bob@example.org", Container: "shared", Prefix: "docs"}, false},
		{"pithos://uuid-1", remoteSpec{Account: "uuid-1"}, false},
		{"pithos:///c", remoteSpec{}, true},
		{"photos", remoteSpec{}, true},
		{"pithos:/photos/2024", remoteSpec{Container: "photos", Prefix: "2024"}, false},
		{"pithos:", remoteSpec{}, false},
		{"pithos", remoteSpec{}, false},
	}
	for _, c := range cases {
		got, err := parseRemote(c.in)
		if (err != nil) != c.wantErr || (!c.wantErr && got != c.want) {
			t.Errorf("parseRemote(%q) = %+v, %v; want %+v (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"256MiB": 256 << 20, "10G": 10 << 30, "4096": 4096, "1.5k": 1536, "2TB": 2 << 40}
	for in, want := range cases {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseSize("lots"); err == nil {
		t.Error("parseSize(lots) succeeded")
	}
}

func TestResolveCloud(t *testing.T) {
	home := t.TempDir()
	rc := "[global]\ndefault_cloud = work\n\n[cloud \"work\"]\nurl = https://accounts.example.org/identity/v2.0\ntoken = tok-work\n\n" +
		"[cloud \"home\"]\nurl = https://home.example.org/identity/v2.0\ntoken = tok-home\n"
	if err := os.WriteFile(filepath.Join(home, ".kamakirc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	got, found, err := resolveCloud(cloudFlags{URL: "http://flag", Token: "t"}, getenv, filepath.Join(home, ".kamakirc"))
	if err != nil || !found || got.URL != "http://flag" || got.Source != "command line" {
		t.Errorf("flags: %+v %v %v", got, found, err)
	}
	if _, _, err := resolveCloud(cloudFlags{URL: "http://flag"}, getenv, filepath.Join(home, ".kamakirc")); err == nil {
		t.Error("--url without --token accepted")
	}
	env["PITHOSFS_URL"], env["PITHOSFS_TOKEN"] = "http://env", "te"
	if got, _, _ := resolveCloud(cloudFlags{}, getenv, filepath.Join(home, ".kamakirc")); got.URL != "http://env" || got.Token != "te" {
		t.Errorf("environment: %+v", got)
	}
	delete(env, "PITHOSFS_URL")
	delete(env, "PITHOSFS_TOKEN")
	if got, _, _ := resolveCloud(cloudFlags{}, getenv, filepath.Join(home, ".kamakirc")); got.Token != "tok-work" {
		t.Errorf("kamakirc default_cloud: %+v", got)
	}
	if got, _, _ := resolveCloud(cloudFlags{Cloud: "home"}, getenv, filepath.Join(home, ".kamakirc")); got.Token != "tok-home" {
		t.Errorf("kamakirc --cloud home: %+v", got)
	}
	if _, _, err := resolveCloud(cloudFlags{Cloud: "nope"}, getenv, filepath.Join(home, ".kamakirc")); err == nil {
		t.Error("unknown --cloud accepted")
	}
	if _, found, err := resolveCloud(cloudFlags{}, getenv, filepath.Join(t.TempDir(), ".kamakirc")); found || err != nil {
		t.Errorf("nothing configured: found=%v err=%v, want the embedded cloud", found, err)
	}
	if _, _, err := resolveCloud(cloudFlags{KamakircGiven: true}, getenv, filepath.Join(t.TempDir(), "missing.rc")); err == nil ||
		!strings.Contains(err.Error(), "does not exist") {
		t.Errorf("--kamakirc of a missing file: %v, want an error", err)
	}
	two := strings.Replace(rc, "[global]\ndefault_cloud = work\n", "", 1)
	if err := os.WriteFile(filepath.Join(home, "two.rc"), []byte(two), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := resolveCloud(cloudFlags{}, getenv, filepath.Join(home, "two.rc")); err == nil || !strings.Contains(err.Error(), "--cloud") {
		t.Errorf("two clouds, no default: %v, want an error naming --cloud", err)
	}
	swift := cloudConfig{URL: "http://127.0.0.1:8081/auth/v1.0"}
	if !swift.swift() {
		t.Error("a /auth/v1.0 URL is Swift")
	}
}

func TestIdentityCandidates(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"http://h:1", []string{"http://h:1/astakos/identity/v2.0", "http://h:1/identity/v2.0"}},
		{"http://h:1/", []string{"http://h:1/astakos/identity/v2.0", "http://h:1/identity/v2.0"}},
		{"http://h:1/foo", []string{"http://h:1/foo/astakos/identity/v2.0", "http://h:1/foo/identity/v2.0",
			"http://h:1/astakos/identity/v2.0", "http://h:1/identity/v2.0"}},
		{"http://h:1/astakos/identity/v2.0", []string{"http://h:1/identity/v2.0"}},
	} {
		if got := identityCandidates(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("identityCandidates(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://h/astakos/identity/v2.0", ""},
		{"127.0.0.1:18090", `URL "127.0.0.1:18090" has no scheme: write it as https://127.0.0.1:18090 (or http:// for a local server)`},
		{"ftp://h/x", `URL "ftp://h/x": the scheme must be http or https, not ftp`},
		{"http:///x", `URL "http:///x" has no host`},
	} {
		err := checkURL(tc.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("checkURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
