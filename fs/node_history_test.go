package fs

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// versionsOf lists a version directory and returns each version's
// content, oldest first (the names sort by time).
func (h *harness) versionsOf(dir uint64) []string {
	h.t.Helper()
	names, errno := h.readdir(dir)
	if errno != 0 {
		h.t.Fatalf("readdir of versions: %v", errno)
	}
	slices.Sort(names)
	var out []string
	for _, n := range names {
		e, errno := h.lookup(dir, n)
		if errno != 0 {
			h.t.Fatalf("lookup %s: %v", n, errno)
		}
		data, errno := h.readFile(e.NodeId)
		if errno != 0 {
			h.t.Fatalf("read %s: %v", n, errno)
		}
		out = append(out, data)
	}
	return out
}

// TestHistoryViews: .pithosfs/versions/PATH holds every version of an
// object, readable, and .pithosfs/deleted/ the objects deleted since, with
// theirs (the fake keeps Pithos+ versions).
func TestHistoryViews(t *testing.T) {
	h := newHarness(t, 0)
	h.put("notes.txt", "first")
	h.put("notes.txt", "second draft")
	if errno := h.writeFile(rootID, "notes.txt", "third, through the mount"); errno != 0 {
		t.Fatal(errno)
	}
	want := []string{"first", "second draft", "third, through the mount"}
	if got := h.versionsOf(h.node(".pithosfs", "versions", "notes.txt")); !slices.Equal(got, want) {
		t.Fatalf("versions %q, want %q", got, want)
	}
	if errno := h.unlink(rootID, "notes.txt"); errno != 0 {
		t.Fatal(errno)
	}
	deleted, errno := h.readdir(h.node(".pithosfs", "deleted"))
	if errno != 0 || !slices.Contains(deleted, "notes.txt") {
		t.Fatalf("deleted view %q, %v", deleted, errno)
	}
	if got := h.versionsOf(h.node(".pithosfs", "deleted", "notes.txt")); !slices.Equal(got, want) {
		t.Fatalf("versions of the deleted object %q, want %q", got, want)
	}
	// The views are read-only.
	vdir := h.node(".pithosfs", "versions")
	if _, _, errno := h.create(vdir, "x", syscall.O_WRONLY); errno == 0 {
		t.Fatal("create in the versions view succeeded")
	}
}

// TestHistoryViewsFaults: a failing version listing is the errno of the
// lookup or readdir that needed it; a container without history (Pithos+
// versioning "none") has empty views.
func TestHistoryViewsFaults(t *testing.T) {
	h := newHarness(t, 0)
	h.put("a", "1")
	rule := h.store.Cloud().Faults.FailAll("ObjectVersions", fault.ErrUnavailable)
	vdir := h.node(".pithosfs", "versions")
	if e, errno := h.lookup(vdir, "a"); errno == 0 {
		if _, errno = h.readdir(e.NodeId); errno != syscall.EIO {
			t.Fatalf("readdir of versions while the store fails: %v", errno)
		}
	} else if errno != syscall.EIO {
		t.Fatalf("lookup of versions while the store fails: %v", errno)
	}
	if h.store.Cloud().Faults.Fired(rule) == 0 {
		t.Fatal("no version listing was asked for")
	}

	flat := newHarnessAt(t, 0, Remote{Container: "flat"})
	ctx := context.Background()
	if _, err := flat.store.CreateContainer(ctx, "flat", pithos.CreateContainerOptions{Versioning: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, err := flat.store.PutObject(ctx, "flat", "a", strings.NewReader("1"), 1, pithos.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if names, errno := flat.readdir(flat.node(".pithosfs", "versions")); errno != 0 || len(names) != 0 {
		t.Fatalf("versions view of a container without history: %q, %v", names, errno)
	}
	if _, errno := flat.lookup(flat.node(".pithosfs", "versions"), "a"); errno != syscall.ENOENT {
		t.Fatalf("lookup in it: %v", errno)
	}
}

// TestRestoreVersion: cp VERSION FILE is copy_file_range, which the mount
// turns into one server-side copy of the version over the file.
func TestRestoreVersion(t *testing.T) {
	h := newHarness(t, 0)
	h.put("doc", "old text")
	h.put("doc", "new text")
	vdir := h.node(".pithosfs", "versions", "doc")
	names, _ := h.readdir(vdir)
	slices.Sort(names)
	if len(names) != 2 {
		t.Fatalf("versions %q", names)
	}
	src := h.node(".pithosfs", "versions", "doc", names[0])
	sfh, errno := h.open(src, syscall.O_RDONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer h.release(src, sfh)
	dst := h.node("doc")
	dfh, errno := h.open(dst, syscall.O_WRONLY|syscall.O_TRUNC)
	if errno != 0 {
		t.Fatal(errno)
	}
	reads := h.store.Cloud().Faults.Calls("ReadRange")
	n, st := h.raw.CopyFileRange(nil, &fuse.CopyFileRangeIn{InHeader: h.in(src), FhIn: sfh, NodeIdOut: dst, FhOut: dfh, Len: 1 << 20})
	if !st.Ok() || n != uint32(len("old text")) {
		t.Fatalf("copy_file_range: %d, %v", n, st)
	}
	if errno := h.close(dst, dfh); errno != 0 {
		t.Fatalf("close: %v", errno)
	}
	if got, _, _ := h.object("doc"); got != "old text" {
		t.Fatalf("restored %q", got)
	}
	if h.store.Cloud().Faults.Calls("RestoreVersion") != 1 || h.store.Cloud().Faults.Calls("ReadRange") != reads {
		t.Fatal("the restore was not one server-side copy")
	}
}
