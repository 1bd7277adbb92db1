package writeback

import (
	"testing"
)

// TestJournalGCKeepsIssuedNames: a journal slot issued (newFileName) but not yet named by a block — an
// early-upload round's copy written while a commit of the same file runs its journal GC — is kept by that
// GC (a block file of earlier builds was once removed there, and the block then named a missing file:
// every later write to it and every commit failed with ENOENT); once settled, it is the GC's like any
// other. A slot the GC frees is the next one issued; one still held never is.
func TestJournalGCKeepsIssuedNames(t *testing.T) {
	f := &File{dir: t.TempDir(), hasDir: true, dirty: map[int64]*block{}}
	f.mu.Lock()
	f.slots.take() // s0: the dirty block's
	f.slots.take() // s1: named by nothing any more (stale)
	f.dirty[0] = &block{file: slotName(0)}
	f.mu.Unlock()
	round, err := f.newFileName()
	if err != nil {
		t.Fatal(err)
	}
	if round != slotName(2) {
		t.Fatalf("issued %s, want s2 (s0 and s1 are in use)", round)
	}
	f.mu.Lock()
	f.gcLocked(nil)
	used := len(f.slots.used)
	next := f.slots.take()
	f.mu.Unlock()
	if used != 2 || next != 1 {
		t.Fatalf("after the GC: %d slots in use, next issued s%d; want 2 (the dirty block's and the issued one) and s1", used, next)
	}
	f.mu.Lock()
	f.settleName(round) // the round found its block replaced: nobody names the copy
	f.gcLocked(&record{Blocks: map[int64]string{3: slotName(1)}})
	_, roundHeld := f.slots.used[2]
	_, recHeld := f.slots.used[1]
	f.mu.Unlock()
	if roundHeld || !recHeld {
		t.Fatalf("after settling: the copy's slot held %v, the record's %v; want the copy's freed, the record's kept", roundHeld, recHeld)
	}
}
