package writeback

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestPersistLongRecordGoesFlat: the record of a file without block files
// whose line would pass segLineMax (a small edit at the end of a file of
// 20 000 blocks: its hashmap) is written as a flat record, fsynced, not
// as a segment line, and replays from there.
func TestPersistLongRecordGoesFlat(t *testing.T) {
	const bsz, n = 4096, 20000
	jd := t.TempDir()
	m, err := New(Config{Client: &lackingStore{}, JournalDir: jd})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := Base{Container: "c", Name: "big", BlockSize: bsz, Size: n * bsz, ETag: "e"}
	for i := range n {
		base.Hashes = append(base.Hashes, fmt.Sprintf("%064x", i))
	}
	f := &File{m: m, id: "x", dir: filepath.Join(jd, "x")}
	data := make([]byte, bsz)
	data[0] = 7
	snap := &snapshot{blocks: map[int64]*block{n - 1: {data: data, mem: bsz}}, size: n * bsz, clip: n * bsz}
	rec, err := f.persist(snap, base, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Inline) != 1 || len(rec.Hashes) != n {
		t.Fatalf("record: %d inline blocks, %d hashes; want 1 and %d", len(rec.Inline), len(rec.Hashes), n)
	}
	if _, err := os.Stat(flatPath(f.dir)); err != nil || !f.flatRec {
		t.Fatalf("flat record: %v, flatRec %v; want it written", err, f.flatRec)
	}
	if p := SegmentPending(jd); len(p) != 0 {
		t.Errorf("segment lines pending %v, want none", p)
	}
	got, err := readRecord(f.dir)
	if err != nil || len(got.Hashes) != n || got.Name != "big" {
		t.Fatalf("reading the flat record back: %v", err)
	}
}
