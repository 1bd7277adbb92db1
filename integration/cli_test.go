package integration

// The command line as a newcomer meets it: help, usage mistakes, and the first errors one makes (no fuse3, a
// kamakirc that is not there, a container that does not exist, a URL that is not the identity URL, an
// unreachable server, a second mount on a mountpoint). Each error is the exact line the user sees and exit 1.

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runPithosfs runs the binary with args (HOME a fresh directory, so no ~/.kamakirc), and returns its
// combined output and exit code.
func runPithosfs(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runCmd(t, exec.Command(pithosfsBinary(t), args...))
}

func runCmd(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "PITHOSFS_URL=", "PITHOSFS_TOKEN=")
	}
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not exit in 90s:\n%s", cmd.Args, out)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%v: %v", cmd.Args, err)
	return "", -1
}

// wantLine checks the output is exactly want (one line) and the exit code is code.
func wantLine(t *testing.T, what, out string, gotCode int, want string, code int) {
	t.Helper()
	if strings.TrimRight(out, "\n") != want || gotCode != code {
		t.Errorf("%s: exit %d, output:\n%s\nwant exit %d and exactly:\n%s", what, gotCode, out, code, want)
	}
}

func emptyDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCLIHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		out, code := runPithosfs(t, args...)
		if code != 0 || !strings.Contains(out, "usage: pithosfs") || !strings.Contains(out, "status") {
			t.Errorf("pithosfs %v: exit %d\n%s", args, code, out)
		}
	}
	for _, c := range []string{"mount", "unmount", "serve", "status", "version"} {
		for _, args := range [][]string{{"help", c}, {c, "--help"}} {
			out, code := runPithosfs(t, args...)
			if code != 0 || !strings.HasPrefix(out, "usage: pithosfs "+c) || !strings.Contains(out, "\nExample:\n  pithosfs ") {
				t.Errorf("pithosfs %v: exit %d, want 0 and usage, what it does, an example:\n%s", args, code, out)
			}
		}
	}
	out, code := runPithosfs(t, "mount")
	want := "pithosfs: mount needs a MOUNTPOINT\nusage: pithosfs mount [flags] [REMOTE] MOUNTPOINT\n" +
		"Run 'pithosfs help mount' for what it does, an example and its flags."
	wantLine(t, "mount without arguments", out, code, want, 2)

	out, code = runPithosfs(t, "version")
	if code != 0 || !strings.HasPrefix(out, "pithosfs ") || strings.Contains(out, "dev\n") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d: %s", code, out)
	}
}

func TestMountErrorNoFuse(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test hides fusermount3 with a bind mount in a private mount namespace, which needs root")
	}
	// In a private mount namespace, /dev/null (not executable) is bound over every fusermount there is.
	var binds []string
	for _, p := range []string{"/usr/bin/fusermount3", "/usr/bin/fusermount", "/bin/fusermount3", "/bin/fusermount"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			binds = append(binds, fmt.Sprintf("mount --bind /dev/null %s", p))
		}
	}
	script := strings.Join(binds, " && ") + ` && exec "$0" "$@"`
	if len(binds) == 0 {
		script = `exec "$0" "$@"`
	}
	mp := emptyDir(t)
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
		pithosfsBinary(t), "mount", "--local", "--local-data", t.TempDir(), "--cache-dir", t.TempDir(), mp)
	out, code := runCmd(t, cmd)
	wantLine(t, "no fusermount3", out, code, "pithosfs: fusermount3 not found: install fuse3 (apt-get install fuse3)", 1)
}

func TestMountErrorsBeforeMounting(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	mp := emptyDir(t)
	// A port nothing listens on: bound, then closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := l.Addr().String()
	l.Close()
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	// A web server that is not a cloud: 404 for everything.
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	cache := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"kamakirc missing, --daemon", []string{"--daemon", "--kamakirc", "/nonexistent/kamakirc", mp},
			"pithosfs: --kamakirc /nonexistent/kamakirc does not exist"},
		{"kamakirc missing, foreground", []string{"--kamakirc", "/nonexistent/kamakirc", mp},
			"pithosfs: --kamakirc /nonexistent/kamakirc does not exist"},
		{"no such container", []string{"--url", srv.identityURL(), "--token", alice.Token, "/NO_SUCH_CONTAINER", mp},
			`pithosfs: container "NO_SUCH_CONTAINER" does not exist (create it first, e.g. mkdir in a mount of the whole cloud)`},
		{"no scheme", []string{"--url", hostPort, "--token", alice.Token, mp},
			fmt.Sprintf("pithosfs: URL %q has no scheme: write it as https://%s (or http:// for a local server)", hostPort, hostPort)},
		{"unreachable", []string{"--url", "http://" + deadAddr + "/astakos/identity/v2.0", "--token", alice.Token, mp},
			"pithosfs: cannot reach http://" + deadAddr + "/astakos/identity/v2.0: connect: connection refused"},
		{"not an identity URL", []string{"--url", notFound.URL + "/nothing/here", "--token", alice.Token, mp},
			"pithosfs: cannot log in to " + notFound.URL + "/nothing/here: HTTP 404: Not Found (an identity URL usually ends in " +
				"/astakos/identity/v2.0 or /identity/v2.0; tried those too)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--log-level", "warn", "mount", "--cache-dir", cache}, tc.args...)
			out, code := runPithosfs(t, args...)
			wantLine(t, tc.name, out, code, tc.want, 1)
			if isMounted(mp) {
				t.Fatalf("%s is mounted after: %s", mp, out)
			}
		})
	}
}

// TestMountBaseURL: a base URL (no identity path) is tried with the well-known paths, and the one that
// worked is said; a second mount on the live mount says it is already mounted, with the daemon's pid.
func TestMountBaseURLAndAlreadyMounted(t *testing.T) {
	srv := startServe(t)
	m := startMount(t, mountArgs{URL: srv.URL, Token: alice.Token})
	want := "pithosfs: " + srv.URL + " is not an identity URL (HTTP 404); " + srv.identityURL() +
		" is: using it (put it in --url or the kamakirc to skip this)\n"
	if !strings.HasPrefix(m.stderrText(), want) {
		t.Errorf("base URL: stderr\n%s\nwant it to start with\n%s", m.stderrText(), want)
	}
	out, code := runPithosfs(t, "--log-level", "warn", "mount", "--url", srv.identityURL(), "--token", alice.Token,
		"--cache-dir", t.TempDir(), m.Dir)
	wantLine(t, "second mount", out, code, fmt.Sprintf("pithosfs: %s is already mounted (pid %d); unmount it first: pithosfs unmount %s",
		m.Dir, m.cmd.Process.Pid, m.Dir), 1)

	out, code = runPithosfs(t, "status")
	if code != 0 || !strings.Contains(out, m.Dir) || !strings.Contains(out, fmt.Sprint(m.cmd.Process.Pid)) ||
		!strings.Contains(out, srv.identityURL()) {
		t.Errorf("status: exit %d, want a line with %s, its pid and remote:\n%s", code, m.Dir, out)
	}
}

// TestMountLocalFallbackSaysSo: with nothing configured the embedded local cloud is mounted, and the
// terminal says so also with --daemon.
func TestMountLocalFallbackSaysSo(t *testing.T) {
	mp, data := emptyDir(t), t.TempDir()
	out, code := runPithosfs(t, "--log-level", "warn", "mount", "--daemon", "--local-data", data, "--cache-dir", t.TempDir(), mp)
	t.Cleanup(func() {
		if isMounted(mp) {
			if o, c := runPithosfs(t, "unmount", mp); c != 0 {
				t.Errorf("unmount: %s", o)
			}
		}
	})
	want := "pithosfs: no cloud configured (--url/--token, PITHOSFS_URL/PITHOSFS_TOKEN, ~/.kamakirc): using the embedded local cloud with data in " + data
	if code != 0 || !strings.HasPrefix(out, want+"\n") || !isMounted(mp) {
		t.Errorf("exit %d, mounted %v, output:\n%s\nwant it to start with:\n%s", code, isMounted(mp), out, want)
	}
}
