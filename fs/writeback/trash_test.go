package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// A committed file's journal directory (its block files and record) is set
// aside by one rename when the commit succeeds and removed in the
// background: right after the commit no directory of the file is left
// among the journal's entries, and once the manager is closed nothing at
// all is.
func TestCommitSetsJournalAside(t *testing.T) {
	e := newEnv(t, envOptions{budget: bs}) // room for one dirty block: the rest spill to block files
	f := e.open("big")
	data := randomBytes(t, 6*bs+7)
	writeSeq(t, f, data, 0, 64<<10)
	if st := e.m.Stats(); st.Spilled == 0 {
		t.Fatalf("stats %+v: no block spilled, the journal directory is not exercised", st)
	}
	if err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := journalEntries(t, e.dir); len(got) != 0 {
		t.Fatalf("journal after the commit = %v, want no entry", got)
	}
	f.Release()
	if !bytes.Equal(e.get("big"), data) {
		t.Fatal("committed content differs")
	}
	_ = e.m.Close()
	if left, _ := os.ReadDir(e.dir); len(left) != 0 {
		t.Fatalf("journal after Close holds %v", left)
	}
}

// A directory set aside that a crash left behind is never committed again
// (its object is on the server already, perhaps replaced since): Recover
// removes it.
func TestRecoverRemovesSetAside(t *testing.T) {
	ctx := context.Background()
	var proxy *flakyProxy
	e := newEnv(t, envOptions{budget: bs, front: func(target string) string {
		proxy = newFlakyProxy(t, target, 0)
		return proxy.front(target)
	}})
	f := e.open("ghost")
	writeSeq(t, f, randomBytes(t, 3*bs), 0, 64<<10)
	proxy.n.Store(1 << 30)
	failCommit(t, f)
	f.Release()
	_ = e.m.Close()
	var dir string
	for _, n := range journalEntries(t, e.dir) {
		if strings.HasSuffix(n, "/") && n != "failed/" {
			dir = strings.TrimSuffix(n, "/")
		}
	}
	if dir == "" {
		t.Fatalf("no journal directory for the failed commit in %v", journalEntries(t, e.dir))
	}
	trash := filepath.Join(e.dir, "."+dir+".trash0123")
	if err := os.Rename(filepath.Join(e.dir, dir), trash); err != nil {
		t.Fatal(err)
	}
	proxy.n.Store(0)
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir, Budget: cache.NewBudget(bs)})
	if p := m2.Pending(); len(p) != 0 {
		t.Fatalf("Pending = %+v, want none", p)
	}
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 0 {
		t.Fatalf("Recover = %+v, %v; want nothing to recover", res, err)
	}
	if _, err := e.admin.ObjectInfo(ctx, "c", "ghost", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("the set-aside record was committed: %v", err)
	}
	if _, err := os.Stat(trash); !os.IsNotExist(err) {
		t.Fatalf("the set-aside directory is still there: %v", err)
	}
}
