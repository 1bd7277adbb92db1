package writeback_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/pithosfs/pithosfs/cache"
)

// TestSmallFileHoldsItsSize: with 4 MiB blocks, a new file's dirty block
// holds (of the budget) about what was written, not a whole block: 4 KiB
// for a 4 KiB file, doubling as it grows, a whole block once the file is
// larger than 256 KiB; bytes a truncate cut off read as zeros when the block
// grows again; committing returns everything to the budget.
func TestSmallFileHoldsItsSize(t *testing.T) {
	const blockSize = 4 << 20
	ctx := context.Background()
	e := newEnv(t, envOptions{blockSize: blockSize, budget: 64 << 20})
	budget := e.budget
	f := e.open("small")
	defer f.Release()
	steps := []struct {
		off, n   int64
		wantUsed int64
	}{
		{0, 4096, 4 << 10},
		{4096, 100, 8 << 10},
		{100 << 10, 1, 128 << 10},
		{300 << 10, 1, blockSize},
	}
	var model []byte
	for _, s := range steps {
		p := randomBytes(t, int(s.n))
		write(t, f, p, s.off)
		if end := s.off + s.n; end > int64(len(model)) {
			model = append(model, make([]byte, end-int64(len(model)))...)
		}
		copy(model[s.off:], p)
		if used := budget.Used(); used != s.wantUsed {
			t.Errorf("after writing %d bytes at %d: budget used %d, want %d", s.n, s.off, used, s.wantUsed)
		}
	}
	// Shrink, then grow within the buffer: the cut bytes must read as zeros.
	if err := f.Truncate(ctx, 10); err != nil {
		t.Fatal(err)
	}
	model = model[:10]
	write(t, f, []byte("x"), 5000)
	model = append(model, make([]byte, 5001-10)...)
	model[5000] = 'x'
	if got := readAll(t, f); !bytes.Equal(got, model) {
		t.Fatal("content after truncate and write differs")
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("small"), model) {
		t.Fatal("server content differs")
	}
	if used := budget.Used(); used != 0 {
		t.Errorf("budget used %d after the commit, want 0", used)
	}
}

// TestRecycledBufferReadsZeros: a whole block's buffer comes from the
// cache's free list, holding another block's bytes; what the file never
// wrote in it (before a write, after a truncate) reads and is committed as
// zeros, and the buffers of committed blocks return to the list.
func TestRecycledBufferReadsZeros(t *testing.T) {
	const blockSize = 4 << 20
	ctx := context.Background()
	c, err := cache.Open(cache.Config{MemBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	for range 4 {
		c.Recycle(bytes.Repeat([]byte{0xab}, blockSize))
	}
	e := newEnv(t, envOptions{blockSize: blockSize, cache: c})
	f := e.open("sparse")
	defer f.Release()
	var model []byte
	put := func(p []byte, off int64) {
		write(t, f, p, off)
		if end := off + int64(len(p)); end > int64(len(model)) {
			model = append(model, make([]byte, end-int64(len(model)))...)
		}
		copy(model[off:], p)
	}
	put([]byte("hello"), blockSize+1<<20)
	put(randomBytes(t, 1<<20), 2*blockSize+3<<20)
	put([]byte("x"), 3*blockSize-1)
	if err := f.Truncate(ctx, 2*blockSize+3<<20+10); err != nil {
		t.Fatal(err)
	}
	model = model[:2*blockSize+3<<20+10]
	put([]byte("y"), 2*blockSize+3<<20+1000)
	if got := readAll(t, f); !bytes.Equal(got, model) {
		t.Fatal("content read back differs: a recycled buffer's bytes show")
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("sparse"), model) {
		t.Fatal("server content differs: a recycled buffer's bytes were committed")
	}
}
