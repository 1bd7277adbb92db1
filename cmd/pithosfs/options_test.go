package main

import (
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
)

var update = flag.Bool("update", false, "rewrite docs/options.md from the option table")

// TestOptionsDoc keeps docs/options.md generated from the option table.
func TestOptionsDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "options.md")
	want := optionsMarkdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("docs/options.md is out of date: run go test ./cmd/pithosfs -run TestOptionsDoc -update")
	}
	// Every option appears as a flag and an -o name.
	for _, o := range optionTable() {
		if !strings.Contains(want, "`--"+o.Name+"`") {
			t.Errorf("option %s missing from the docs", o.Name)
		}
	}
}

func TestOptionTableMakesFlags(t *testing.T) {
	fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var o mountOptions
	registerOptions(fl, &o)
	seen := map[string]bool{}
	for _, opt := range optionTable() {
		if seen[opt.Name] {
			t.Errorf("option %s twice", opt.Name)
		}
		seen[opt.Name] = true
		if fl.Lookup(opt.Name) == nil {
			t.Errorf("no flag for %s", opt.Name)
		}
	}
	if o.CacheMem != "96MiB" || o.AttrTTL != time.Second || o.ListTTL != 5*time.Second || o.LogLevel != "info" || o.Daemon {
		t.Errorf("defaults: %+v", o)
	}
	if err := fl.Parse([]string{"--cache-mem=1G", "--attr-ttl=3s", "--readahead=4", "--allow-other", "x", "y"}); err != nil {
		t.Fatal(err)
	}
	if o.CacheMem != "1G" || o.AttrTTL != 3*time.Second || o.Readahead != 4 || !o.AllowOther {
		t.Errorf("parsed: %+v", o)
	}
}

func TestApplyMountOpts(t *testing.T) {
	cases := []struct {
		list    string
		check   func(o mountOptions) bool
		wantErr bool
	}{
		{"_netdev,cloud=work,allow_other", func(o mountOptions) bool { return o.Cloud == "work" && o.AllowOther }, false},
		{"rw,noauto,user,nofail,x-systemd.automount,comment=x,defaults,noatime", func(o mountOptions) bool { return true }, false},
		{"user=test:tester", func(o mountOptions) bool { return o.User == "test:tester" }, false},
		{"ro", func(o mountOptions) bool { return o.ReadOnly }, false},
		{"cache_mem=64MiB,attr-ttl=2s,readahead=2", func(o mountOptions) bool {
			return o.CacheMem == "64MiB" && o.AttrTTL == 2*time.Second && o.Readahead == 2
		}, false},
		{"metrics_addr=127.0.0.1:9464,foreground", func(o mountOptions) bool { return o.MetricsAddr == "127.0.0.1:9464" && o.Foreground }, false},
		{"daemon=false", func(o mountOptions) bool { return !o.Daemon }, false},
		{"frobnicate", nil, true},
		{"cloud", nil, true},         // needs a value
		{"attr_ttl=soon", nil, true}, // bad duration
	}
	for _, c := range cases {
		fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var o mountOptions
		registerOptions(fl, &o)
		_ = fl.Set("daemon", "true")
		err := applyMountOpts(fl, c.list)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.list, err, c.wantErr)
			continue
		}
		if err == nil && !c.check(o) {
			t.Errorf("%q: options %+v", c.list, o)
		}
	}
}

func TestParseHelperArgs(t *testing.T) {
	h, err := parseHelperArgs([]string{"pithos:/photos", "/mnt/x", "-o", "rw,cloud=w", "-n", "-t", "pithosfs", "-ocache_mem=1G", "--log-level=debug"})
	if err != nil {
		t.Fatal(err)
	}
	if h.spec != "pithos:/photos" || h.dir != "/mnt/x" || len(h.opts) != 2 || h.opts[1] != "cache_mem=1G" || h.flags[0] != "--log-level=debug" || h.fake {
		t.Errorf("%+v", h)
	}
	if h, err := parseHelperArgs([]string{"-fv", "pithos", "/m"}); err != nil || !h.fake {
		t.Errorf("-fv: %+v %v", h, err)
	}
	for _, bad := range [][]string{{"onlyone"}, {"a", "b", "-o"}, {"a", "b", "-q"}, {"a", "b", "-N", "ns"}} {
		if _, err := parseHelperArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !isMountHelper("/sbin/mount.pithosfs") || !isMountHelper("mount.fuse.pithosfs") || isMountHelper("pithosfs") {
		t.Error("isMountHelper")
	}
}

func TestSdNotify(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := sdNotify(sock, "READY=1\nSTATUS=ok"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	_ = ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := ln.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1\nSTATUS=ok" {
		t.Fatalf("got %q, %v", buf[:n], err)
	}
	if err := sdNotify("", "READY=1"); err != nil {
		t.Errorf("no socket: %v", err)
	}
	if err := sdNotify(filepath.Join(dir, "absent"), "READY=1"); err == nil {
		t.Error("absent socket: no error")
	}
	// Abstract socket ("@name").
	name := "pithosfs-test-" + filepath.Base(dir)
	aln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "\x00" + name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer aln.Close()
	if err := sdNotify("@"+name, "READY=1"); err != nil {
		t.Fatal(err)
	}
	_ = aln.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := aln.Read(buf); err != nil || string(buf[:n]) != "READY=1" {
		t.Fatalf("abstract: %q %v", buf[:n], err)
	}
}

func TestReadinessPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rd := &readiness{pipe: w}
	rd.fail(errors.New("cannot log in to http://x: HTTP 401:\nbad token"))
	rd.ready("ignored: already answered")
	data := make([]byte, 200)
	n, _ := r.Read(data)
	if got := string(data[:n]); got != "error: cannot log in to http://x: HTTP 401: bad token\n" {
		t.Errorf("pipe got %q", got)
	}
	if newReadiness(func(string) string { return "" }).daemonChild() {
		t.Error("daemon child without the environment")
	}
}

func TestPidFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run", "x.pid")
	if err := writePidFile(p, "/mnt/a b", "http://h/astakos/identity/v2.0 /c"); err != nil {
		t.Fatal(err)
	}
	info, err := readPidFile(p)
	if err != nil || info.PID != os.Getpid() || info.Mountpoint != "/mnt/a b" || info.Remote != "http://h/astakos/identity/v2.0 /c" {
		t.Fatalf("%+v %v", info, err)
	}
	if defaultPidFile("/mnt/a") == defaultPidFile("/mnt/b") {
		t.Error("pid files collide")
	}
	if got := unescapeMountinfo(`/mnt/a\040b\134c`); got != `/mnt/a b\c` {
		t.Errorf("unescape: %q", got)
	}
	if m, err := isMounted("/proc"); err != nil || !m {
		t.Errorf("/proc mounted: %v %v", m, err)
	}
	if m, _ := isMounted(t.TempDir()); m {
		t.Error("a temp dir is not a mount point")
	}
	if !isPithosfs(os.Getpid()) == strings.Contains(filepath.Base(os.Args[0]), "pithosfs") {
		t.Error("isPithosfs of the test binary")
	}
}

func TestLoggerRedactsToken(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	file := filepath.Join(t.TempDir(), "log")
	secrets := &secretSet{}
	secrets.add(token)
	secrets.add("ab") // too short to redact
	for _, format := range []string{"console", "json"} {
		log, err := newLogger("debug", format, file, secrets)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("login with "+token, zap.String("url", "http://h/x?X-Auth-Token="+token),
			zap.Error(errors.New("server said: token "+token+" unknown")))
		log.With(zap.String("token", token)).Warn("child logger")
		_ = log.Sync()
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) || strings.Count(string(data), "REDACTED") < 8 {
		t.Errorf("log:\n%s", data)
	}
	if got := redact("a "+token+" b", token); got != "a REDACTED b" {
		t.Errorf("redact: %q", got)
	}
	if _, err := newLogger("loud", "console", "", nil); err == nil {
		t.Error("bad level accepted")
	}
}
