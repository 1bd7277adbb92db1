package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// journalEntries lists the journal root's entries (name, "/" after a
// directory's), skipping dot files (temporary records, segments), and
// "seg:<id>" for each record the segments hold pending.
func journalEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		out = append(out, n)
	}
	for _, id := range writeback.SegmentPending(dir) {
		out = append(out, "seg:"+id)
	}
	return out
}

// journalRecords lists the journal's records of pending commits: flat
// (<id>.json) and in a directory (<id>/record.json).
func journalRecords(t *testing.T, dir string) []string {
	t.Helper()
	flat, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	in, _ := filepath.Glob(filepath.Join(dir, "*", "record.json"))
	return append(flat, in...)
}

// failCommit commits f through a dead proxy and checks that it failed.
func failCommit(t *testing.T, f *writeback.File) {
	t.Helper()
	if err := f.Commit(context.Background()); err == nil {
		t.Fatal("commit through a dead proxy succeeded")
	}
}

// A small file's pending commit is one flat record, <id>.json, with no
// directory; once committed, nothing of it is left.
func TestFlatRecordForSmallFile(t *testing.T) {
	e, proxy := newFlakyEnv(t)
	f := e.open("s")
	data := randomBytes(t, 2*bs+7)
	write(t, f, data, 0)
	proxy.n.Store(1 << 30)
	failCommit(t, f)
	got := journalEntries(t, e.dir)
	if len(got) != 1 || !strings.HasSuffix(got[0], ".json") {
		t.Fatalf("journal after a failed small commit = %v, want one flat record", got)
	}
	if n := heldBlocks(t, filepath.Join(e.dir, got[0])); n != 3 {
		t.Fatalf("flat record holds %d blocks, want 3", n)
	}
	if p := e.m.Pending(); len(p) != 1 || p[0].Name != "s" {
		t.Fatalf("Pending = %+v", p)
	}
	proxy.n.Store(0)
	if err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("s"), data) {
		t.Fatal("committed content differs")
	}
	if got := journalEntries(t, e.dir); len(got) != 0 {
		t.Fatalf("journal after the commit = %v, want empty", got)
	}
}

// A file whose block no longer fits in a record moves from a flat record to
// its directory: the flat record goes once the directory's is written, and
// Recover commits the newer version.
func TestFlatRecordThenDirectory(t *testing.T) {
	ctx := context.Background()
	var proxy *flakyProxy
	e := newEnv(t, envOptions{blockSize: 256 << 10, front: func(target string) string {
		proxy = newFlakyProxy(t, target, 0)
		return proxy.front(target)
	}})
	f := e.open("grow")
	write(t, f, []byte("first"), 0)
	proxy.n.Store(1 << 30)
	failCommit(t, f)
	if got := journalEntries(t, e.dir); len(got) != 1 || !strings.HasSuffix(got[0], ".json") {
		t.Fatalf("journal = %v, want one flat record", got)
	}
	data := randomBytes(t, 200<<10) // more than a record holds inline
	write(t, f, data, 0)
	failCommit(t, f)
	f.Release()
	_ = e.m.Close()
	got := journalEntries(t, e.dir)
	if len(got) != 1 || !strings.HasSuffix(got[0], "/") {
		t.Fatalf("journal = %v, want the file's directory only", got)
	}
	if recs := journalRecords(t, e.dir); len(recs) != 1 || heldBlocks(t, recs[0]) != 1 {
		t.Fatalf("records %v, want one holding one block", recs)
	}
	proxy.n.Store(0)
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	if !bytes.Equal(e.get("grow"), data) {
		t.Fatal("recovered content differs")
	}
	if got := journalEntries(t, e.dir); len(got) != 0 {
		t.Fatalf("journal after Recover = %v", got)
	}
}

// pendingFlat leaves the small file name with content data as a flat
// record in a journal (a failed commit, the manager closed) and returns
// the record's path.
func pendingFlat(t *testing.T, e *env, proxy *flakyProxy, name string, data []byte) string {
	t.Helper()
	before := map[string]bool{}
	for _, n := range journalEntries(t, e.dir) {
		before[n] = true
	}
	f := e.open(name)
	write(t, f, data, 0)
	proxy.n.Store(1 << 30)
	failCommit(t, f)
	f.Release()
	for _, n := range journalEntries(t, e.dir) {
		if !before[n] && strings.HasSuffix(n, ".json") {
			return filepath.Join(e.dir, n)
		}
	}
	t.Fatalf("no flat record for %s in %v", name, journalEntries(t, e.dir))
	return ""
}

// Journals written before flat records (every record in its file's
// directory, small blocks inline) are listed and recovered as before; when
// a crash left both a directory's record and an older flat one, the
// directory's wins and both go; an unreadable flat record is kept under
// failed/ as it was.
func TestRecoverJournalLayouts(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	old := randomBytes(t, bs+3)
	oldRec := pendingFlat(t, e, proxy, "old", old)
	stale := pendingFlat(t, e, proxy, "both", []byte("stale version"))
	staleData, err := os.ReadFile(stale)
	if err != nil {
		t.Fatal(err)
	}
	newer := randomBytes(t, 3*bs)
	newerRec := pendingFlat(t, e, proxy, "newer", newer)
	broken := pendingFlat(t, e, proxy, "broken", []byte("x"))
	_ = e.m.Close()

	// "old": the previous build's layout, <id>/record.json.
	toDir := func(rec, id string) {
		dir := filepath.Join(e.dir, id)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(rec, filepath.Join(dir, "record.json")); err != nil {
			t.Fatal(err)
		}
	}
	toDir(oldRec, strings.TrimSuffix(filepath.Base(oldRec), ".json"))
	// "both": the newer record in the directory, the stale one flat beside it.
	bothID := strings.TrimSuffix(filepath.Base(stale), ".json")
	newerData, err := os.ReadFile(newerRec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(newerRec); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.dir, bothID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, bothID, "record.json"), newerData, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, staleData, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A temporary record a crash left half-written.
	if err := os.WriteFile(filepath.Join(e.dir, ".x.json.tmp"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	proxy.n.Store(0)
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	if p := m2.Pending(); len(p) != 2 {
		// "old" and "newer" (the directory's record of "both"); "broken" is unreadable.
		t.Fatalf("Pending before Recover = %+v, want 2", p)
	}
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 3 {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	if !bytes.Equal(e.get("old"), old) {
		t.Error("old layout: recovered content differs")
	}
	if !bytes.Equal(e.get("newer"), newer) {
		t.Error("both records: the directory's version was not the one committed")
	}
	if _, err := e.admin.ObjectInfo(ctx, "c", "both", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("the stale flat record was committed too: %v", err)
	}
	failed := m2.Failed()
	if len(failed) != 1 || failed[0].Readable {
		t.Fatalf("Failed = %+v, want the unreadable record", failed)
	}
	kept, err := os.ReadFile(filepath.Join(e.dir, "failed", failed[0].ID, "record.json"))
	if err != nil || string(kept) != "{not json" {
		t.Fatalf("failed/ keeps %q, %v; want the unreadable record as it was", kept, err)
	}
	if got := journalEntries(t, e.dir); len(got) != 1 || got[0] != "failed/" {
		t.Fatalf("journal after Recover = %v, want failed/ only", got)
	}
	if _, err := os.Stat(filepath.Join(e.dir, ".x.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary record not removed: %v", err)
	}
}
