package integration

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMountUnlinkedOpenFile (issue 13, bug 5): a file unlinked while open keeps its data and handle
// until the last close: a new file written, unlinked and read back (tmpfile()'s idiom), an existing
// file opened for reading and unlinked before its first read, and an existing file opened for writing.
// fstat gives nlink 0; the object is gone from the server at unlink and a write after it reaches
// nothing there; a new file of the same name is a file of its own.
func TestMountUnlinkedOpenFile(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "u", nil, nil)
	big := randomBytes(9 << 20) // three blocks, none read before the unlink
	srv.put(t, alice, "u/big", big, nil)
	srv.put(t, alice, "u/old", []byte("old content"), nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "u")

	// 1. New file: write, unlink, pread, write more, pread.
	p := filepath.Join(c, "tmp")
	fd, err := unix.Open(p, unix.O_CREAT|unix.O_RDWR|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fd, []byte("Hello, World!"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil || string(buf[:n]) != "Hello, World!" {
		t.Errorf("pread after unlink: %q %v", buf[:n], err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink != 0 {
		t.Errorf("fstat after unlink: nlink %d (%v), want 0", st.Nlink, err)
	}
	if _, err := unix.Pwrite(fd, []byte(" More."), 13); err != nil {
		t.Errorf("pwrite after unlink: %v", err)
	}
	if err := unix.Fsync(fd); err != nil {
		t.Errorf("fsync after unlink: %v", err)
	}
	n, _ = unix.Pread(fd, buf, 0)
	if string(buf[:n]) != "Hello, World! More." {
		t.Errorf("pread after a write after unlink: %q", buf[:n])
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("stat of the unlinked name: %v", err)
	}
	// A new file of the same name while the old one is open.
	if err := os.WriteFile(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, _ = unix.Pread(fd, buf, 0)
	if string(buf[:n]) != "Hello, World! More." {
		t.Errorf("the unlinked file after a new one took its name: %q", buf[:n])
	}
	if err := unix.Close(fd); err != nil {
		t.Errorf("close of the unlinked file: %v", err)
	}
	if got := string(srv.get(t, alice, "u/tmp")); got != "new" {
		t.Errorf("server after the close: %q, want the new file's \"new\"", got)
	}

	// 2. An existing file opened read-only and unlinked before any read.
	rf, err := os.Open(filepath.Join(c, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(c, "big")); err != nil {
		t.Fatal(err)
	}
	if got := srv.tryGet(t, alice, "u/big"); got != nil {
		t.Errorf("the object is still on the server after unlink (%d bytes)", len(got))
	}
	got := make([]byte, len(big)+1)
	n, err = rf.ReadAt(got, 0)
	if n != len(big) || !bytes.Equal(got[:n], big) {
		t.Errorf("read of an unlinked read-only file: %d bytes (%v), equal %v", n, err, bytes.Equal(got[:n], big))
	}
	var rst syscall.Stat_t
	if err := syscall.Fstat(int(rf.Fd()), &rst); err != nil || rst.Nlink != 0 || rst.Size != int64(len(big)) {
		t.Errorf("fstat of the unlinked read-only file: nlink %d size %d (%v)", rst.Nlink, rst.Size, err)
	}
	rf.Close()

	// 3. An existing file opened for writing, unlinked, written: nothing reaches the server.
	wf, err := os.OpenFile(filepath.Join(c, "old"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(c, "old")); err != nil {
		t.Fatal(err)
	}
	if _, err := wf.WriteAt([]byte("NEW"), 0); err != nil {
		t.Fatal(err)
	}
	n, _ = wf.ReadAt(buf, 0)
	if string(buf[:n]) != "NEW content" {
		t.Errorf("read of the unlinked file written after unlink: %q", buf[:n])
	}
	if err := wf.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if got := srv.tryGet(t, alice, "u/old"); got != nil {
		t.Errorf("a write after unlink reached the server: %q", got)
	}
	if names := srv.listNames(t, alice, "u", ""); len(names) != 1 || names[0] != "tmp" {
		t.Errorf("objects left: %v, want [tmp]", names)
	}
}

// TestMountSpecialFiles (issue 13): fifos, sockets (bind(2)) and character and block devices are
// metadata objects like symlinks: they keep their type, mode, owner and device number across a
// remount, a fifo works as one, and rename and unlink work on them.
func TestMountSpecialFiles(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "s", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "s")
	if err := unix.Mkfifo(filepath.Join(c, "fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(c, "chr"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(c, "blk"), unix.S_IFBLK|0o640, int(unix.Mkdev(8, 17))); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(c, "sock"))
	if err != nil {
		t.Fatalf("bind(2) of a unix socket: %v", err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if err := unix.Mknod(filepath.Join(c, "tmpfifo"), unix.S_IFIFO|0o600, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(c, "tmpfifo"), filepath.Join(c, "fifo2")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(c, "fifo"), 0o600); err != unix.EEXIST {
		t.Errorf("mkfifo over an existing fifo: %v, want EEXIST", err)
	}

	// The fifo works: the kernel handles it, the mount only keeps the node.
	done := make(chan string, 1)
	go func() {
		b, err := os.ReadFile(filepath.Join(c, "fifo"))
		if err != nil {
			done <- err.Error()
			return
		}
		done <- string(b)
	}()
	if err := os.WriteFile(filepath.Join(c, "fifo"), []byte("through the pipe"), 0); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != "through the pipe" {
		t.Errorf("read from the fifo: %q", got)
	}

	want := map[string]struct {
		typ  uint32
		perm uint32
		rdev uint64
	}{
		"fifo":  {unix.S_IFIFO, 0o640, 0},
		"fifo2": {unix.S_IFIFO, 0o600, 0},
		"chr":   {unix.S_IFCHR, 0o600, unix.Mkdev(1, 3)},
		"blk":   {unix.S_IFBLK, 0o640, unix.Mkdev(8, 17)},
		"sock":  {unix.S_IFSOCK, 0, 0},
	}
	check := func(when string) {
		for n, w := range want {
			st := lstatT(t, filepath.Join(c, n))
			if st.Mode&unix.S_IFMT != w.typ || (n != "sock" && st.Mode&0o7777 != w.perm) || st.Rdev != w.rdev || st.Size != 0 {
				t.Errorf("%s %s: mode %o rdev %d size %d, want type %o mode %o rdev %d", when, n, st.Mode, st.Rdev, st.Size, w.typ, w.perm, w.rdev)
			}
		}
	}
	check("before the remount:")
	m.unmount(t)
	startMountAt(t, m.Dir, args)
	check("after a remount:")
	sh(t, "ls -l "+shq(c)+" >/dev/null")
	for n := range want {
		if err := os.Remove(filepath.Join(c, n)); err != nil {
			t.Errorf("unlink %s: %v", n, err)
		}
	}
	if names := srv.listNames(t, alice, "s", ""); len(names) != 0 {
		t.Errorf("objects left after removing the special files: %v", names)
	}
}
