package writeback_test

import (
	"bytes"
	"context"
	"testing"
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
