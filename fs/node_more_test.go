package fs

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// containers returns the store's container names.
func (h *harness) containers() []string {
	h.t.Helper()
	cs, err := h.store.ListContainers(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// TestAccountContainers: at an account's root, containers are directories:
// mkdir creates one, rmdir deletes an empty one and refuses one with
// objects (ENOTEMPTY), and failures are the errnos of their domain errors.
func TestAccountContainers(t *testing.T) {
	h := newHarnessAt(t, 0, Remote{Account: testOwner})
	h.put("f", "x") // testCont holds an object
	if names, errno := h.readdir(rootID); errno != 0 || !slices.Contains(names, testCont) {
		t.Fatalf("readdir: %q %v", names, errno)
	}
	if _, errno := h.mkdir(rootID, "new"); errno != 0 {
		t.Fatalf("mkdir: %v", errno)
	}
	if got := h.containers(); !slices.Equal(got, []string{testCont, "new"}) {
		t.Fatalf("containers after mkdir: %q", got)
	}
	if errno := h.rmdir(rootID, testCont); errno != syscall.ENOTEMPTY {
		t.Fatalf("rmdir of a container with objects: %v", errno)
	}
	h.store.Cloud().Faults.FailNth("DeleteContainer", 1, fault.ErrForbidden)
	if errno := h.rmdir(rootID, "new"); errno != syscall.EACCES {
		t.Fatalf("rmdir, forbidden: %v", errno)
	}
	if errno := h.rmdir(rootID, "new"); errno != 0 {
		t.Fatalf("rmdir: %v", errno)
	}
	if got := h.containers(); !slices.Equal(got, []string{testCont}) {
		t.Fatalf("containers after rmdir: %q", got)
	}
	h.store.Cloud().Faults.FailAll("CreateContainer", fault.ErrQuota)
	if _, errno := h.mkdir(rootID, "more"); errno != syscall.EDQUOT {
		t.Fatalf("mkdir over quota: %v", errno)
	}
}

// TestSymlink: a symlink is an object holding its target, read back by
// readlink, also through a fresh lookup.
func TestSymlink(t *testing.T) {
	h := newHarness(t, 0)
	in := h.in(rootID)
	var out fuse.EntryOut
	if st := h.raw.Symlink(nil, &in, "../some/target", "link", &out); !st.Ok() {
		t.Fatalf("symlink: %v", st)
	}
	data, info, ok := h.object("link")
	if !ok || data != "../some/target" || !strings.HasPrefix(info.ContentType, symlinkType) {
		t.Fatalf("stored %q %v, type %q", data, ok, info.ContentType)
	}
	h.forget()
	n, errno := h.lookup(rootID, "link")
	if errno != 0 || n.Attr.Mode&syscall.S_IFMT != syscall.S_IFLNK {
		t.Fatalf("lookup: %v, mode %o", errno, n.Attr.Mode)
	}
	hd := h.in(n.NodeId)
	if target, st := h.raw.Readlink(nil, &hd); !st.Ok() || string(target) != "../some/target" {
		t.Fatalf("readlink: %q %v", target, st)
	}
	if _, _, ok := h.object("link2"); ok {
		t.Fatal("no such object expected")
	}
	h.store.Cloud().Faults.FailAll("PutObject", fault.ErrForbidden)
	if st := h.raw.Symlink(nil, &in, "t", "link2", &out); statusErrno(st) != syscall.EACCES {
		t.Fatalf("symlink, forbidden: %v", st)
	}
}

// TestLargeSequentialWrite: a writer filling many blocks has them sent
// while it writes (a probe of the blocks the store lacks, then block
// uploads), and the commit makes the object from them; an upload that
// fails meanwhile is sent again by the commit, so nothing is lost.
func TestLargeSequentialWrite(t *testing.T) {
	const bs = 16 << 10
	for _, failUpload := range []bool{false, true} {
		t.Run(map[bool]string{false: "uploads succeed", true: "an early upload fails"}[failUpload], func(t *testing.T) {
			h := newHarness(t, bs)
			faults := &h.store.Cloud().Faults
			var failed *fakestore.Rule
			if failUpload {
				failed = faults.FailNth("UploadHashedBlock", 1, fault.ErrUnavailable)
			}
			probes := faults.Add(fakestore.Rule{Op: "PutHashmap", Do: func(fakestore.Call) {},
				Match: func(c fakestore.Call) bool { return c.Name == writeback.ProbeName }})
			node, fh, errno := h.create(rootID, "big", syscall.O_WRONLY)
			if errno != 0 {
				t.Fatal(errno)
			}
			var want strings.Builder
			for i := range 40 {
				chunk := strings.Repeat(string(rune('a'+i%26)), bs)
				want.WriteString(chunk)
				if errno := h.write(node, fh, int64(i*bs), chunk); errno != 0 {
					t.Fatalf("write %d: %v", i, errno)
				}
			}
			if errno := h.close(node, fh); errno != 0 {
				t.Fatalf("close: %v", errno)
			}
			if got, _, _ := h.object("big"); got != want.String() {
				t.Fatalf("stored %d bytes, want %d", len(got), want.Len())
			}
			if n := faults.Calls("UploadHashedBlock"); n < 26 {
				t.Errorf("%d block uploads, want at least the 26 distinct blocks", n)
			}
			if failed != nil && faults.Fired(failed) != 1 {
				t.Error("the upload fault never fired")
			}
			if faults.Fired(probes) == 0 {
				t.Error("no probe: the blocks were not sent while writing")
			}
			if _, _, ok := h.object(writeback.ProbeName); ok {
				t.Error("the probe left an object")
			}
		})
	}
}

// TestWholeCloudRoot: the root of a whole-cloud mount shows the user's
// account and the accounts sharing with it, each reached through
// Config.Accounts (another account's Store).
func TestWholeCloudRoot(t *testing.T) {
	h := newHarnessAt(t, 0, Remote{})
	h.put("mine", "m")
	bob := h.store.WithAccount("bob")
	ctx := context.Background()
	if _, err := bob.CreateContainer(ctx, "pub", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.PutObject(ctx, "pub", "f", strings.NewReader("from bob"), 8, pithos.PutOptions{Sharing: &pithos.Sharing{Read: []string{testOwner}}}); err != nil {
		t.Fatal(err)
	}
	names, errno := h.readdir(rootID)
	if errno != 0 || !slices.Contains(names, testOwner) || !slices.Contains(names, "bob") {
		t.Fatalf("root: %q, %v", names, errno)
	}
	if got, errno := h.readFile(h.node("bob", "pub", "f")); errno != 0 || got != "from bob" {
		t.Fatalf("bob's shared file: %q, %v", got, errno)
	}
	if got, errno := h.readFile(h.node(testOwner, testCont, "mine")); errno != 0 || got != "m" {
		t.Fatalf("own file: %q, %v", got, errno)
	}
	h.sys.mu.Lock()
	n := len(h.sys.accounts)
	h.sys.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d accounts known, want 2", n)
	}

	// Plain Swift has no listing of sharing accounts: when it fails, the
	// root shows the user's own account, not an error.
	h2 := newHarnessAt(t, 0, Remote{})
	bob2 := h2.store.WithAccount("bob")
	if _, err := bob2.CreateContainer(ctx, "pub", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob2.PutObject(ctx, "pub", "f", strings.NewReader("x"), 1, pithos.PutOptions{Sharing: &pithos.Sharing{Read: []string{testOwner}}}); err != nil {
		t.Fatal(err)
	}
	h2.store.Cloud().Faults.FailAll("ListSharingAccounts", fault.ErrInvalid)
	if names, errno := h2.readdir(rootID); errno != 0 || !slices.Contains(names, testOwner) || slices.Contains(names, "bob") {
		t.Fatalf("root while the sharing listing fails: %q, %v", names, errno)
	}
}
