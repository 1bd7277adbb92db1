package fs

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// TestStaleListingWhenUnreachable: with the server not there (connection
// refused), a directory the mount has listed answers lookups and readdir
// from its last listing, expired (logged once at warn, with the path and
// the cause); a directory never listed fails with EIO; a server that
// answers with an error (not unreachable) gets no stale answer. The list
// cache's clock is the test's.
func TestStaleListingWhenUnreachable(t *testing.T) {
	h := newHarness(t, 0)
	core, logs := observer.New(zapcore.WarnLevel)
	h.sys.lists.log = zap.New(core)
	now := time.Now()
	h.sys.lists.now = func() time.Time { return now }
	h.put("d/f", "x")
	h.put("d/g", "y")
	h.put("e/x", "z")
	d := h.node("d")
	if names, errno := h.readdir(d); errno != 0 || !slices.Equal(names, []string{"f", "g"}) {
		t.Fatalf("readdir d: %v, %v", names, errno)
	}
	now = now.Add(2 * time.Hour) // past the harness's TTLs (1 h): every listing is expired

	refused := h.store.Cloud().Faults.FailAll("ListDir", fakestore.Unreachable())
	if _, errno := h.lookup(rootID, "d"); errno != 0 {
		t.Fatalf("lookup d with the server unreachable: %v, want the last listing's answer", errno)
	}
	if names, errno := h.readdir(d); errno != 0 || !slices.Equal(names, []string{"f", "g"}) {
		t.Fatalf("readdir d with the server unreachable: %v, %v; want [f g] from the last listing", names, errno)
	}
	if _, errno := h.lookup(d, "f"); errno != 0 {
		t.Errorf("lookup d/f with the server unreachable: %v", errno)
	}
	if _, errno := h.lookup(d, "nope"); errno != syscall.ENOENT {
		t.Errorf("lookup d/nope with the server unreachable: %v, want ENOENT (absent from the last listing)", errno)
	}
	if h.store.Cloud().Faults.Fired(refused) == 0 {
		t.Fatal("the server was not asked: the listings were not expired")
	}
	// e is in the root's last listing, but was never listed itself.
	e, errno := h.lookup(rootID, "e")
	if errno != 0 {
		t.Fatalf("lookup e: %v", errno)
	}
	if _, errno := h.readdir(e.NodeId); errno != syscall.EIO {
		t.Errorf("readdir of a directory never listed, server unreachable: %v, want EIO", errno)
	}
	var stale []string
	for _, l := range logs.All() {
		if l.Message == "fs: server unreachable: answering from the directory's last listing" {
			ctx := l.ContextMap()
			stale = append(stale, fmt.Sprint(ctx["path"]))
			if ctx["error"] == nil {
				t.Errorf("stale answer logged without its cause: %v", ctx)
			}
		}
	}
	slices.Sort(stale)
	if want := []string{testOwner + "/" + testCont, testOwner + "/" + testCont + "/d"}; !slices.Equal(stale, want) {
		t.Errorf("stale answers logged for %v, want once each for %v", stale, want)
	}

	// A server that answers, with an error, is not unreachable: no stale answer.
	h.store.Cloud().Faults.Clear()
	h.store.Cloud().Faults.FailAll("ListDir", fmt.Errorf("503: %w", fault.ErrUnavailable))
	if _, errno := h.readdir(d); errno != syscall.EIO {
		t.Errorf("readdir d with the server failing (503): %v, want EIO", errno)
	}
	// Back: fresh listings again.
	h.store.Cloud().Faults.Clear()
	h.put("d/h", "w")
	if names, errno := h.readdir(d); errno != 0 || !slices.Equal(names, []string{"f", "g", "h"}) {
		t.Errorf("readdir d with the server back: %v, %v", names, errno)
	}
	if err := fakestore.Unreachable(); !errors.Is(err, fault.ErrUnreachable) {
		t.Fatal("fakestore.Unreachable is not fault.ErrUnreachable")
	}
}
