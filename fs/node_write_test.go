package fs

import (
	"strings"
	"syscall"
	"testing"

	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

func TestCreateAndWrite(t *testing.T) {
	const bs = 64 << 10
	big := strings.Repeat("0123456789abcdef", 3*bs/16+100) // 3 blocks and a bit
	cases := []struct {
		name   string
		before string // "" with !exists: no object
		exists bool
		flags  uint32 // for an existing file: O_TRUNC, O_APPEND or 0
		off    int64
		write  string
		want   string
	}{
		{"new file", "", false, 0, 0, "hello", "hello"},
		{"new empty file", "", false, 0, 0, "", ""},
		{"new file of several blocks", "", false, 0, 0, big, big},
		{"truncate and write", "old content", true, syscall.O_TRUNC, 0, "new", "new"},
		{"overwrite in the middle", "0123456789", true, 0, 3, "abc", "012abc6789"},
		{"write past the end leaves a hole", "ab", true, 0, 4, "cd", "ab\x00\x00cd"},
		{"append", "first,", true, syscall.O_APPEND, 6, "second", "first,second"},
		{"one block changed of several", big, true, 0, bs + 10, "XYZ", big[:bs+10] + "XYZ" + big[bs+13:]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, bs)
			var node, fh uint64
			var errno syscall.Errno
			if c.exists {
				h.put("f", c.before)
				node = h.node("f")
				fh, errno = h.open(node, syscall.O_WRONLY|c.flags)
			} else {
				node, fh, errno = h.create(rootID, "f", syscall.O_WRONLY)
			}
			if errno != 0 {
				t.Fatalf("open: %v", errno)
			}
			if c.write != "" {
				if errno := h.write(node, fh, c.off, c.write); errno != 0 {
					t.Fatalf("write: %v", errno)
				}
			}
			if errno := h.close(node, fh); errno != 0 {
				t.Fatalf("close: %v", errno)
			}
			got, info, ok := h.object("f")
			if !ok || got != c.want {
				t.Fatalf("stored %d bytes (ok %v), want %d", len(got), ok, len(c.want))
			}
			if int64(len(c.want)) != info.Bytes {
				t.Errorf("stored size %d, want %d", info.Bytes, len(c.want))
			}
			if read, errno := h.readFile(node); errno != 0 || read != c.want {
				t.Errorf("read back %d bytes, %v; want %d", len(read), errno, len(c.want))
			}
		})
	}
}

// TestOverwriteKeepsIdentity: a file rewritten through the mount keeps its
// object's uuid (and so its inode number).
func TestOverwriteKeepsIdentity(t *testing.T) {
	h := newHarness(t, 0)
	h.put("f", "one")
	_, before, _ := h.object("f")
	out, _ := h.lookup(rootID, "f")
	if errno := h.writeFile(rootID, "f", "two"); errno != 0 {
		t.Fatal(errno)
	}
	got, after, _ := h.object("f")
	if got != "two" || after.UUID != before.UUID || after.ETag == before.ETag {
		t.Fatalf("after overwrite: %q uuid %s→%s etag %s→%s", got, before.UUID, after.UUID, before.ETag, after.ETag)
	}
	if out2, _ := h.lookup(rootID, "f"); out2.Attr.Ino != out.Attr.Ino {
		t.Errorf("inode %d → %d", out.Attr.Ino, out2.Attr.Ino)
	}
}

// TestCreateExclusive: O_EXCL on a name with a file being written (not
// on the server yet) is EEXIST, and the first writer's data is kept.
func TestCreateExclusive(t *testing.T) {
	h := newHarness(t, 0)
	node, fh, errno := h.create(rootID, "f", syscall.O_WRONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := h.write(node, fh, 0, "first"); errno != 0 {
		t.Fatal(errno)
	}
	if _, _, errno := h.create(rootID, "f", syscall.O_WRONLY|syscall.O_EXCL); errno != syscall.EEXIST {
		t.Fatalf("O_EXCL on a name being written: %v, want EEXIST", errno)
	}
	if errno := h.close(node, fh); errno != 0 {
		t.Fatal(errno)
	}
	if got, _, _ := h.object("f"); got != "first" {
		t.Fatalf("stored %q", got)
	}
}

// TestCreateRace: another client created the name between this mount's
// lookup and its commit; the commit's If-None-Match: * fails, the other
// client's object stays and ours is saved as a conflict copy.
func TestCreateRace(t *testing.T) {
	h := newHarness(t, 0)
	if _, errno := h.lookup(rootID, "f"); errno != syscall.ENOENT {
		t.Fatal(errno)
	}
	node, fh, errno := h.create(rootID, "f", syscall.O_WRONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := h.write(node, fh, 0, "mine"); errno != 0 {
		t.Fatal(errno)
	}
	h.put("f", "theirs")
	if errno := h.close(node, fh); errno != syscall.EIO {
		t.Fatalf("close: %v, want EIO", errno)
	}
	if got, _, _ := h.object("f"); got != "theirs" {
		t.Fatalf("the other client's object became %q", got)
	}
	h.conflictCopy("f", "mine")
}

// TestWriteConflict: another writer replaced the object after this mount
// opened it, so the commit's If-Match fails: close() says EIO, the other
// writer's version stays under the name and ours is saved beside it.
func TestWriteConflict(t *testing.T) {
	h := newHarness(t, 0)
	h.put("report.txt", "original")
	node := h.node("report.txt")
	fh, errno := h.open(node, syscall.O_WRONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := h.write(node, fh, 0, "ours----"); errno != 0 {
		t.Fatal(errno)
	}
	h.put("report.txt", "theirs")
	if errno := h.close(node, fh); errno != syscall.EIO {
		t.Fatalf("close after a conflict: %v, want EIO", errno)
	}
	if got, _, _ := h.object("report.txt"); got != "theirs" {
		t.Fatalf("the other writer's version was replaced: %q", got)
	}
	h.conflictCopy("report.txt", "ours----")
}

// conflictCopy checks that exactly one conflict copy of name is in the
// store, holding want.
func (h *harness) conflictCopy(name, want string) {
	h.t.Helper()
	var copies []string
	for _, n := range h.names() {
		if strings.HasPrefix(n, name+".conflict-") {
			copies = append(copies, n)
		}
	}
	if len(copies) != 1 {
		h.t.Fatalf("conflict copies of %s: %q in %q", name, copies, h.names())
	}
	if got, _, _ := h.object(copies[0]); got != want {
		h.t.Fatalf("conflict copy holds %q, want %q", got, want)
	}
}

// failWrites fails the calls that make an object (data PUT, hashmap PUT).
func (h *harness) failWrites(err error) *fakestore.Rule {
	return h.store.Cloud().Faults.Add(fakestore.Rule{Err: err, Match: func(c fakestore.Call) bool {
		return c.Op == "PutObject" || c.Op == "PutHashmap"
	}})
}

// TestCommitFaults: a commit the store fails returns close()'s errno
// (errmap.Commit) and loses nothing: a retryable failure stays in the
// journal and is committed once the store answers; a refusal no retry can
// fix goes to uploads/failed/ and the name keeps the server's version.
func TestCommitFaults(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		errno   syscall.Errno
		refused bool // kept under failed/, not retried
	}{
		{"server error", fault.ErrUnavailable, syscall.EIO, false},
		{"no reply", fakestore.Unreachable(), syscall.EIO, false},
		{"quota", fault.ErrQuota, syscall.EDQUOT, false},
		{"forbidden", fault.ErrForbidden, syscall.EIO, true},
		{"bad request", fault.ErrInvalid, syscall.EIO, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("f", "server version")
			node := h.node("f")
			fh, errno := h.open(node, syscall.O_WRONLY|syscall.O_TRUNC)
			if errno != 0 {
				t.Fatal(errno)
			}
			if errno := h.write(node, fh, 0, "my data"); errno != 0 {
				t.Fatal(errno)
			}
			h.failWrites(c.err)
			if errno := h.flush(node, fh); errno != c.errno {
				t.Fatalf("close: %v, want %v", errno, c.errno)
			}
			if got, _, _ := h.object("f"); got != "server version" {
				t.Fatalf("store after the failed commit: %q", got)
			}
			m := h.sys.managers[testOwner]
			if c.refused {
				h.release(node, fh)
				if f := m.Failed(); len(f) != 1 || f[0].Name != "f" {
					t.Fatalf("failed commits: %+v", f)
				}
				return
			}
			if p := m.Pending(); len(p) != 1 || p[0].Name != "f" || p[0].Error == "" {
				t.Fatalf("pending after the failure: %+v", p)
			}
			h.store.Cloud().Faults.Clear()
			if errno := h.fsync(node, fh); errno != 0 {
				t.Fatalf("fsync once the store answers: %v", errno)
			}
			h.release(node, fh)
			if got, _, _ := h.object("f"); got != "my data" {
				t.Fatalf("store after the retry: %q", got)
			}
		})
	}
}
