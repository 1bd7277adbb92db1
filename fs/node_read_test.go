package fs

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"

	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// putDir stores a directory marker, as mkdir by another client does.
func (h *harness) putDir(name string) {
	h.t.Helper()
	if _, err := h.store.PutObject(context.Background(), testCont, name, nil, 0, pithos.PutOptions{ContentType: pithos.DirectoryType}); err != nil {
		h.t.Fatal(err)
	}
}

// tree is the store most read tests start from.
func (h *harness) tree() {
	h.put("file.txt", "12345")
	h.put("implicit/child", "x") // a directory without a marker
	h.putDir("marked")
	h.put("marked/inner/deep", "y")
	h.putDir("empty")
	h.put("zero", "")
}

func TestLookup(t *testing.T) {
	h := newHarness(t, 0)
	h.tree()
	cases := []struct {
		name  string
		path  []string
		errno syscall.Errno
		mode  uint32 // S_IFMT bits, when found
		size  uint64
	}{
		{"file", []string{"file.txt"}, 0, syscall.S_IFREG, 5},
		{"empty file", []string{"zero"}, 0, syscall.S_IFREG, 0},
		{"directory without marker", []string{"implicit"}, 0, syscall.S_IFDIR, 0},
		{"directory with marker", []string{"marked"}, 0, syscall.S_IFDIR, 0},
		{"file in a directory", []string{"implicit", "child"}, 0, syscall.S_IFREG, 1},
		{"directory under a marker", []string{"marked", "inner"}, 0, syscall.S_IFDIR, 0},
		{"missing at the root", []string{"nope"}, syscall.ENOENT, 0, 0},
		{"missing in a directory", []string{"implicit", "nope"}, syscall.ENOENT, 0, 0},
		{"prefix of a name is no entry", []string{"file"}, syscall.ENOENT, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := uint64(rootID)
			for _, p := range c.path[:len(c.path)-1] {
				id = h.node(p)
			}
			out, errno := h.lookup(id, c.path[len(c.path)-1])
			if errno != c.errno {
				t.Fatalf("lookup %v: errno %v, want %v", c.path, errno, c.errno)
			}
			if errno != 0 {
				return
			}
			if got := out.Attr.Mode & syscall.S_IFMT; got != c.mode {
				t.Errorf("mode %o, want %o", got, c.mode)
			}
			if c.mode == syscall.S_IFREG && out.Attr.Size != c.size {
				t.Errorf("size %d, want %d", out.Attr.Size, c.size)
			}
		})
	}
}

func TestReaddir(t *testing.T) {
	h := newHarness(t, 0)
	h.tree()
	cases := []struct {
		name string
		path []string
		want []string
	}{
		{"root", nil, []string{".pithosfs", "empty", "file.txt", "implicit", "marked", "zero"}},
		{"directory without marker", []string{"implicit"}, []string{"child"}},
		{"directory with marker", []string{"marked"}, []string{"inner"}},
		{"nested", []string{"marked", "inner"}, []string{"deep"}},
		{"empty marker", []string{"empty"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names, errno := h.readdir(h.node(c.path...))
			if errno != 0 {
				t.Fatal(errno)
			}
			slices.Sort(names)
			if !slices.Equal(names, c.want) {
				t.Errorf("readdir %v = %q, want %q", c.path, names, c.want)
			}
		})
	}
}

// TestReaddirSeesOtherWriter: a listing fetched again shows what another
// client stored and drops what it deleted.
func TestReaddirSeesOtherWriter(t *testing.T) {
	h := newHarness(t, 0)
	h.put("a", "1")
	h.put("b", "2")
	if names, _ := h.readdir(rootID); !slices.Contains(names, "a") {
		t.Fatalf("readdir = %q", names)
	}
	h.put("c", "3")
	if err := h.store.DeleteObject(context.Background(), testCont, "a", pithos.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.forget()
	names, errno := h.readdir(rootID)
	if errno != 0 || slices.Contains(names, "a") || !slices.Contains(names, "c") {
		t.Fatalf("readdir after changes = %q, %v", names, errno)
	}
}

func TestRead(t *testing.T) {
	const bs = 64 << 10
	h := newHarness(t, bs)
	data := make([]byte, 3*bs+1234)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	copy(data[bs:], make([]byte, 5000)) // zeros inside a block
	h.put("big", string(data))
	h.put("small", "hello, world")
	cases := []struct {
		name      string
		file      string
		off, size int
		want      []byte
	}{
		{"small whole", "small", 0, 100, []byte("hello, world")},
		{"small middle", "small", 7, 5, []byte("world")},
		{"at the end", "small", 12, 10, nil},
		{"past the end", "small", 100, 10, nil},
		{"first block", "big", 0, bs, data[:bs]},
		{"across blocks", "big", bs - 100, 200, data[bs-100 : bs+100]},
		{"zeros inside a block", "big", bs, 5000, data[bs : bs+5000]},
		{"last short block", "big", 3*bs - 10, 4096, data[3*bs-10:]},
		{"whole file", "big", 0, len(data) + 10, data},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := h.node(c.file)
			fh, errno := h.open(n, syscall.O_RDONLY)
			if errno != 0 {
				t.Fatal(errno)
			}
			defer h.release(n, fh)
			got, errno := h.read(n, fh, int64(c.off), c.size)
			if errno != 0 {
				t.Fatal(errno)
			}
			if !bytes.Equal([]byte(got), c.want) {
				t.Errorf("read %d+%d: %d bytes, want %d (equal prefix: %v)", c.off, c.size, len(got), len(c.want),
					bytes.HasPrefix(c.want, []byte(got)))
			}
		})
	}
}

// TestReadFaults: what the store fails with is the errno open or read
// returns, and a read after the fault is gone succeeds.
func TestReadFaults(t *testing.T) {
	cases := []struct {
		name   string
		op     string // GetHashmap: at open; ReadRange: at the first read
		err    error
		errno  syscall.Errno
		atOpen bool
	}{
		{"server error at open", "GetHashmap", fault.ErrUnavailable, syscall.EIO, true},
		{"no reply at open", "GetHashmap", fakestore.Unreachable(), syscall.EIO, true},
		{"forbidden at open", "GetHashmap", fault.ErrForbidden, syscall.EACCES, true},
		{"gone at open", "GetHashmap", fault.ErrNotFound, syscall.ENOENT, true},
		{"server error at read", "ReadRange", fault.ErrUnavailable, syscall.EIO, false},
		{"no reply at read", "ReadRange", fakestore.Unreachable(), syscall.EIO, false},
		{"forbidden at read", "ReadRange", fault.ErrForbidden, syscall.EACCES, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("f", "content")
			n := h.node("f")
			rule := h.store.Cloud().Faults.FailAll(c.op, c.err)
			fh, errno := h.open(n, syscall.O_RDONLY)
			if c.atOpen {
				if errno != c.errno {
					t.Fatalf("open: %v, want %v", errno, c.errno)
				}
			} else {
				if errno != 0 {
					t.Fatalf("open: %v", errno)
				}
				if _, errno := h.read(n, fh, 0, 100); errno != c.errno {
					t.Fatalf("read: %v, want %v", errno, c.errno)
				}
				h.release(n, fh)
			}
			if h.store.Cloud().Faults.Fired(rule) == 0 {
				t.Fatal("the fault never fired")
			}
			h.store.Cloud().Faults.Clear()
			if got, errno := h.readFile(n); errno != 0 || got != "content" {
				t.Fatalf("read after the fault: %q, %v", got, errno)
			}
		})
	}
}

// TestLookupFaults: a failed listing is the lookup's errno, and is not
// cached as the directory's content.
func TestLookupFaults(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		errno syscall.Errno
	}{
		{"server error", fault.ErrUnavailable, syscall.EIO},
		{"no reply", fakestore.Unreachable(), syscall.EIO},
		{"forbidden", fault.ErrForbidden, syscall.EACCES},
		{"unauthorized", fault.ErrUnauthorized, syscall.EACCES},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("d/f", "x")
			h.store.Cloud().Faults.Add(fakestore.Rule{Match: func(c fakestore.Call) bool {
				return c.Op == "ListDir" || c.Op == "ObjectPages" || c.Op == "ObjectInfo"
			}, Err: c.err})
			if _, errno := h.lookup(rootID, "d"); errno != c.errno {
				t.Fatalf("lookup: %v, want %v", errno, c.errno)
			}
			h.store.Cloud().Faults.Clear()
			if _, errno := h.lookup(rootID, "d"); errno != 0 {
				t.Fatalf("lookup after the fault: %v", errno)
			}
		})
	}
}
