package fs

import (
	"slices"
	"syscall"
	"testing"

	"github.com/pithosfs/pithosfs/synnefo/fault"
)

func TestUnlink(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		err   error // injected into DeleteObject
		errno syscall.Errno
		gone  bool
	}{
		{"file", "f", nil, 0, true},
		{"file in a directory", "d/g", nil, 0, true},
		{"server error", "f", fault.ErrUnavailable, syscall.EIO, false},
		{"forbidden", "f", fault.ErrForbidden, syscall.EACCES, false},
		{"deleted meanwhile", "f", fault.ErrNotFound, syscall.ENOENT, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("f", "1")
			h.put("d/g", "2")
			dir, base := uint64(rootID), c.file
			if c.file == "d/g" {
				dir, base = h.node("d"), "g"
			}
			if _, errno := h.lookup(dir, base); errno != 0 { // as the kernel does first
				t.Fatal(errno)
			}
			if c.err != nil {
				h.store.Cloud().Faults.FailAll("DeleteObject", c.err)
			}
			if errno := h.unlink(dir, base); errno != c.errno {
				t.Fatalf("unlink: %v, want %v", errno, c.errno)
			}
			if _, _, ok := h.object(c.file); ok == c.gone {
				t.Fatalf("object there: %v, want %v", ok, !c.gone)
			}
			if c.gone {
				if _, errno := h.lookup(dir, base); errno != syscall.ENOENT {
					t.Fatalf("lookup after unlink: %v", errno)
				}
			}
		})
	}
}

func TestUnlinkMissing(t *testing.T) {
	h := newHarness(t, 0)
	if errno := h.unlink(rootID, "nothing"); errno != syscall.ENOENT {
		t.Fatalf("unlink of a missing name: %v", errno)
	}
}

func TestMkdirRmdir(t *testing.T) {
	h := newHarness(t, 0)
	d, errno := h.mkdir(rootID, "new")
	if errno != 0 {
		t.Fatal(errno)
	}
	_, info, ok := h.object("new")
	if !ok || !info.IsDir() {
		t.Fatalf("mkdir stored no marker: %v %+v", ok, info)
	}
	if errno := h.writeFile(d, "inside", "x"); errno != 0 {
		t.Fatal(errno)
	}
	if !slices.Equal(h.names(), []string{"new", "new/inside"}) {
		t.Fatalf("store: %q", h.names())
	}
	if _, errno := h.mkdir(rootID, "new"); errno != syscall.EEXIST {
		t.Errorf("mkdir of an existing directory: %v", errno)
	}
	if errno := h.rmdir(rootID, "new"); errno != syscall.ENOTEMPTY {
		t.Fatalf("rmdir of a directory with a file: %v", errno)
	}
	if errno := h.unlink(d, "inside"); errno != 0 {
		t.Fatal(errno)
	}
	if errno := h.rmdir(rootID, "new"); errno != 0 {
		t.Fatalf("rmdir: %v", errno)
	}
	if n := h.names(); len(n) != 0 {
		t.Fatalf("store after rmdir: %q", n)
	}
	if errno := h.rmdir(rootID, "new"); errno != syscall.ENOENT {
		t.Errorf("rmdir of a removed directory: %v", errno)
	}
}

// TestRmdirNotEmptyImplicit: a directory that exists only as a prefix of
// its objects' names (no marker) is not empty while they are there.
func TestRmdirNotEmptyImplicit(t *testing.T) {
	h := newHarness(t, 0)
	h.put("p/q", "x")
	if errno := h.rmdir(rootID, "p"); errno != syscall.ENOTEMPTY {
		t.Fatalf("rmdir: %v", errno)
	}
	if !slices.Equal(h.names(), []string{"p/q"}) {
		t.Fatalf("store: %q", h.names())
	}
}

func TestMkdirFaults(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		errno syscall.Errno
	}{
		{"server error", fault.ErrUnavailable, syscall.EIO},
		{"forbidden", fault.ErrForbidden, syscall.EACCES},
		{"quota", fault.ErrQuota, syscall.EDQUOT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.store.Cloud().Faults.FailAll("PutObject", c.err)
			if _, errno := h.mkdir(rootID, "d"); errno != c.errno {
				t.Fatalf("mkdir: %v, want %v", errno, c.errno)
			}
			if n := h.names(); len(n) != 0 {
				t.Fatalf("store: %q", n)
			}
		})
	}
}
