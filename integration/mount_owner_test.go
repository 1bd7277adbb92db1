package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the unprivileged identity the ownership tests act as.
const nobody = 65534

// asUser runs a shell command line as uid:gid (the test runs as root) and returns its combined output
// and error.
func asUser(uid, gid uint32, script string) (string, error) {
	cmd := exec.Command("bash", "-c", "set -o pipefail; "+script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// openMountDir is a mountpoint other users can reach (t.TempDir's directories are 0700).
func openMountDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pithosfs-owner-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	return mnt
}

func ownerOf(t *testing.T, p string) (uid, gid uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st.Uid, st.Gid
}

// TestMountOwnerFromCaller (issue 13, bug 1): with --allow-other (default_permissions), a file,
// directory, symlink and fifo created by another user belong to that user, who can then chmod,
// write and truncate them; chown follows POSIX (only root gives a file away; the owner may change
// the group only to one of its own); the owners survive a remount; objects that carry no owner
// belong to the mounting user.
func TestMountOwnerFromCaller(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root (it acts as another user through the mount)")
	}
	srv := startServe(t)
	srv.put(t, alice, "o", nil, nil)
	srv.put(t, alice, "o/plain", []byte("no owner stored"), nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--allow-other"}}
	dir := openMountDir(t)
	m := startMountAt(t, dir, args)
	c := filepath.Join(m.Dir, alice.Name, "o")
	sh(t, "mkdir -m 777 "+shq(c+"/shared"))

	out, err := asUser(nobody, nobody, "cd "+shq(c+"/shared")+` && echo hi > f && mkdir d && ln -s f l && mkfifo p &&
		chmod 600 f && echo more >> f && truncate -s 2 f && chmod 700 d && cat f`)
	if err != nil || out != "hi" {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	for _, n := range []string{"f", "d", "l", "p"} {
		if u, g := ownerOf(t, filepath.Join(c, "shared", n)); u != nobody || g != nobody {
			t.Errorf("%s owned by %d:%d, want %d:%d", n, u, g, nobody, nobody)
		}
	}
	if u, g := ownerOf(t, filepath.Join(c, "plain")); u != 0 || g != 0 {
		t.Errorf("an object without a stored owner: %d:%d, want the mount's 0:0", u, g)
	}

	// chown: nobody may not give its file away, nor take a group it is not in; root may.
	if out, err := asUser(nobody, nobody, "chown 1000 "+shq(c+"/shared/f")); err == nil {
		t.Errorf("chown to another uid by the owner succeeded: %s", out)
	}
	if out, err := asUser(nobody, nobody, "chgrp 1000 "+shq(c+"/shared/f")); err == nil {
		t.Errorf("chgrp to a group the owner is not in succeeded: %s", out)
	}
	if out, err := asUser(1000, 1000, "chmod 666 "+shq(c+"/shared/f")); err == nil {
		t.Errorf("chmod by another user succeeded: %s", out)
	}
	sh(t, "chown 1000:1001 "+shq(c+"/shared/d"))

	m.unmount(t)
	startMountAt(t, dir, args)
	for n, want := range map[string][2]uint32{"f": {nobody, nobody}, "l": {nobody, nobody}, "p": {nobody, nobody}, "d": {1000, 1001}} {
		if u, g := ownerOf(t, filepath.Join(c, "shared", n)); u != want[0] || g != want[1] {
			t.Errorf("after a remount %s is owned by %d:%d, want %d:%d", n, u, g, want[0], want[1])
		}
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(c, "shared", "f"), &st); err != nil || st.Mode&0o7777 != 0o600 || st.Size != 2 {
		t.Errorf("f after a remount: mode %o size %d (%v), want 600 and 2 bytes", st.Mode&0o7777, st.Size, err)
	}
	// Another user cannot write nobody's 0600 file: the kernel checks the stored owner.
	if out, err := asUser(1000, 1000, "echo x >> "+shq(c+"/shared/f")); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("write by another user to a 0600 file: %v %s", err, out)
	}
}

// TestMountOwnerSetgidDir: in a set-group-ID directory a new entry takes the directory's group, and a
// new subdirectory keeps the bit (as on Linux filesystems).
func TestMountOwnerSetgidDir(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root (it acts as another user through the mount)")
	}
	srv := startServe(t)
	srv.put(t, alice, "o", nil, nil)
	m := startMountAt(t, openMountDir(t), mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--allow-other"}})
	c := filepath.Join(m.Dir, alice.Name, "o")
	sh(t, "mkdir "+shq(c+"/g")+" && chown 0:4242 "+shq(c+"/g")+" && chmod 2777 "+shq(c+"/g"))
	if out, err := asUser(nobody, nobody, "cd "+shq(c+"/g")+" && touch f && mkdir d"); err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if _, g := ownerOf(t, filepath.Join(c, "g", "f")); g != 4242 {
		t.Errorf("file in a setgid directory: gid %d, want 4242", g)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(c, "g", "d"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Gid != 4242 || st.Mode&syscall.S_ISGID == 0 {
		t.Errorf("directory in a setgid directory: gid %d mode %o, want 4242 with the setgid bit", st.Gid, st.Mode&0o7777)
	}
}
