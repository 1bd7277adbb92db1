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

// lsl returns `stat -c '%n %a %u %g %Y.%y'`-style lines for the names in dir: mode, owner and mtime
// (ns) of each, sorted by name.
func statLines(t testing.TB, dir string, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dir, n), &st); err != nil {
			t.Fatalf("lstat %s: %v", n, err)
		}
		fmt.Fprintf(&b, "%s %o %d %d %d.%09d\n", n, st.Mode&0o7777, st.Uid, st.Gid, st.Mtim.Sec, st.Mtim.Nsec)
	}
	return b.String()
}

// TestMountPosixMetadata: chmod, chown (to our own ids: no root needed), touch -d, a symlink, mkdir
// -m and a chmod of a directory survive a remount; `ls -l` of a directory of 200 files with stored
// attributes then costs one listing and no HEAD; a write keeps the mode and moves the mtime; a chmod
// keeps the mtime.
func TestMountPosixMetadata(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "p", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "p")

	sh(t, "cd "+shq(c)+` && mkdir d && for i in $(seq -w 1 200); do echo "f$i" > d/f$i; done`)
	sh(t, "cd "+shq(c)+` && for i in $(seq -w 1 200); do chmod 0$((600 + (10#$i % 8) * 10)) d/f$i; done`)
	sh(t, "cd "+shq(c)+` && echo x > exe && chmod 755 exe && touch -d '2001-02-03 04:05:06.123456789' exe`)
	sh(t, "cd "+shq(c)+` && echo y > stamped && touch -d '1999-12-31 23:59:59' stamped && chmod 600 stamped`)
	sh(t, "cd "+shq(c)+` && mkdir -m 700 private && mkdir pub && chmod 751 pub && touch -d '2010-01-01 00:00:00' pub`)
	sh(t, "cd "+shq(c)+` && ln -s exe link && ln -s ../some/where/far rel`)
	sh(t, "cd "+shq(c)+fmt.Sprintf(" && chown %d:%d exe", os.Getuid(), os.Getgid()))

	names := []string{"exe", "stamped", "private", "pub", "link", "rel"}
	before := statLines(t, c, names...)
	if !strings.Contains(before, "exe 755 ") || !strings.Contains(before, "stamped 600 ") ||
		!strings.Contains(before, "private 700 ") || !strings.Contains(before, "pub 751 ") || !strings.Contains(before, "link 777 ") {
		t.Fatalf("attributes before the remount:\n%s", before)
	}
	if !strings.Contains(before, fmt.Sprintf("exe 755 %d %d %d.123456789", os.Getuid(), os.Getgid(),
		time.Date(2001, 2, 3, 4, 5, 6, 0, time.Local).Unix())) {
		t.Errorf("exe's mtime before the remount:\n%s", before)
	}
	dBefore := sh(t, "ls -l --time-style=+%s.%N "+shq(filepath.Join(c, "d")))

	m.unmount(t)
	m = startMountAt(t, m.Dir, mountArgs{URL: args.URL, Token: args.Token})
	after := statLines(t, c, names...)
	if after != before {
		t.Errorf("attributes changed across the remount:\nbefore\n%s\nafter\n%s", before, after)
	}
	if got := sh(t, "readlink "+shq(filepath.Join(c, "link"))+" "+shq(filepath.Join(c, "rel"))); got != "exe\n../some/where/far\n" {
		t.Errorf("readlink after the remount: %q", got)
	}
	if got := sh(t, "cat "+shq(filepath.Join(c, "link"))); got != "x\n" {
		t.Errorf("cat through the symlink: %q", got)
	}

	// ls -l of the 200-file directory after the remount: one listing, no HEAD.
	s0 := m.stats(t)
	dAfter := sh(t, "ls -l --time-style=+%s.%N "+shq(filepath.Join(c, "d")))
	s1 := m.stats(t)
	if dAfter != dBefore {
		t.Errorf("ls -l of d differs across the remount:\nbefore\n%s\nafter\n%s", dBefore, dAfter)
	}
	if !strings.Contains(dAfter, "-rw-rw---- ") || !strings.Contains(dAfter, "-rw------- ") {
		t.Errorf("ls -l of d shows no stored modes:\n%.400s", dAfter)
	}
	heads := s1.RequestsByKind["head_object"] - s0.RequestsByKind["head_object"]
	lists := s1.RequestsByKind["list_objects"] - s0.RequestsByKind["list_objects"]
	t.Logf("ls -l of 200 files with stored modes after a remount: %d listing(s), %d HEAD(s)", lists, heads)
	if heads != 0 || lists > 2 {
		t.Errorf("ls -l of 200 files: %d listings, %d HEADs; want ≤ 2 listings and no HEAD", lists, heads)
	}

	// chmod keeps the mtime; a write keeps the mode and moves the mtime.
	sh(t, "chmod 700 "+shq(filepath.Join(c, "stamped")))
	st := statLines(t, c, "stamped")
	if !strings.HasPrefix(st, "stamped 700 ") || !strings.Contains(st, fmt.Sprintf(" %d.000000000", time.Date(1999, 12, 31, 23, 59, 59, 0, time.Local).Unix())) {
		t.Errorf("after chmod 700: %s", st)
	}
	sh(t, "echo more >> "+shq(filepath.Join(c, "stamped")))
	var fi syscall.Stat_t
	if err := syscall.Stat(filepath.Join(c, "stamped"), &fi); err != nil {
		t.Fatal(err)
	}
	if fi.Mode&0o7777 != 0o700 || time.Since(time.Unix(fi.Mtim.Unix())) > time.Minute {
		t.Errorf("after a write: mode %o, mtime %v", fi.Mode&0o7777, time.Unix(fi.Mtim.Unix()))
	}
	if got := string(srv.get(t, alice, "p/stamped")); got != "y\nmore\n" {
		t.Errorf("server content: %q", got)
	}
	m.unmount(t)
	startMountAt(t, m.Dir, mountArgs{URL: args.URL, Token: args.Token})
	var fi2 syscall.Stat_t
	if err := syscall.Stat(filepath.Join(c, "stamped"), &fi2); err != nil {
		t.Fatal(err)
	}
	if fi2.Mode&0o7777 != 0o700 || fi2.Mtim != fi.Mtim {
		t.Errorf("after the write and a remount: mode %o mtime %v, want 700 %v", fi2.Mode&0o7777, fi2.Mtim, fi.Mtim)
	}
}

// TestMountXattrs: user.* xattrs (binary values, an empty one, names with case and "_"), removal,
// XATTR_CREATE, the size limits, user.pithos.public and user.pithos.sharing; they survive a remount
// and an append; ls -l of a file without xattrs costs no HEAD.
func TestMountXattrs(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "x", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "x")
	f := filepath.Join(c, "f")
	sh(t, "echo data > "+shq(f))
	sh(t, "setfattr -n user.Mixed_Case.name -v 'hello ~ world' "+shq(f))
	sh(t, "setfattr -n user.bin -v 0x00ff7e0a "+shq(f))
	sh(t, "setfattr -n user.empty "+shq(f))
	sh(t, "setfattr -n user.gone -v x "+shq(f)+" && setfattr -x user.gone "+shq(f))
	if _, err := shErr("setfattr -n user.big -v " + strings.Repeat("a", 300) + " " + shq(f)); err == nil {
		t.Error("a 300-byte xattr value was accepted")
	}
	if err := syscall.Setxattr(f, "user.bin", []byte("x"), 1 /* XATTR_CREATE */); err != syscall.EEXIST {
		t.Errorf("XATTR_CREATE over an existing name: %v, want EEXIST", err)
	}
	sh(t, "setfattr -n user.pithos.public -v true "+shq(f))
	sh(t, "setfattr -n user.pithos.sharing -v 'read=*' "+shq(f))
	dump := func() string {
		out := sh(t, "getfattr -d -e text -m '^user\\.[^p]' "+shq(f)+" 2>/dev/null | grep -v '^#' | grep -v '^$' | sort")
		bin := sh(t, "getfattr -n user.bin --only-values "+shq(f)+" 2>/dev/null | od -An -tx1 | tr -d ' \\n'")
		return out + "bin:" + bin
	}
	got := dump()
	if !strings.Contains(got, `user.Mixed_Case.name="hello ~ world"`) || !strings.Contains(got, "user.empty") || strings.Contains(got, "user.gone") {
		t.Fatalf("xattrs:\n%s", got)
	}
	if !strings.HasSuffix(got, "bin:00ff7e0a") {
		t.Errorf("binary xattr: %s", got)
	}
	if pub := sh(t, "getfattr --only-values -n user.pithos.public "+shq(f)+" 2>/dev/null"); !strings.Contains(pub, "/public/") {
		t.Errorf("user.pithos.public = %q", pub)
	}
	if v := sh(t, "getfattr --only-values -n user.pithos.sharing "+shq(f)+" 2>/dev/null"); v != "read=*" {
		t.Errorf("user.pithos.sharing = %q", v)
	}
	sh(t, "echo more >> "+shq(f))
	m.unmount(t)
	m = startMountAt(t, m.Dir, args)
	if after := dump(); after != got {
		t.Errorf("xattrs after an append and a remount:\n%s\nbefore\n%s", after, got)
	}
	if got := sh(t, "cat "+shq(f)); got != "data\nmore\n" {
		t.Errorf("content: %q", got)
	}
	sh(t, "echo plain > "+shq(filepath.Join(c, "plain")))
	m.unmount(t)
	m = startMountAt(t, m.Dir, args)
	s0 := m.stats(t)
	sh(t, "ls -l "+shq(c)+" >/dev/null")
	s1 := m.stats(t)
	if h := s1.RequestsByKind["head_object"] - s0.RequestsByKind["head_object"]; h > 1 {
		t.Errorf("ls -l of 2 files (one with xattrs) made %d HEADs, want ≤ 1", h)
	}
}

// TestMountNewFileInodeStable: a file created through the mount keeps its inode number after its first
// commit and after the directory is listed again (the listing gives it a uuid), and a file created under
// the name of a renamed one gets a different number.
func TestMountNewFileInodeStable(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "i", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "i")
	ino := func(name string) uint64 {
		t.Helper()
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(c, name), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	f, err := os.Create(filepath.Join(c, "n"))
	if err != nil {
		t.Fatal(err)
	}
	before := ino("n")
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // past the attribute and listing TTLs
	sh(t, "ls -l "+shq(c)+" >/dev/null")
	if after := ino("n"); after != before {
		t.Errorf("inode after the first commit and a relisting: %d, was %d", after, before)
	}
	if got := sh(t, "ls -i "+shq(c)+" | awk '{print $1}'"); got != fmt.Sprintf("%d\n", before) {
		t.Errorf("ls -i shows %q, stat %d", got, before)
	}
	sh(t, "cd "+shq(c)+" && mv n m && echo y > n")
	if ino("n") == ino("m") || ino("m") != before {
		t.Errorf("after mv n m and a new n: m %d, n %d (m was %d)", ino("m"), ino("n"), before)
	}
}
