package writeback

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJournalGCKeepsIssuedNames: a journal file name issued (newFileName) but not yet named by a block —
// an early-upload round's copy written while a commit of the same file runs its journal GC — is kept by
// that GC (it used to be removed, and the block then named a missing file: every later write to it and
// every commit failed with ENOENT); once settled, it is the GC's like any other.
func TestJournalGCKeepsIssuedNames(t *testing.T) {
	dir := t.TempDir()
	f := &File{dir: dir, hasDir: true, seq: 2, dirty: map[int64]*block{0: {file: "b1"}}}
	round, err := f.newFileName()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b1", "b2", round} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(n string) bool { _, err := os.Stat(filepath.Join(dir, n)); return err == nil }
	f.mu.Lock()
	keep := f.keepLocked()
	f.mu.Unlock()
	gcDir(dir, keep)
	if !exists("b1") || exists("b2") || !exists(round) {
		t.Fatalf("after the GC: b1 %v, b2 %v, %s %v; want the dirty block's and the issued name's kept, the stale one removed",
			exists("b1"), exists("b2"), round, exists(round))
	}
	f.mu.Lock()
	f.settleName(round) // the round found its block replaced: nobody names the copy
	keep = f.keepLocked()
	f.mu.Unlock()
	gcDir(dir, keep)
	if exists(round) || !exists("b1") {
		t.Fatalf("after settling: %s %v, b1 %v; want the copy collected, the dirty block's kept", round, exists(round), exists("b1"))
	}
}
