package writeback

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func segFiles(t *testing.T, dir string) []int {
	t.Helper()
	seqs, err := segSeqs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

func segRec(id, name string) *record {
	return &record{ID: id, Container: "c", Name: name, BlockSize: 4096, Size: 1,
		Inline: map[int64][]byte{0: []byte(name)}, Blocks: map[int64]string{}}
}

// Segments go in order: a segment whose puts are all complete is removed
// only once every older one is, so no completion line is lost before the
// put it cancels; a full segment with nothing pending goes at once.
func TestSegmentTrimInOrder(t *testing.T) {
	dir := t.TempDir()
	l := newSegLog(dir)
	l.max = 1 // every put fills its segment: the next line starts a new one
	for _, id := range []string{"a", "b", "c"} {
		if err := l.put(segRec(id, id)); err != nil {
			t.Fatal(err)
		}
	}
	if got := segFiles(t, dir); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("segments %v, want 1 2 3", got)
	}
	l.done("b") // its line goes to segment 4; 2 has nothing pending but 1 has
	l.done("c")
	if got := segFiles(t, dir); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("segments after b, c complete: %v, want all kept behind 1", got)
	}
	if p := pendingIn(t, dir); !slices.Equal(p, []string{"a"}) {
		t.Fatalf("pending %v, want a", p)
	}
	l.done("a")
	if got := segFiles(t, dir); len(got) != 0 {
		t.Fatalf("segments after all complete: %v, want none (the active one was full)", got)
	}
	if err := l.put(segRec("d", "d")); err != nil {
		t.Fatal(err)
	}
	l.close()
	if got := segFiles(t, dir); !slices.Equal(got, []int{7}) {
		t.Fatalf("segments after close with d pending: %v, want 7", got)
	}
	l2 := newSegLog(dir)
	if first, _ := l2.firstSeq(); first != 8 {
		t.Fatalf("next run starts at %d, want 8", first)
	}
}

func pendingIn(t *testing.T, dir string) []string {
	t.Helper()
	ids := SegmentPending(dir)
	slices.Sort(ids)
	return ids
}

// segText is v as a segment line.
func segText(t *testing.T, v segLine) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// Recover replays earlier runs' segments into flat records: a later line
// supersedes an earlier one (across segments), a completion cancels its
// put, a torn line is skipped, a directory's record wins over the
// segment's, a segment's record replaces an older flat one, and this run's
// segment is left alone.
func TestReplaySegments(t *testing.T) {
	dir := t.TempDir()
	line := func(v segLine) string { return segText(t, v) }
	seg1 := line(segLine{Put: segRec("a", "a-old")}) + line(segLine{Put: segRec("b", "b")}) +
		line(segLine{Put: segRec("d", "d-seg")}) + line(segLine{Put: segRec("e", "e-seg")})
	seg2 := line(segLine{Put: segRec("a", "a-new")}) + line(segLine{Done: "b"}) +
		line(segLine{Put: segRec("c", "c")}) + `{"put":{"id":"f","contai`
	for seq, s := range map[int]string{1: seg1, 2: seg2} {
		if err := os.WriteFile(filepath.Join(dir, segName(seq)), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// d: its directory holds a newer record; e: an older flat record.
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeRecord(filepath.Join(dir, "d"), segRec("d", "d-dir")); err != nil {
		t.Fatal(err)
	}
	if err := writeRecord(filepath.Join(dir, "e"), segRec("e", "e-flat")); err != nil {
		t.Fatal(err)
	}
	m := &Manager{cfg: Config{JournalDir: dir}, log: slog.New(slog.DiscardHandler), seg: newSegLog(dir)}
	if err := m.seg.put(segRec("live", "live")); err != nil { // this run's: segment 3
		t.Fatal(err)
	}
	if err := m.replaySegments(); err != nil {
		t.Fatal(err)
	}
	if got := segFiles(t, dir); !slices.Equal(got, []int{3}) {
		t.Fatalf("segments after replay %v, want this run's (3) only", got)
	}
	want := map[string]string{"a": "a-new", "c": "c", "d": "d-dir", "e": "e-seg"}
	ids, err := journalIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"a", "c", "d", "e"}) {
		t.Fatalf("journal ids after replay %v, want a c d e", ids)
	}
	for id, name := range want {
		r, err := readRecord(filepath.Join(dir, id))
		if err != nil || r.Name != name {
			t.Errorf("record of %s: %+v, %v; want name %s", id, r, err, name)
		}
	}
}

// TestReplaySegmentOversizedLine: a segment line longer than a record can
// be (corrupt: 48 MiB without a newline that parses) is passed over holding
// at most segLineMax bytes of it (it was read whole, into up to 1 GiB), the
// records around it are replayed, and the segment is kept aside, not
// removed.
func TestReplaySegmentOversizedLine(t *testing.T) {
	dir := t.TempDir()
	line := func(v segLine) string { return segText(t, v) }
	huge := `{"put":{"id":"big","container":"c","name":"` + strings.Repeat("x", 48<<20) + `"}}` + "\n"
	seg := line(segLine{Put: segRec("a", "a")}) + huge + line(segLine{Put: segRec("b", "b")})
	if err := os.WriteFile(filepath.Join(dir, segName(1)), []byte(seg), 0o600); err != nil {
		t.Fatal(err)
	}
	seg = ""
	m := &Manager{cfg: Config{JournalDir: dir}, log: slog.New(slog.DiscardHandler), seg: newSegLog(dir)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := m.replaySegments(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("replay allocated %d MiB for a segment with a 48 MiB line, want at most 8", alloc>>20)
	}
	ids, err := journalIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("journal ids after replay %v, want a b (the records around the long line)", ids)
	}
	if _, err := os.Stat(filepath.Join(dir, segName(1)+segOversized)); err != nil {
		t.Errorf("the segment with the long line was not kept aside: %v", err)
	}
	if got := segFiles(t, dir); len(got) != 0 {
		t.Errorf("segments after replay %v, want none in play", got)
	}
}

// TestSegmentRefusesLongLine: put refuses a record whose line would pass
// segLineMax (what replay reads), writing nothing.
func TestSegmentRefusesLongLine(t *testing.T) {
	dir := t.TempDir()
	l := newSegLog(dir)
	defer l.close()
	rec := segRec("h", "h")
	for i := range 20000 { // a 80 MiB file of 4 KiB blocks, edited in its last: 1.4 MB of hashes
		rec.Hashes = append(rec.Hashes, fmt.Sprintf("%064x", i))
	}
	if err := l.put(rec); !errors.Is(err, errSegLineTooLong) {
		t.Fatalf("put of a %d-hash record: %v, want errSegLineTooLong", len(rec.Hashes), err)
	}
	if p := pendingIn(t, dir); len(p) != 0 {
		t.Errorf("pending after the refused put: %v", p)
	}
}
