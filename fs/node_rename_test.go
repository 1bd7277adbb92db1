package fs

import (
	"slices"
	"syscall"
	"testing"

	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

func TestRename(t *testing.T) {
	cases := []struct {
		name          string
		fromDir, from string // fromDir "" = the root
		toDir, to     string
		flags         uint32
		errno         syscall.Errno
		want          []string // the store's names after
	}{
		{"file in its directory", "", "a", "", "b", 0, 0, []string{"a2", "b", "d/x", "d/y/z", "e"}},
		{"file into a directory", "", "a", "e", "a", 0, 0, []string{"a2", "d/x", "d/y/z", "e", "e/a"}},
		{"file over another", "", "a", "", "a2", 0, 0, []string{"a2", "d/x", "d/y/z", "e"}},
		{"file over another, no replace", "", "a", "", "a2", renameNoReplace, syscall.EEXIST,
			[]string{"a", "a2", "d/x", "d/y/z", "e"}},
		{"directory subtree", "", "d", "", "moved", 0, 0, []string{"a", "a2", "e", "moved", "moved/x", "moved/y/z"}}, // with the marker the move needs
		{"directory into a directory", "", "d", "e", "d", 0, 0, []string{"a", "a2", "e", "e/d", "e/d/x", "e/d/y/z"}},
		{"file out of a directory", "d", "x", "", "x", 0, 0, []string{"a", "a2", "d/y/z", "e", "x"}},
		{"missing source", "", "nope", "", "b", 0, syscall.ENOENT, []string{"a", "a2", "d/x", "d/y/z", "e"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("a", "A")
			h.put("a2", "A2")
			h.put("d/x", "X")
			h.put("d/y/z", "Z")
			h.putDir("e")
			from, to := uint64(rootID), uint64(rootID)
			if c.fromDir != "" {
				from = h.node(c.fromDir)
			}
			if c.toDir != "" {
				to = h.node(c.toDir)
			}
			h.lookup(from, c.from) // the kernel looks both names up first
			h.lookup(to, c.to)
			if errno := h.rename(from, c.from, to, c.to, c.flags); errno != c.errno {
				t.Fatalf("rename: %v, want %v", errno, c.errno)
			}
			if got := h.names(); !slices.Equal(got, c.want) {
				t.Fatalf("store: %q, want %q", got, c.want)
			}
		})
	}
}

// TestRenameKeepsData: a renamed file has its content and its object's
// uuid (the inode number), and reads back through the new name.
func TestRenameKeepsData(t *testing.T) {
	h := newHarness(t, 0)
	h.put("old", "payload")
	_, before, _ := h.object("old")
	out, _ := h.lookup(rootID, "old")
	if errno := h.rename(rootID, "old", rootID, "new", 0); errno != 0 {
		t.Fatal(errno)
	}
	got, after, ok := h.object("new")
	if !ok || got != "payload" || after.UUID != before.UUID {
		t.Fatalf("after rename: %q %v uuid %s→%s", got, ok, before.UUID, after.UUID)
	}
	n, errno := h.lookup(rootID, "new")
	if errno != 0 || n.Attr.Ino != out.Attr.Ino {
		t.Fatalf("lookup new: %v, inode %d→%d", errno, out.Attr.Ino, n.Attr.Ino)
	}
	if data, errno := h.readFile(n.NodeId); errno != 0 || data != "payload" {
		t.Fatalf("read: %q %v", data, errno)
	}
	if _, errno := h.lookup(rootID, "old"); errno != syscall.ENOENT {
		t.Fatalf("lookup old: %v", errno)
	}
}

func TestRenameFaults(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		errno syscall.Errno
	}{
		{"server error", fault.ErrUnavailable, syscall.EIO},
		{"no reply", fakestore.Unreachable(), syscall.EIO},
		{"forbidden", fault.ErrForbidden, syscall.EACCES},
		{"source gone", fault.ErrNotFound, syscall.ENOENT},
		{"quota", fault.ErrQuota, syscall.EDQUOT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("a", "A")
			h.lookup(rootID, "a")
			h.store.Cloud().Faults.FailAll("MoveObject", c.err)
			if errno := h.rename(rootID, "a", rootID, "b", 0); errno != c.errno {
				t.Fatalf("rename: %v, want %v", errno, c.errno)
			}
			if got := h.names(); !slices.Equal(got, []string{"a"}) {
				t.Fatalf("store: %q", got)
			}
		})
	}
}
