package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runMountCmd runs `pithosfs mount args…` expecting it to fail, and returns its stderr.
func runMountCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(pithosfsBinary(t), append([]string{"mount"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("pithosfs mount %v did not exit", args)
	}
	if err == nil {
		t.Fatalf("pithosfs mount %v succeeded, want an error", args)
	}
	return string(out)
}

// TestMountBadInput: a wrong token, a missing mountpoint and a non-empty one each fail at start with one
// clear line, and leave nothing mounted.
func TestMountBadInput(t *testing.T) {
	srv := startServe(t)
	mp := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	out := runMountCmd(t, "--url", srv.identityURL(), "--token", "wrong-token", "--cache-dir", t.TempDir(), mp)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.Contains(out, srv.identityURL()) || !strings.Contains(out, "401") {
		t.Errorf("wrong token: want one line naming the URL and 401, got:\n%s", out)
	}
	if isMounted(mp) {
		t.Fatalf("%s mounted after a failed login", mp)
	}

	out = runMountCmd(t, "--url", srv.identityURL(), "--token", alice.Token, filepath.Join(mp, "missing"))
	if !strings.Contains(out, "does not exist") {
		t.Errorf("missing mountpoint: %s", out)
	}
	if err := os.WriteFile(filepath.Join(mp, "stray"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = runMountCmd(t, "--url", srv.identityURL(), "--token", alice.Token, mp)
	if !strings.Contains(out, "not empty") {
		t.Errorf("non-empty mountpoint: %s", out)
	}
	if isMounted(mp) {
		t.Fatalf("%s mounted", mp)
	}
}

// TestMountStaleMountpoint: after the daemon is killed the mountpoint is stale ("transport endpoint is not
// connected"); a new mount there clears it and works.
func TestMountStaleMountpoint(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	srv.put(t, alice, "c/f", []byte("hello\n"), nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	_ = m.cmd.Process.Kill()
	<-m.done
	if _, err := os.ReadDir(m.Dir); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("readdir after kill -9: %v, want ENOTCONN", err)
	}
	// Mount again at the same place.
	m2 := startMountAt(t, m.Dir, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	if got := sh(t, "cat "+shq(filepath.Join(m2.Dir, alice.Name, "c", "f"))); got != "hello\n" {
		t.Fatalf("cat after clearing the stale mount: %q", got)
	}
	if !strings.Contains(m2.stderrText(), "stale mount") {
		t.Errorf("no message about the stale mount:\n%s", m2.stderrText())
	}
}

// TestMountServerDownMidRead: with a file open, the server goes away; a read of a block not cached fails
// with EIO (after the client's retries), the mount stays up, and reads work again once the server is back.
func TestMountServerDownMidRead(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	data := randomBytes(10 << 20)
	srv.put(t, alice, "c/f", data, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	p := filepath.Join(m.Dir, alice.Name, "c", "f")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	start := time.Now()
	_, err = f.ReadAt(buf, 9<<20) // block 2, never read: not cached, not prefetched after a seek
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read with the server down: %v, want EIO", err)
	}
	t.Logf("EIO after %v", time.Since(start))
	if !isMounted(m.Dir) {
		t.Fatal("mount gone after a failed read")
	}
	srv.start(t)
	if _, err := f.ReadAt(buf, 9<<20); err != nil {
		t.Fatalf("read after the server came back: %v", err)
	}
	if string(buf) != string(data[9<<20:9<<20+4096]) {
		t.Fatal("wrong bytes after the server came back")
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != string(data) {
		t.Fatalf("reading the whole file again: %v", err)
	}
}

// TestMountServerGoneListsFromLast: the server goes away (connection refused) after the mount listed a
// directory, and the listing expires: `ls -l` of that directory answers at once from the last listing
// (logged once at warn), a directory never listed fails at once with EIO, and a file's contents are not
// served stale (cat fails with EIO). Once the server is back, listings are fresh again. (Each listing
// waited for the client's retries before, 4–5 s, and failed: `ls -l` of a subdirectory took 9.5 s.)
func TestMountServerGoneListsFromLast(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	srv.put(t, alice, "c/d/f", []byte("f\n"), nil)
	srv.put(t, alice, "c/d/g", []byte("g\n"), nil)
	srv.put(t, alice, "c/e/x", []byte("x\n"), nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/c",
		Extra: []string{"--list-ttl", "1s", "--attr-ttl", "1s"}})
	d, e := filepath.Join(m.Dir, "d"), filepath.Join(m.Dir, "e")
	before := sh(t, "ls -l "+shq(d)+" | tail -n +2 | awk '{print $5, $9}'")
	if before != "2 f\n2 g\n" {
		t.Fatalf("ls -l d: %q", before)
	}
	srv.stop()
	time.Sleep(2500 * time.Millisecond) // the listings and the kernel's entries expire
	timed := func(what, script string) (string, time.Duration, error) {
		start := time.Now()
		out, err := shErr(script)
		took := time.Since(start)
		t.Logf("%s with the server gone: %v, %v", what, took.Round(time.Millisecond), err)
		return out, took, err
	}
	for i := range 2 {
		out, took, err := timed("ls -l d", "ls -l "+shq(d)+" | tail -n +2 | awk '{print $5, $9}'")
		if err != nil || out != before {
			t.Fatalf("ls -l d (%d) with the server gone: %q, %v; want %q from the last listing", i, out, err, before)
		}
		if took > 2*time.Second {
			t.Errorf("ls -l d (%d) with the server gone took %v, want at once", i, took)
		}
	}
	if _, took, err := timed("ls e", "ls "+shq(e)); err == nil {
		t.Error("ls of a directory never listed succeeded with the server gone")
	} else if took > 2*time.Second {
		t.Errorf("ls of a directory never listed took %v, want at once", took)
	}
	if _, err := os.ReadDir(e); !errors.Is(err, syscall.EIO) {
		t.Errorf("readdir of a directory never listed with the server gone: %v, want EIO", err)
	}
	if _, err := os.ReadFile(filepath.Join(d, "f")); !errors.Is(err, syscall.EIO) {
		t.Errorf("cat d/f with the server gone: %v, want EIO (no stale contents)", err)
	}
	if n := strings.Count(m.stderrText(), "answering from the directory's last listing"); n < 1 || n > 2 {
		t.Errorf("stale answers logged %d times, want once per directory (d, and the root)\n%s", n, m.stderrText())
	}
	srv.start(t)
	srv.put(t, alice, "c/d/h", []byte("h\n"), nil)
	time.Sleep(1500 * time.Millisecond)
	if got := sh(t, "ls "+shq(d)); got != "f\ng\nh\n" {
		t.Errorf("ls d with the server back: %q", got)
	}
}
