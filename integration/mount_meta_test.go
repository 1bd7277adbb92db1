package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMountLsXattrProbes: ls -l of a directory asks the daemon for the SELinux label and the ACL of the
// first entry only (the mount answers EOPNOTSUPP for every namespace but user.*, which ls remembers for the
// device), not two GETXATTR round trips per entry; user.* xattrs still work on the same files.
func TestMountLsXattrProbes(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "px", nil, nil)
	const n = 200
	putMany(t, srv, alice, "px", "d/o%04d", n)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	dir := filepath.Join(m.Dir, alice.Name, "px", "d")
	sh(t, "stat "+shq(dir)+" >/dev/null")
	before := m.stats(t)
	out := sh(t, "ls -l "+shq(dir))
	after := m.stats(t)
	if got := strings.Count(out, "\n-rw-r--r-- "); got != n {
		t.Fatalf("ls -l shows %d files, want %d", got, n)
	}
	if g := after.Getxattrs - before.Getxattrs; g > 4 {
		t.Errorf("ls -l of %d files made %d GETXATTR requests, want ≤ 4 (ENOTSUP once per run)", n, g)
	}
	f := filepath.Join(dir, "o0007")
	for _, name := range []string{"security.selinux", "system.posix_acl_access", "security.capability", "trusted.x"} {
		if _, err := syscall.Getxattr(f, name, make([]byte, 64)); err != syscall.EOPNOTSUPP {
			t.Errorf("getxattr %s: %v, want EOPNOTSUPP", name, err)
		}
	}
	if err := syscall.Setxattr(f, "user.k", []byte("v"), 0); err != nil {
		t.Fatalf("setxattr user.k: %v", err)
	}
	buf := make([]byte, 16)
	if n, err := syscall.Getxattr(f, "user.k", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("getxattr user.k: %q, %v", buf[:n], err)
	}
	if _, err := syscall.Getxattr(f, "user.none", buf); err != syscall.ENODATA {
		t.Errorf("getxattr user.none: %v, want ENODATA", err)
	}
	t.Logf("ls -l of %d files: %d GETXATTR requests", n, after.Getxattrs-before.Getxattrs)
}

// TestMountLookupLargeDirProbes: in a directory of more than 1 000 entries, a name missing from the
// cached listing is looked up by itself once the attribute TTL has passed (a HEAD, then a one-entry
// listing for a directory), not by listing the whole directory again: files created in it (each
// open(O_CREAT) looks the new name up first) cost no relisting, and an object or directory created
// behind the mount still shows at the next lookup. While the mount itself creates files in the
// directory, a new name is absent without any request.
func TestMountLookupLargeDirProbes(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "pr", nil, nil)
	putMany(t, srv, alice, "pr", "d/o%04d", 1200)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--list-ttl", "60s"}})
	dir := filepath.Join(m.Dir, alice.Name, "pr", "d")
	if got := strings.Count(sh(t, "ls "+shq(dir)), "\n"); got != 1200 {
		t.Fatalf("ls shows %d entries", got)
	}
	srv.put(t, alice, "pr/d/behind", []byte("made elsewhere"), nil)
	srv.put(t, alice, "pr/d/sub/x", []byte("x"), nil)
	before := m.stats(t)
	waitUntil(t, 10*time.Second, func() bool {
		_, e1 := os.Stat(filepath.Join(dir, "behind"))
		fi, e2 := os.Stat(filepath.Join(dir, "sub"))
		return e1 == nil && e2 == nil && fi.IsDir()
	})
	probed := m.stats(t)
	if h := probed.RequestsByKind["head_object"] - before.RequestsByKind["head_object"]; h == 0 {
		t.Error("no HEAD: the missing names were not probed")
	}
	if down := probed.BytesDown - before.BytesDown; down > 60_000 {
		t.Errorf("the probes fetched %d bytes: the directory was listed again", down)
	}

	// While a mount writes into the directory, new names are absent without a request (the commits are
	// conditional): at most the first file's probe, once the listing is older than the attribute TTL.
	// The rule is "this mount changed the directory less than --attr-ttl ago": a second mount with an
	// attribute TTL of 4 s, so that a loaded machine's pauses between two creations stay well inside it
	// (with 1 s, a pause under a load of 40 let a name be probed).
	const attrTTL = 4 * time.Second
	m2 := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--list-ttl", "60s", "--attr-ttl", attrTTL.String()}})
	dir2 := filepath.Join(m2.Dir, alice.Name, "pr", "d")
	if got := strings.Count(sh(t, "ls "+shq(dir2)), "\n"); got != 1202 {
		t.Fatalf("the second mount's ls shows %d entries, want 1202", got)
	}
	time.Sleep(attrTTL + 200*time.Millisecond) // the listing is now older than the attribute TTL
	mid := m2.stats(t)
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(dir2, fmt.Sprintf("new%02d", i)), fmt.Appendf(nil, "%d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	after := m2.stats(t)
	if other := after.Requests["HEAD"] + after.Requests["GET"] - mid.Requests["HEAD"] - mid.Requests["GET"]; other > 4 {
		t.Errorf("20 new files in a directory being written: %d HEAD/GET requests, want ≤ 4 (%v -> %v)", other, mid.RequestsByKind, after.RequestsByKind)
	}
	if got := string(srv.get(t, alice, "pr/d/new07")); got != "7\n" {
		t.Errorf("new07 on the server: %q", got)
	}
	// A listing of the 1 200 entries is ~250 KB of JSON; the probes and 20 commits fetch far less.
	if down := after.BytesDown - mid.BytesDown; down > 60_000 {
		t.Errorf("the lookups fetched %d bytes: the directory was listed again", down)
	}
}

// waitUntil polls cond until it holds, failing the test after within.
func waitUntil(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMountAsyncClose: with --async-close-max, close() of a small new file returns before its upload, which
// runs in the background: cp -r of many small files ends with every file on the server (one PUT each),
// they read back through the mount at once, an unlink right after close() leaves nothing on the server, a
// rename right after close() moves the file, and a file above the limit is on the server when close()
// returns.
func TestMountAsyncClose(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "ac", nil, nil)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := range n {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), []byte(strings.Repeat(fmt.Sprint(i), 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--async-close-max", "64KiB"}})
	c := filepath.Join(m.Dir, alice.Name, "ac")
	before := m.stats(t)
	sh(t, "cp -r "+shq(src)+" "+shq(filepath.Join(c, "dst")))
	if out := sh(t, "diff -r "+shq(src)+" "+shq(filepath.Join(c, "dst"))+" && echo same"); out != "same\n" {
		t.Fatalf("read back through the mount: %s", out)
	}
	sh(t, "echo gone > "+shq(filepath.Join(c, "gone"))+" && rm "+shq(filepath.Join(c, "gone")))
	sh(t, "echo moved > "+shq(filepath.Join(c, "g"))+" && mv "+shq(filepath.Join(c, "g"))+" "+shq(filepath.Join(c, "h")))
	big := strings.Repeat("b", 100<<10)
	if err := os.WriteFile(filepath.Join(c, "big"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(srv.get(t, alice, "ac/big")); got != big {
		t.Errorf("a file above --async-close-max is not on the server when close() returns (%d bytes)", len(got))
	}
	uploads := filepath.Join(m.Dir, ".pithosfs", "uploads.json")
	waitUntil(t, 30*time.Second, func() bool {
		b, err := os.ReadFile(uploads)
		return err == nil && !strings.Contains(string(b), `"name"`)
	})
	for i := range n {
		name := fmt.Sprintf("f%02d", i)
		if got := string(srv.get(t, alice, "ac/dst/"+name)); got != strings.Repeat(fmt.Sprint(i), 1000) {
			t.Fatalf("%s on the server: %d bytes", name, len(got))
		}
	}
	if got := string(srv.get(t, alice, "ac/h")); got != "moved\n" {
		t.Errorf("renamed file on the server: %q", got)
	}
	resp, _ := doHTTP(t, srv.http, "HEAD", srv.objectURL(alice, "ac/gone"), alice.Token, nil, nil)
	resp2, _ := doHTTP(t, srv.http, "HEAD", srv.objectURL(alice, "ac/g"), alice.Token, nil, nil)
	if resp.StatusCode != 404 || resp2.StatusCode != 404 {
		t.Errorf("after unlink / rename right after close: HEAD gone %d, HEAD g %d; want 404", resp.StatusCode, resp2.StatusCode)
	}
	after := m.stats(t)
	if puts := after.Requests["PUT"] - before.Requests["PUT"]; puts > n+8 {
		t.Errorf("%d PUTs for %d small files and 3 more", puts, n)
	}
}

// TestMountAsyncCloseOnePut: with asynchronous close, `echo x > f` (the shell opens f, moves it to fd 1 and
// closes the original descriptor before writing: a FLUSH of the empty new file, then the last one) is one
// PUT, not two; a new empty file (`: > f`, no write at all) is committed at its release.
func TestMountAsyncCloseOnePut(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "ep", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--async-close-max", "64KiB"}})
	c := filepath.Join(m.Dir, alice.Name, "ep")
	uploads := filepath.Join(m.Dir, ".pithosfs", "uploads.json")
	settled := func() bool {
		b, err := os.ReadFile(uploads)
		return err == nil && !strings.Contains(string(b), `"name"`)
	}
	waitUntil(t, 30*time.Second, settled)
	before := m.stats(t)
	const n = 5
	for i := range n {
		sh(t, fmt.Sprintf("echo x%d > %s", i, shq(filepath.Join(c, fmt.Sprintf("e%d", i)))))
	}
	sh(t, ": > "+shq(filepath.Join(c, "empty")))
	waitUntil(t, 30*time.Second, func() bool {
		resp, _ := doHTTP(t, srv.http, "HEAD", srv.objectURL(alice, "ep/empty"), alice.Token, nil, nil)
		return resp.StatusCode == 200
	})
	waitUntil(t, 30*time.Second, settled)
	after := m.stats(t)
	for i := range n {
		if got := string(srv.get(t, alice, fmt.Sprintf("ep/e%d", i))); got != fmt.Sprintf("x%d\n", i) {
			t.Errorf("e%d on the server: %q", i, got)
		}
	}
	if puts := after.Requests["PUT"] - before.Requests["PUT"]; puts != n+1 {
		t.Errorf("%d PUTs for %d `echo x > f` and one empty file, want %d", puts, n, n+1)
	}
}

// TestMountNewFileOnePut: with close() committing (the default), a new file written and closed is one PUT, and
// a FLUSH with nothing new since the last commit (a dup()ed descriptor closed after the data was committed
// through the other) sends nothing.
func TestMountNewFileOnePut(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "op", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "op")
	if _, err := os.ReadDir(c); err != nil {
		t.Fatal(err)
	}
	before := m.stats(t)
	const n = 5
	for i := range n {
		if err := os.WriteFile(filepath.Join(c, fmt.Sprintf("f%d", i)), []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// fd 3 written and duplicated as fd 4: closing fd 3 commits (a FLUSH with the data), closing fd 4 is a
	// FLUSH with nothing new, then the RELEASE.
	sh(t, "exec 3>"+shq(filepath.Join(c, "dup"))+"; echo data >&3; exec 4>&3; exec 3>&-; exec 4>&-")
	after := m.stats(t)
	if puts := after.Requests["PUT"] - before.Requests["PUT"]; puts != n+1 {
		t.Errorf("%d PUTs for %d new files and one written through a dup()ed descriptor, want %d", puts, n, n+1)
	}
	if got := string(srv.get(t, alice, "op/dup")); got != "data\n" {
		t.Errorf("dup on the server: %q", got)
	}
	for i := range n {
		if got := string(srv.get(t, alice, fmt.Sprintf("op/f%d", i))); got != fmt.Sprintf("file %d\n", i) {
			t.Errorf("f%d on the server: %q", i, got)
		}
	}
}
