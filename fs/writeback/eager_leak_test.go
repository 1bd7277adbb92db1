package writeback

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
)

// lackingStore is a Store whose server lacks every block; UploadHashedBlock
// runs hook (the test's failure injection) before it succeeds. Other
// methods are not used.
type lackingStore struct {
	Store
	hook func()
}

func (s *lackingStore) PutHashmap(ctx context.Context, container, name string, hm *hashmap.Map, opts object.PutOptions) (*object.PutResult, []string, error) {
	return nil, hm.Hashes, nil
}

func (s *lackingStore) UploadHashedBlock(ctx context.Context, container, hash string, data []byte) error {
	s.hook()
	return nil
}

func (s *lackingStore) WithProgress(ctx context.Context, fn func()) context.Context { return ctx }

// TestEagerRoundFailedCopyReleasesName: an early-upload round whose journal
// copy of an uploaded block cannot be written (the file's journal directory
// is gone) fails, and gives the name it issued for the copy back: it was
// left issued (File.fresh) for the file's life, kept from every journal GC
// and growing by one per failed copy.
func TestEagerRoundFailedCopyReleasesName(t *testing.T) {
	const bsz = 4096
	dir := filepath.Join(t.TempDir(), "f")
	st := &lackingStore{hook: func() { _ = os.RemoveAll(dir) }}
	m, err := New(Config{Client: st, JournalDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data := make([]byte, bsz)
	data[0] = 1
	f := &File{m: m, dir: dir, base: Base{Container: "c", BlockSize: bsz}, dirty: map[int64]*block{0: {data: data, mem: bsz}}}
	if _, err := f.makeDir(); err != nil {
		t.Fatal(err)
	}
	items := f.seal([]int64{0})
	if len(items) != 1 {
		t.Fatalf("sealed %d blocks, want 1", len(items))
	}
	if err := m.eagerRound(f, items); err == nil {
		t.Fatal("the round succeeded without its journal copy")
	}
	f.unseal(items)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fresh) != 0 {
		t.Errorf("names still issued after the failed round: %v, want none", f.fresh)
	}
	if b := f.dirty[0]; b.stored || b.file != "" || b.data == nil {
		t.Errorf("block after the failed round: stored %v, file %q, in memory %v; want it dirty in memory", b.stored, b.file, b.data != nil)
	}
}

// TestPersistFailedBlockFileReleasesName: a commit's block file that cannot
// be written (the journal directory is gone) gives its issued name back,
// as the early upload's copy above.
func TestPersistFailedBlockFileReleasesName(t *testing.T) {
	const bsz = 2 * inlineMax // above inlineMax: a block file, not the record
	m, err := New(Config{Client: &lackingStore{}, JournalDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f := &File{m: m, dir: filepath.Join(t.TempDir(), "gone"), hasDir: true}
	b := &block{data: make([]byte, bsz), mem: bsz}
	var rmu sync.Mutex
	rec := &record{Blocks: map[int64]string{}}
	err = f.persistBlock(rec, &rmu, &snapshot{blocks: map[int64]*block{0: b}, size: bsz, clip: bsz}, Base{Container: "c", BlockSize: bsz}, 0, b)
	if err == nil {
		t.Fatal("the block file was written into a missing directory")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fresh) != 0 {
		t.Errorf("names still issued after the failed block file: %v, want none", f.fresh)
	}
}

// TestStreamFailedCopyReleasesName: the Swift stream's journal copy of a
// block it sends (streamBody.load) that cannot be written (the journal
// directory is gone) gives its issued name back, and its slot, as the two
// above: the block is sent without a copy, and nothing names the slot.
func TestStreamFailedCopyReleasesName(t *testing.T) {
	const bsz = 4096
	m, err := New(Config{Client: &lackingStore{}, JournalDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f := &File{m: m, dir: filepath.Join(t.TempDir(), "gone"), hasDir: true, base: Base{Container: "c", BlockSize: bsz}}
	b := &block{data: make([]byte, bsz), mem: bsz}
	body := &streamBody{st: &stream{f: f}}
	data, wait, err := body.load(streamItem{i: 0, b: b, data: b.data, mem: true})
	if err != nil || len(data) != bsz {
		t.Fatalf("load: %d bytes, %v; want the block's %d", len(data), err, bsz)
	}
	name := wait()
	if name != "" {
		t.Fatalf("the copy into a missing directory was written as %q", name)
	}
	f.mu.Lock()
	fresh := len(f.fresh)
	f.mu.Unlock()
	if fresh != 0 {
		t.Errorf("names still issued after the failed stream copy: %v, want none", f.fresh)
	}
	if next, err := f.newFileName(); err != nil || next != slotName(0) {
		t.Errorf("the next name issued: %q, %v; want %q, the failed copy's slot given back", next, err, slotName(0))
	}
}
