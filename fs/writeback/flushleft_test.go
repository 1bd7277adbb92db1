package writeback_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// TestFlushAllNamesWhatIsLeftInTheJournal: a commit an earlier run left in the journal, which no open file
// holds (its Recover could not reach the server), is not flushed by FlushAll — Recover completes it — but
// FlushAll says it is left there, so an unmount does not report every write committed (it did: robust11,
// session 11). With nothing left, FlushAll succeeds.
func TestFlushAllNamesWhatIsLeftInTheJournal(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	f := e.open("left")
	write(t, f, []byte("kept in the journal"), 0)
	proxy.n.Store(1 << 30) // the server is unreachable from now on
	if err := f.Commit(ctx); err == nil {
		t.Fatal("commit through a dead proxy succeeded")
	}
	_ = e.m.Close() // the daemon goes away without flushing

	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	err := m2.FlushAll(ctx, nil)
	var ce *writeback.CommitError
	if !errors.As(err, &ce) || ce.Name != "left" {
		t.Fatalf("FlushAll with a commit left in the journal = %v, want a CommitError naming it", err)
	}
	if _, err := m2.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.FlushAll(ctx, nil); err != nil {
		t.Fatalf("FlushAll after Recover = %v, want nil", err)
	}
}
