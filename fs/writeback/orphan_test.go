package writeback_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
)

// TestOrphan: a File detached from its name (unlinked while open) keeps its
// unflushed writes and reads its clean blocks from the base version after the
// object is deleted on the server; its commits send nothing; a new file of
// the name is a File of its own; the last Release removes its journal.
func TestOrphan(t *testing.T) {
	e := newEnv(t, envOptions{budget: 1}) // no memory: dirty blocks go to journal files
	ctx := context.Background()
	data := randomBytes(t, 3*bs+100)
	e.put("o", data)
	f := e.open("o")
	write(t, f, []byte("NEW"), bs) // block 1 dirty, 0, 2 and 3 clean
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	write(t, f, []byte("AFTER"), 2*bs) // unflushed
	f.Orphan()
	if !f.Orphaned() {
		t.Error("Orphaned() is false after Orphan")
	}
	if err := e.admin.DeleteObject(ctx, "c", "o", pithos.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(data)
	copy(want[bs:], "NEW")
	copy(want[2*bs:], "AFTER")
	if got := readAll(t, f); !bytes.Equal(got, want) {
		t.Error("an orphan's content after the object's delete differs from what was written")
	}
	write(t, f, []byte("LATER"), 0)
	copy(want, "LATER")
	e.count.take()
	if err := f.Commit(ctx); err != nil {
		t.Errorf("Commit of an orphan: %v", err)
	}
	if posts, puts, _ := e.count.take(); posts+puts != 0 {
		t.Errorf("Commit of an orphan sent %d block POSTs and %d hashmap PUTs", posts, puts)
	}
	if e.m.Lookup("c", "o") != nil {
		t.Error("the orphan is still registered under its name")
	}
	g, err := e.m.Open(writeback.Base{Container: "c", Name: "o", BlockSize: bs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g == f || g.Size() != 0 {
		t.Errorf("a new file of the orphan's name: same File %v, size %d", g == f, g.Size())
	}
	write(t, g, []byte("fresh"), 0)
	if err := g.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	g.Release()
	if got := readAll(t, f); !bytes.Equal(got, want) {
		t.Error("the orphan changed when a new file took its name")
	}
	entries := journalEntries(t, e.dir)
	f.Release()
	after := journalEntries(t, e.dir)
	if len(entries) != 1 || len(after) != 0 {
		t.Errorf("journal entries: %d before the orphan's last Release, %d after; want 1 and 0", len(entries), len(after))
	}
	if got := string(e.get("o")); got != "fresh" {
		t.Errorf("server: %q, want the new file's", got)
	}
}
