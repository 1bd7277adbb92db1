package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Operations tests: the mount helper from an fstab line, --daemon, pithosfs
// unmount, sd_notify, the metrics endpoint and the request log.

// pidFileFor is the pid file pithosfs mount (as root) writes for mp.
func pidFileFor(mp string) string {
	h := sha256.Sum256([]byte(mp))
	return filepath.Join("/run/pithosfs", hex.EncodeToString(h[:8])+".pid")
}

// readDaemonPid returns the pid recorded for mp.
func readDaemonPid(t *testing.T, mp string) int {
	t.Helper()
	data, err := os.ReadFile(pidFileFor(mp))
	if err != nil {
		t.Fatalf("pid file of %s: %v", mp, err)
	}
	pid, _, _ := strings.Cut(string(data), "\n")
	n, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatalf("pid file %q", data)
	}
	return n
}

// waitGone waits (bounded) for pid to exit.
func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for syscall.Kill(pid, 0) == nil {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still running after %s", pid, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forceUnmount clears mp at cleanup if a test left it mounted.
func forceUnmount(t *testing.T, mp string) {
	t.Cleanup(func() {
		if isMounted(mp) {
			t.Errorf("%s left mounted", mp)
			_ = exec.Command("fusermount3", "-u", "-z", mp).Run()
		}
	})
}

// objectSize HEADs an object of alice's and returns its size (-1: absent).
func objectSize(t *testing.T, s *serveProc, path string) int64 {
	t.Helper()
	resp, _ := doHTTP(t, s.http, http.MethodHead, s.objectURL(alice, path), alice.Token, nil, nil)
	if resp.StatusCode == http.StatusNotFound {
		return -1
	}
	if resp.StatusCode/100 != 2 {
		t.Fatalf("HEAD %s: %s", path, resp.Status)
	}
	return resp.ContentLength
}

// TestOpsMountHelperFstab installs mount.pithosfs, mounts a container
// through mount(8) from a temporary fstab line (cloud chosen by name from a
// kamakirc), uses it, unmounts with umount(8), and checks that the write
// reached the server and the daemon exited. Then mount -t pithosfs with -o
// ro refuses writes.
func TestOpsMountHelperFstab(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("mount.pithosfs tests need root (mount(8) looks for /sbin/mount.pithosfs)")
	}
	bin := pithosfsBinary(t)
	helper := "/sbin/mount.pithosfs"
	if old, err := os.Readlink(helper); err == nil {
		t.Cleanup(func() { _ = os.Remove(helper); _ = os.Symlink(old, helper) })
		_ = os.Remove(helper)
	} else {
		t.Cleanup(func() { _ = os.Remove(helper) })
	}
	if err := os.Symlink(bin, helper); err != nil {
		t.Fatal(err)
	}
	s := startServe(t)
	s.put(t, alice, "photos", nil, nil)
	s.put(t, alice, "photos/hello.txt", []byte("hello from the cloud\n"), nil)

	dir := t.TempDir()
	mp := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	forceUnmount(t, mp)
	rc := filepath.Join(dir, "kamakirc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("[global]\ndefault_cloud = other\n\n[cloud \"other\"]\nurl = http://127.0.0.1:1/x\ntoken = nope\n\n[cloud \"test\"]\nurl = %s\ntoken = %s\n",
		s.identityURL(), alice.Token)), 0o600); err != nil {
		t.Fatal(err)
	}
	fstab := filepath.Join(dir, "fstab")
	line := fmt.Sprintf("pithos:/photos %s pithosfs _netdev,noauto,user,rw,cloud=test,kamakirc=%s,cache_dir=%s,allow_other,log_level=debug 0 0\n",
		mp, rc, filepath.Join(dir, "cache"))
	if err := os.WriteFile(fstab, []byte("# test fstab\n"+line), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := sh(t, "mount -T "+shq(fstab)+" "+shq(mp)+" 2>&1")
	t.Logf("mount from fstab took %s: %s", time.Since(start), out)
	// mount(8) has returned: the mount answers now.
	if got := sh(t, "cat "+shq(mp+"/hello.txt")); got != "hello from the cloud\n" {
		t.Fatalf("hello.txt through the helper mount: %q", got)
	}
	if mi := sh(t, "grep ' "+mp+" ' /proc/self/mountinfo"); !strings.Contains(mi, "fuse.pithosfs") || !strings.Contains(mi, "allow_other") {
		t.Errorf("mountinfo: %s", mi)
	}
	pid := readDaemonPid(t, mp)
	sh(t, "head -c 9000000 /dev/urandom > "+shq(mp+"/big.bin"))
	out = sh(t, "umount "+shq(mp)+" 2>&1")
	waitGone(t, pid, 60*time.Second)
	if isMounted(mp) {
		t.Fatalf("still mounted after umount: %s", out)
	}
	if got := objectSize(t, s, "photos/big.bin"); got != 9000000 {
		t.Errorf("big.bin on the server: %d bytes", got)
	}
	if _, err := os.Stat(pidFileFor(mp)); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "cache", "pithosfs.log")); bytes.Contains(log, []byte(alice.Token)) {
		t.Errorf("the daemon's log holds the token")
	}

	// mount -t pithosfs with explicit options; ro refuses writes.
	sh(t, fmt.Sprintf("mount -t pithosfs -o ro,cloud=test,kamakirc=%s,cache_dir=%s pithos:/photos %s 2>&1", shq(rc), shq(filepath.Join(dir, "cache")), shq(mp)))
	pid = readDaemonPid(t, mp)
	if _, err := shErr("echo x > " + shq(mp+"/new.txt")); err == nil {
		t.Error("write to a read-only mount succeeded")
	}
	if got := sh(t, "cat "+shq(mp+"/big.bin")+" | wc -c"); strings.TrimSpace(got) != "9000000" {
		t.Errorf("big.bin read back: %s", got)
	}
	sh(t, "umount "+shq(mp))
	waitGone(t, pid, 60*time.Second)

	// A bad option fails mount(8) with the helper's message; nothing mounted.
	out, err := shErr(fmt.Sprintf("mount -t pithosfs -o frobnicate pithos:/photos %s 2>&1", shq(mp)))
	if err == nil || !strings.Contains(out, "frobnicate") || isMounted(mp) {
		t.Errorf("bad option: %v %s", err, out)
	}
}

// TestOpsDaemonAndUnmount: --daemon returns only when the mount answers;
// pithosfs unmount flushes a pending write and waits for the daemon; a bad
// token fails the parent with the child's reason.
func TestOpsDaemonAndUnmount(t *testing.T) {
	bin := pithosfsBinary(t)
	s := startServe(t)
	s.put(t, alice, "docs", nil, nil)
	s.put(t, alice, "docs/a.txt", []byte("A"), nil)
	dir := t.TempDir()
	mp := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	forceUnmount(t, mp)
	cache := filepath.Join(dir, "cache")

	// Wrong token: the parent reports the child's reason and fails.
	cmd := exec.Command(bin, "mount", "--daemon", "--url", s.identityURL(), "--token", "wrong-token", "--cache-dir", cache, mp)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "401") || isMounted(mp) {
		t.Fatalf("bad token: %v %s", err, out)
	}
	if strings.Contains(string(out), "wrong-token") {
		t.Errorf("the token is in the error: %s", out)
	}

	cmd = exec.Command(bin, "mount", "--daemon", "--url", s.identityURL(), "--token", alice.Token, "--cache-dir", cache, "/docs", mp)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount --daemon: %v %s", err, out)
	}
	// No waiting: the mount answers as soon as the parent returned.
	if got, err := os.ReadFile(filepath.Join(mp, "a.txt")); err != nil || string(got) != "A" {
		t.Fatalf("a.txt right after --daemon returned: %q %v", got, err)
	}
	pid := readDaemonPid(t, mp)
	if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); bytes.Contains(cmdline, []byte(alice.Token)) {
		t.Errorf("the daemon's command line shows the token: %q", cmdline)
	}
	// A file being written when unmount is asked for: the writer holds it
	// open (not yet committed) while unmount runs, then closes.
	f, err := os.Create(filepath.Join(mp, "late.bin"))
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(6 << 20)
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	un := exec.Command(bin, "unmount", mp)
	un.Env = append(os.Environ(), "HOME="+dir)
	out, err = un.CombinedOutput()
	if err != nil {
		t.Fatalf("pithosfs unmount: %v %s", err, out)
	}
	if syscall.Kill(pid, 0) == nil {
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); !bytes.Contains(st, []byte(") Z")) {
			t.Errorf("pithosfs unmount returned while the daemon (pid %d) runs", pid)
		}
	}
	if isMounted(mp) {
		t.Fatal("still mounted after pithosfs unmount")
	}
	if got := objectSize(t, s, "docs/late.bin"); got != int64(len(data)) {
		t.Errorf("late.bin on the server: %d bytes", got)
	}
	if !strings.Contains(string(out), "every write committed") {
		t.Errorf("unmount output: %s", out)
	}
	// Nothing mounted: unmount says so and fails.
	un = exec.Command(bin, "unmount", mp)
	if out, err := un.CombinedOutput(); err == nil || !strings.Contains(string(out), "not mounted") {
		t.Errorf("second unmount: %v %s", err, out)
	}
}

// TestOpsSystemdNotify runs a foreground mount the way a Type=notify unit
// does and checks READY=1 arrives once the mount answers, STOPPING=1 at
// SIGTERM.
func TestOpsSystemdNotify(t *testing.T) {
	bin := pithosfsBinary(t)
	s := startServe(t)
	s.put(t, alice, "c", nil, nil)
	dir := t.TempDir()
	mp := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	forceUnmount(t, mp)
	sock := filepath.Join(dir, "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(bin, "mount", "--url", s.identityURL(), "--token", alice.Token, "--cache-dir", filepath.Join(dir, "cache"), "/c", mp)
	cmd.Env = append(os.Environ(), "HOME="+dir, "NOTIFY_SOCKET="+sock)
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	buf := make([]byte, 512)
	_ = ln.SetReadDeadline(time.Now().Add(60 * time.Second))
	n, err := ln.Read(buf)
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("no READY=1: %v", err)
	}
	msg := string(buf[:n])
	if !strings.Contains(msg, "READY=1") || !strings.Contains(msg, fmt.Sprintf("MAINPID=%d", cmd.Process.Pid)) {
		t.Errorf("notification %q", msg)
	}
	if !isMounted(mp) {
		t.Error("READY=1 before the mount was there")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = ln.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err = ln.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "STOPPING=1") {
		t.Errorf("STOPPING: %q %v", buf[:n], err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mount exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("mount did not exit after SIGTERM")
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// scrapeValue returns the sum of the samples of series (a metric name
// with an optional label filter substring) in a Prometheus exposition.
func scrapeValue(text, name, labelPart string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if labelPart != "" && !strings.Contains(line, labelPart) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}

// TestOpsMetricsAndLogs scrapes /metrics after copies through the mount
// (the second copy of the same bytes uploads no block: dedup savings), and
// checks the debug request log names path, status and request id but never
// the token; a non-loopback metrics address is refused.
func TestOpsMetricsAndLogs(t *testing.T) {
	s := startServe(t)
	s.put(t, alice, "m", nil, nil)
	src := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(src, randomBytes(9<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	m := startMount(t, mountArgs{URL: s.identityURL(), Token: alice.Token,
		Extra: []string{"--log-level=debug", "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port)}})
	acct := filepath.Join(m.Dir, alice.Name, "m")
	sh(t, fmt.Sprintf("cp %s %s/one.bin && cp %s %s/two.bin && cat %s/one.bin > /dev/null && ls -l %s > /dev/null",
		shq(src), shq(acct), shq(src), shq(acct), shq(acct), shq(acct)))
	uploads, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "uploads", "status"))
	if err != nil || !strings.Contains(string(uploads), "no pending uploads") {
		t.Errorf(".pithosfs/uploads/status: %q %v", uploads, err)
	}
	if j, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "uploads.json")); err != nil || strings.TrimSpace(string(j)) != "[]" {
		t.Errorf(".pithosfs/uploads.json: %q %v", j, err)
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	checks := []struct {
		name, labels string
		min          float64
	}{
		{"pithosfs_requests_total", `service="object-store"`, 5},
		{"pithosfs_requests_total", `verb="PUT"`, 2},
		{"pithosfs_requests_total", `service="identity"`, 1},
		{"pithosfs_bytes_total", `direction="up"`, 9 << 20},
		{"pithosfs_dedup_saved_bytes_total", "", 9 << 20}, // two.bin: every block already there
		{"pithosfs_commit_duration_seconds_count", `kind="hashmap"`, 2},
		{"pithosfs_commits_total", "", 2},
		{"pithosfs_cache_lookups_total", "", 0},
		{"pithosfs_pending_commits", `state="dirty"`, 0},
		{"process_resident_memory_bytes", "", 1 << 20},
	}
	for _, c := range checks {
		v, ok := scrapeValue(text, c.name, c.labels)
		if !ok || v < c.min {
			t.Errorf("%s{%s} = %v (found %v), want ≥ %v", c.name, c.labels, v, ok, c.min)
		}
	}
	if v, _ := scrapeValue(text, "pithosfs_dedup_saved_bytes_total", ""); v > 2*(9<<20) {
		t.Errorf("dedup savings %v exceed what was committed", v)
	}
	m.unmount(t)
	logText := m.stderrText()
	if strings.Contains(logText, alice.Token) {
		t.Errorf("the token is in the log")
	}
	if !strings.Contains(logText, "request_id") || !strings.Contains(logText, `"path"`) && !strings.Contains(logText, "/m/one.bin") {
		t.Errorf("request log lacks ids or paths:\n%.2000s", logText)
	}

	// A metrics address off loopback is refused before mounting.
	dir := t.TempDir()
	cmd := exec.Command(pithosfsBinary(t), "mount", "--url", s.identityURL(), "--token", alice.Token, "--cache-dir", filepath.Join(dir, "c"),
		"--metrics-addr", "0.0.0.0:0", dir)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "loopback") {
		t.Errorf("0.0.0.0 metrics: %v %s", err, out)
	}
}
