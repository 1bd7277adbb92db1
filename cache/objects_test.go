package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
)

func TestAssembleObjectFile(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const bs = 4 << 20
	// Block 0 cached on disk; block 1 all zeros; block 2 fetched; block 3 short, opaque.
	b0 := bytes.Repeat([]byte{1}, bs)
	b2 := append(bytes.Repeat([]byte{2}, 1000), make([]byte, bs-1000)...)
	b3 := bytes.Repeat([]byte{3}, 5000)
	hk := func(b []byte) Key {
		s := sha256.Sum256(bytes.TrimRight(b, "\x00"))
		return HashKey(hex.EncodeToString(s[:]))
	}
	if err := c.Put(hk(b0), b0); err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	fetch := func(b []byte) FetchIntoFunc {
		return func(ctx context.Context, buf []byte) ([]byte, error) {
			fetches.Add(1)
			return append(buf[:0], b...), nil
		}
	}
	blocks := []ObjectBlock{
		{hk(b0), bs, fetch(b0)},
		{hk(make([]byte, bs)), bs, fetch(make([]byte, bs))},
		{hk(b2), bs, fetch(b2)},
		{OpaqueKey("obj:last"), len(b3), fetch(b3)},
	}
	want := bytes.Join([][]byte{b0, make([]byte, bs), b2, b3}, nil)
	if _, ok := c.ObjectFile("o1", int64(len(want))); ok {
		t.Fatal("object file before Assemble")
	}
	if err := c.Assemble(context.Background(), "o1", blocks); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3 (blocks 1-3; block 0 was cached)", n)
	}
	f, ok := c.ObjectFile("o1", int64(len(want)))
	if !ok {
		t.Fatal("no object file after Assemble")
	}
	got, _ := io.ReadAll(f)
	var st syscall.Stat_t
	_ = syscall.Fstat(int(f.Fd()), &st)
	f.Close()
	if !bytes.Equal(got, want) {
		t.Fatal("object file content differs")
	}
	if used := st.Blocks * 512; used > int64(len(want))-bs {
		t.Errorf("object file takes %d bytes on disk, want it sparse (< %d)", used, len(want)-bs)
	}
	if s := c.Stats(); s.ObjectFiles != 1 || s.MemBlocks > 1 {
		t.Errorf("stats %+v: want 1 object file and only block 0 in memory (assembly drops what it loaded)", s)
	}
	// Too large for the disk tier (more than half of it): refused.
	big := make([]ObjectBlock, 9)
	for i := range big {
		big[i] = blocks[1]
	}
	if err := c.Assemble(context.Background(), "o2", big); !errors.Is(err, ErrNoObjectFile) {
		t.Errorf("Assemble of 36 MiB into a 64 MiB disk tier: %v, want ErrNoObjectFile", err)
	}
	c.Close()

	// A new Open counts the file in the disk tier; a tier too small for it evicts it.
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.DiskBytes < int64(st.Blocks*512) || !c.HasObjectFile("o1") {
		t.Errorf("after reopening: disk bytes %d, object file %v", s.DiskBytes, c.HasObjectFile("o1"))
	}
	if _, ok := c.ObjectFile("o1", int64(len(want))+1); ok || c.HasObjectFile("o1") {
		t.Error("object file of the wrong size opened, or kept")
	}
	c.Close()
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Assemble(context.Background(), "o1", blocks); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.HasObjectFile("o1") {
		t.Error("object file kept in a disk tier smaller than it")
	}
}

// TestWriteObjectPart: an object file's block goes to disk with O_DIRECT
// up to its last aligned byte and through the page cache after it, at any
// offset and length, and all of it through the page cache with direct I/O
// off or refused (an unaligned buffer or offset); the file reads back the
// same either way.
func TestWriteObjectPart(t *testing.T) {
	const bs = 4 << 20
	buf := make([]byte, bs) // a large allocation: page-aligned
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	cases := []struct {
		name   string
		direct bool
		data   []byte
		off    int64
	}{
		{"whole block, direct", true, buf, bs},
		{"unaligned tail, direct", true, buf[:5000], 2 * bs},
		{"shorter than Align", true, buf[:100], bs},
		{"unaligned buffer", true, buf[1:9000], bs},
		{"unaligned offset", true, buf[:9000], bs + 1},
		{"direct off", false, buf[:9000], bs},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.CreateTemp(t.TempDir(), "obj-*")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			direct := openDirect(f.Name(), tc.direct)
			if err := writeObjectPart(f, &direct, tc.data, tc.off); err != nil {
				t.Fatal(err)
			}
			if direct != nil {
				direct.Close()
			}
			got := make([]byte, len(tc.data))
			if _, err := f.ReadAt(got, tc.off); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatal("the file reads back other bytes")
			}
			if st, _ := f.Stat(); st.Size() != tc.off+int64(len(tc.data)) {
				t.Fatalf("size %d, want %d", st.Size(), tc.off+int64(len(tc.data)))
			}
		})
	}
}

// TestObjectWriter: the object file of a read gets, as the reader goes,
// the blocks the disk tier skipped, from the reader's own buffers; at
// Finish, the blocks on disk are copied from their files and only the ones
// never read are fetched. Nothing is read back into memory and hashed again
// (Assemble after the read did that for every block, and fetched again the
// blocks the disk tier had skipped).
func TestObjectWriter(t *testing.T) {
	synctest.Test(t, testObjectWriter)
}

func testObjectWriter(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const bs = 4 << 20
	hk := func(b []byte) Key {
		s := sha256.Sum256(bytes.TrimRight(b, "\x00"))
		return HashKey(hex.EncodeToString(s[:]))
	}
	data := [][]byte{
		bytes.Repeat([]byte{1}, bs),
		append(bytes.Repeat([]byte{2}, 1000), make([]byte, bs-1000)...),
		bytes.Repeat([]byte{3}, bs),
		bytes.Repeat([]byte{4}, 5000),
	}
	var fetches atomic.Int32
	blocks := make([]ObjectBlock, len(data))
	for i, b := range data {
		key := hk(b)
		if i == len(data)-1 {
			key = OpaqueKey("obj:last")
		}
		blocks[i] = ObjectBlock{key, len(b), func(ctx context.Context, buf []byte) ([]byte, error) {
			fetches.Add(1)
			return append(buf[:0], b...), nil
		}}
	}
	want := bytes.Join(data, nil)
	size := int64(len(want))
	// read gets blocks as a sequential reader does: each is on disk once
	// the disk tier has written it, except those in skipDisk (as when the
	// disk is behind), then dropped from memory and offered to w.
	read := func(w *ObjectWriter, skipDisk map[int]bool, idx ...int) {
		refs := make([]*Ref, len(blocks))
		for _, i := range idx {
			ref, err := c.GetRef(context.Background(), blocks[i].Key, blocks[i].Size, blocks[i].Fetch)
			if err != nil {
				t.Fatal(err)
			}
			refs[i] = ref
		}
		// The loads queue their blocks for the disk tier after they
		// hand them over: wait for them (the goroutines of the bubble
		// idle), then for the writes.
		synctest.Wait()
		c.disk.flush()
		for _, i := range idx {
			if skipDisk[i] {
				_, name := blocks[i].Key.fileName()
				c.disk.drop(name, true)
			}
			c.Drop(blocks[i].Key)
			w.Add(int64(i), blocks[i].Key, refs[i])
			w.Add(int64(i), blocks[i].Key, refs[i]) // a block offered twice is written once
			refs[i].Release()
		}
	}

	// A reader that stopped early (complete false): no object file.
	w := c.NewObjectWriter("o0", size, bs, nil)
	if w == nil {
		t.Fatal("no writer")
	}
	if c.NewObjectWriter("o0", size, bs, nil) != nil {
		t.Error("a second writer for an object being written")
	}
	read(w, map[int]bool{0: true}, 0)
	w.Finish(false, func() []ObjectBlock { return blocks })
	<-w.ended
	if c.HasObjectFile("o0") {
		t.Error("object file of a partly read object")
	}
	if tmp, _ := filepath.Glob(filepath.Join(c.disk.tmp, "obj-*")); len(tmp) != 0 {
		t.Errorf("temporary object files left: %v", tmp)
	}

	// Blocks 3, 0, 1 read out of order, block 0 not on disk; block 2 not
	// read: Finish copies 1 and 3 from disk and fetches only 2.
	w = c.NewObjectWriter("o1", size, bs, nil)
	read(w, map[int]bool{0: true}, 3, 0, 1)
	st0 := c.Stats()
	fetches.Store(0)
	w.Finish(true, func() []ObjectBlock { return blocks })
	<-w.ended
	st := c.Stats()
	if n := fetches.Load(); n != 1 || st.DiskHits != st0.DiskHits {
		t.Errorf("Finish made %d fetches and %d disk reads; want 1 fetch (block 2), no disk reads", n, st.DiskHits-st0.DiskHits)
	}
	if st.ObjectBlocksStreamed != 1 || st.ObjectBlocksCopied != 2 || st.ObjectFiles != 1 {
		t.Errorf("stats %+v: want 1 block streamed and 2 copied into 1 object file", st)
	}
	f, ok := c.ObjectFile("o1", size)
	if !ok {
		t.Fatal("no object file")
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	if !bytes.Equal(got, want) {
		t.Fatal("object file content differs")
	}
	if c.NewObjectWriter("o1", size, bs, nil) != nil {
		t.Error("a writer for an object that has its file")
	}
}

// TestAssembleVerifiesOldDiskBlocks: blocks on disk from before the cache
// was opened (a crash may have cut them short) are read back and verified
// for an object file, not copied as they are.
func TestAssembleVerifiesOldDiskBlocks(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Repeat([]byte{7}, 4<<20)
	s := sha256.Sum256(b)
	key := HashKey(hex.EncodeToString(s[:]))
	if err := c.Put(key, b); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fetch := func(ctx context.Context, buf []byte) ([]byte, error) { return nil, errors.New("not on disk") }
	if err := c.Assemble(context.Background(), "o", []ObjectBlock{{key, len(b), fetch}, {key, len(b), fetch}}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.ObjectBlocksCopied != 0 || st.DiskHits != 2 {
		t.Errorf("stats %+v: want the block read back and verified for each use (2 disk hits), none copied", st)
	}
	f, ok := c.ObjectFile("o", int64(2*len(b)))
	if !ok {
		t.Fatal("no object file")
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	if !bytes.Equal(got, append(bytes.Clone(b), b...)) {
		t.Error("object file content differs")
	}
}
