package integration

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// renameat2 calls renameat2(2) with flags (unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE).
func renameat2(from, to string, flags uint) error {
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, flags)
}

// listNames lists u's container (prefix, no delimiter) through the API: the server's truth.
func (s *serveProc) listNames(t testing.TB, u cloudUser, container, prefix string) []string {
	t.Helper()
	resp, body := doHTTP(t, s.http, http.MethodGet, s.objectURL(u, container)+"?limit=10000&prefix="+prefix, u.Token, nil, nil)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("listing %s: %s", container, resp.Status)
	}
	return strings.Fields(string(body))
}

// TestMountNamespace: mkdir (a marker), rmdir (ENOTEMPTY when not empty), rm, mv of a file and of a
// directory of 1 000 files (one server-side move), no-clobber rename, RENAME_EXCHANGE refused, containers
// created and deleted at the account level, a container rename refused with EXDEV.
func TestMountNamespace(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	srv.put(t, alice, "c/a.txt", []byte("a"), nil)
	srv.put(t, alice, "c/b.txt", []byte("b"), nil)
	putMany(t, srv, alice, "c", "tree/f%04d", 1000)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	acct := filepath.Join(m.Dir, alice.Name)
	c := filepath.Join(acct, "c")

	sh(t, "mkdir "+shq(filepath.Join(c, "newdir")))
	if _, err := shErr("mkdir " + shq(filepath.Join(c, "newdir"))); err == nil {
		t.Error("mkdir of an existing directory succeeded")
	}
	if got := srv.listNames(t, alice, "c", "newdir"); len(got) != 1 || got[0] != "newdir" {
		t.Errorf("server after mkdir: %v, want the marker newdir", got)
	}
	sh(t, "mkdir -p "+shq(filepath.Join(c, "newdir/x/y")))
	if err := syscall.Rmdir(filepath.Join(c, "newdir")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a non-empty directory: %v, want ENOTEMPTY", err)
	}
	sh(t, "rmdir "+shq(filepath.Join(c, "newdir/x/y"))+" "+shq(filepath.Join(c, "newdir/x"))+" "+shq(filepath.Join(c, "newdir")))
	if got := srv.listNames(t, alice, "c", "newdir"); len(got) != 0 {
		t.Errorf("server after rmdir: %v", got)
	}

	sh(t, "rm "+shq(filepath.Join(c, "b.txt")))
	if _, err := os.Stat(filepath.Join(c, "b.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after rm: %v", err)
	}
	if err := os.Remove(filepath.Join(c, "nothing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rm of a missing file: %v", err)
	}

	sh(t, "mv "+shq(filepath.Join(c, "a.txt"))+" "+shq(filepath.Join(c, "renamed.txt")))
	if got := sh(t, "cat "+shq(filepath.Join(c, "renamed.txt"))); got != "a" {
		t.Errorf("cat after mv: %q", got)
	}
	// No-clobber and exchange.
	srv.put(t, alice, "c/other.txt", []byte("o"), nil)
	// A change behind the mount shows once the directory's entries are older than --attr-ttl (1 s).
	time.Sleep(1100 * time.Millisecond)
	sh(t, "ls "+shq(c)+" >/dev/null")
	if err := renameat2(filepath.Join(c, "renamed.txt"), filepath.Join(c, "other.txt"), unix.RENAME_NOREPLACE); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("RENAME_NOREPLACE onto an existing file: %v, want EEXIST", err)
	}
	if err := renameat2(filepath.Join(c, "renamed.txt"), filepath.Join(c, "other.txt"), unix.RENAME_EXCHANGE); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("RENAME_EXCHANGE: %v, want EINVAL", err)
	}
	if err := renameat2(filepath.Join(c, "renamed.txt"), filepath.Join(c, "fresh.txt"), unix.RENAME_NOREPLACE); err != nil {
		t.Errorf("RENAME_NOREPLACE onto a new name: %v", err)
	}
	// Rename over an existing file replaces it.
	sh(t, "mv "+shq(filepath.Join(c, "fresh.txt"))+" "+shq(filepath.Join(c, "other.txt")))
	if got := sh(t, "cat "+shq(filepath.Join(c, "other.txt"))); got != "a" {
		t.Errorf("after mv over other.txt: %q", got)
	}

	// A directory of 1 000 files moves with one server request (plus its marker, it is implicit).
	before := m.stats(t)
	sh(t, "mv "+shq(filepath.Join(c, "tree"))+" "+shq(filepath.Join(c, "moved")))
	after := m.stats(t)
	if d := after.RequestsByKind["copy_move"] - before.RequestsByKind["copy_move"]; d != 1 {
		t.Errorf("mv of a directory made %d move requests, want 1", d)
	}
	if n := len(srv.listNames(t, alice, "c", "moved/")); n != 1000 {
		t.Errorf("server has %d objects under moved/, want 1000", n)
	}
	if n := len(srv.listNames(t, alice, "c", "tree/")); n != 0 {
		t.Errorf("server still has %d objects under tree/", n)
	}
	if got := strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(c, "moved"))+" | wc -l")); got != "1000" {
		t.Errorf("ls moved | wc -l = %s", got)
	}
	if got := sh(t, "cat "+shq(filepath.Join(c, "moved", "f0999"))); got != "tree/f0999" {
		t.Errorf("moved file content %q", got)
	}

	// Containers at the account level.
	sh(t, "mkdir "+shq(filepath.Join(acct, "fresh")))
	if err := os.WriteFile(filepath.Join(acct, "x"), nil, 0o644); err == nil {
		t.Error("creating a file at the account level succeeded")
	}
	if err := syscall.Rename(filepath.Join(acct, "fresh"), filepath.Join(acct, "fresh2")); !errors.Is(err, syscall.EXDEV) {
		t.Errorf("container rename: %v, want EXDEV", err)
	}
	if err := syscall.Rmdir(c); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a non-empty container: %v, want ENOTEMPTY", err)
	}
	sh(t, "rmdir "+shq(filepath.Join(acct, "fresh")))
	if got := sh(t, "ls "+shq(acct)); got != "c\n" {
		t.Errorf("containers after rmdir: %q", got)
	}
}
