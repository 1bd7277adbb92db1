package integration

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func lstatT(t *testing.T, p string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

func tsTime(ts syscall.Timespec) time.Time { return time.Unix(ts.Sec, ts.Nsec) }

// TestMountCtime (issue 13, bug 3): chmod, chown, utimes, a write and a truncate each move the
// ctime to the time of the change, also when the mtime is set into the past; the ctime survives a
// remount.
func TestMountCtime(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "t", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "t")
	f := filepath.Join(c, "f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	past := time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)
	steps := []struct {
		name string
		do   func() error
	}{
		{"chmod", func() error { return os.Chmod(f, 0o600) }},
		{"chown", func() error { return os.Chown(f, os.Getuid(), os.Getgid()) }},
		{"touch -m -d 2002", func() error { return os.Chtimes(f, time.Time{}, past) }},
		{"write", func() error { return appendTo(f, "y") }},
		{"truncate", func() error { return os.Truncate(f, 1) }},
	}
	var start, end time.Time
	for _, s := range steps {
		before := lstatT(t, f)
		// The ctime has a second's resolution on the server: a change within the same second
		// could not show.
		time.Sleep(1100 * time.Millisecond)
		start = time.Now().Truncate(time.Second)
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		end = time.Now()
		after := lstatT(t, f)
		if !tsTime(after.Ctim).After(tsTime(before.Ctim)) || tsTime(after.Ctim).Before(start) {
			t.Errorf("%s: ctime %v before, %v after (change at %v)", s.name, tsTime(before.Ctim), tsTime(after.Ctim), start)
		}
		if s.name == "touch -m -d 2002" && !tsTime(after.Mtim).Equal(past) {
			t.Errorf("touch -m -d: mtime %v, want %v", tsTime(after.Mtim), past)
		}
	}
	want := lstatT(t, f)
	m.unmount(t)
	startMountAt(t, m.Dir, args)
	// After a remount the ctime is the server's time of the last change (its commit), within the step.
	got := lstatT(t, f)
	if c := tsTime(got.Ctim); c.Before(start) || c.After(end) || got.Mtim != want.Mtim {
		t.Errorf("after a remount: ctime %v (last change between %v and %v), mtime %v, want %v", c, start, end,
			tsTime(got.Mtim), tsTime(want.Mtim))
	}
}

func appendTo(p, s string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TestMountAtime (issue 13, bug 4): an atime set with utimensat (to the nanosecond) is stored and
// survives a remount, for a file, a directory and a symlink; a read does not move it.
func TestMountAtime(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "t", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "t")
	sh(t, "cd "+shq(c)+" && echo x > f && mkdir d && ln -s f l")
	atime := unix.Timespec{Sec: 1900000000, Nsec: 123456789}
	mtime := unix.Timespec{Sec: 1000000000, Nsec: 987654321}
	for _, n := range []string{"f", "d", "l"} {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(c, n), []unix.Timespec{atime, mtime}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatalf("utimensat %s: %v", n, err)
		}
	}
	// touch -a: only the atime (UTIME_OMIT for the mtime).
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(c, "f"), []unix.Timespec{{Sec: 1900000001, Nsec: 5}, {Nsec: unix.UTIME_OMIT}}, 0); err != nil {
		t.Fatal(err)
	}
	sh(t, "cat "+shq(filepath.Join(c, "f"))+" >/dev/null")
	check := func(when string) {
		for _, n := range []string{"f", "d", "l"} {
			st := lstatT(t, filepath.Join(c, n))
			wantA := syscall.Timespec{Sec: atime.Sec, Nsec: atime.Nsec}
			if n == "f" {
				wantA = syscall.Timespec{Sec: 1900000001, Nsec: 5}
			}
			if st.Atim != wantA || st.Mtim != (syscall.Timespec{Sec: mtime.Sec, Nsec: mtime.Nsec}) {
				t.Errorf("%s %s: atime %v mtime %v, want %v %v", when, n, st.Atim, st.Mtim, wantA, mtime)
			}
		}
	}
	check("before the remount:")
	m.unmount(t)
	startMountAt(t, m.Dir, args)
	check("after a remount:")
}

// TestMountDirTimesAndNlink (issue 13, bugs 3 and 6): creating, removing and renaming an entry move
// the directory's mtime and ctime; a directory's nlink is 2 plus its subdirectories; open(O_CREAT)
// with mode 0000 keeps 0000.
func TestMountDirTimesAndNlink(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "t", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "t")
	d := filepath.Join(c, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"create", func() error { return os.WriteFile(filepath.Join(d, "f"), nil, 0o644) }},
		{"mkdir", func() error { return os.Mkdir(filepath.Join(d, "sub"), 0o755) }},
		{"rename within", func() error { return os.Rename(filepath.Join(d, "f"), filepath.Join(d, "g")) }},
		{"unlink", func() error { return os.Remove(filepath.Join(d, "g")) }},
		{"symlink", func() error { return os.Symlink("x", filepath.Join(d, "l")) }},
		{"rename out", func() error { return os.Rename(filepath.Join(d, "l"), filepath.Join(c, "l")) }},
	}
	for _, s := range steps {
		before := lstatT(t, d)
		time.Sleep(20 * time.Millisecond) // the directory's times are the mount's, to the nanosecond
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		after := lstatT(t, d)
		if !tsTime(after.Mtim).After(tsTime(before.Mtim)) || !tsTime(after.Ctim).After(tsTime(before.Ctim)) {
			t.Errorf("%s: directory mtime %v→%v ctime %v→%v, want both moved", s.name,
				tsTime(before.Mtim), tsTime(after.Mtim), tsTime(before.Ctim), tsTime(after.Ctim))
		}
	}
	if n := lstatT(t, d).Nlink; n != 3 {
		t.Errorf("nlink of a directory with one subdirectory: %d, want 3", n)
	}
	sh(t, "mkdir "+shq(d+"/sub2")+" "+shq(d+"/sub3"))
	if n := lstatT(t, d).Nlink; n != 5 {
		t.Errorf("nlink with three subdirectories: %d, want 5", n)
	}
	if err := os.Remove(filepath.Join(d, "sub2")); err != nil {
		t.Fatal(err)
	}
	if n := lstatT(t, d).Nlink; n != 4 {
		t.Errorf("nlink after an rmdir: %d, want 4", n)
	}

	fd, err := syscall.Open(filepath.Join(c, "zero"), syscall.O_CREAT|syscall.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st := lstatT(t, filepath.Join(c, "zero")); st.Mode&0o7777 != 0 {
		t.Errorf("open(O_CREAT, 0000): mode %o before close", st.Mode&0o7777)
	}
	if err := syscall.Close(fd); err != nil {
		t.Fatal(err)
	}
	if st := lstatT(t, filepath.Join(c, "zero")); st.Mode&0o7777 != 0 {
		t.Errorf("open(O_CREAT, 0000): mode %o after close", st.Mode&0o7777)
	}
}
