package integration

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
