package writeback_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// TestModel applies a fixed random sequence of WriteAt, Truncate, ReadAt,
// Commit and reopen to a File and to a byte slice, comparing bytes and size
// after every step and the server's copy after every commit. The small-budget
// run spills most dirty blocks to the journal.
func TestModel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int64
		swift  bool
		eager  bool // early uploads on (streamed uploads with swift); long sequential writes fill whole batches of blocks
		// blockSize, when set, is far above the model's sizes: every write lands in a first block
		// that grows by doubling, shrinks on truncate and spills when the budget is short.
		blockSize int64
	}{{"memory", 0, false, false, 0}, {"spill", 2 * bs, false, false, 0}, {"swift-mode", 3 * bs, true, false, 0},
		{"eager", 0, false, true, 0}, {"eager-small-budget", 6 * bs, false, true, 0}, {"swift-stream", 3 * bs, true, true, 0},
		{"growing-block", 0, false, false, 1 << 20}, {"growing-block-spill", 8 * bs, false, false, 1 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, envOptions{budget: tc.budget, eager: tc.eager && !tc.swift, stream: tc.eager && tc.swift, blockSize: tc.blockSize})
			rng := rand.New(rand.NewPCG(42, uint64(len(tc.name))))
			initial := randomBytesSeeded(rng, 5*bs+123)
			e.put("m", initial)
			model := append([]byte(nil), initial...)
			open := func() *writeback.File {
				b := e.base("m")
				b.Swift = tc.swift
				f, err := e.m.Open(b, nil)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			f := open()
			commits := 0
			for step := range 300 {
				switch op := rng.IntN(100); {
				case op < 45: // write, sometimes past EOF
					off := rng.Int64N(int64(len(model)) + 3*bs)
					p := randomBytesSeeded(rng, 1+rng.IntN(3*bs))
					if tc.eager && op < 15 {
						// A sequential run of 8 to 12 whole blocks.
						off = rng.Int64N(int64(len(model))/bs+2) * bs
						p = randomBytesSeeded(rng, (8+rng.IntN(5))*bs+rng.IntN(bs))
						if tc.swift && op < 8 {
							// The file rewritten from 0, as cp over it: a stream.
							if err := f.Truncate(ctx, 0); err != nil {
								t.Fatal(err)
							}
							off, model = 0, model[:0]
						}
					}
					write(t, f, p, off)
					if end := off + int64(len(p)); end > int64(len(model)) {
						model = append(model, make([]byte, end-int64(len(model)))...)
					}
					copy(model[off:], p)
				case op < 60:
					n := rng.Int64N(int64(len(model)) + 2*bs)
					if err := f.Truncate(ctx, n); err != nil {
						t.Fatal(err)
					}
					if n <= int64(len(model)) {
						model = model[:n]
					} else {
						model = append(model, make([]byte, n-int64(len(model)))...)
					}
				case op < 80:
					off := rng.Int64N(int64(len(model)) + bs)
					p := make([]byte, 1+rng.IntN(2*bs))
					n, err := f.ReadAt(ctx, p, off)
					want := 0
					if off < int64(len(model)) {
						want = min(len(p), len(model)-int(off))
					}
					if n != want || (n < len(p) && err != io.EOF) || (n > 0 && !bytes.Equal(p[:n], model[off:off+int64(n)])) {
						t.Fatalf("step %d: ReadAt(%d, %d) = %d, %v; want %d bytes", step, len(p), off, n, err, want)
					}
				case op < 92, op >= 92 && step%50 == 0:
					if err := f.Commit(ctx); err != nil {
						t.Fatalf("step %d: Commit: %v", step, err)
					}
					commits++
					if got := e.get("m"); !bytes.Equal(got, model) {
						t.Fatalf("step %d: server has %d bytes, model %d (equal prefix: %v)", step, len(got), len(model), bytes.HasPrefix(model, got))
					}
				default: // close and reopen from the server
					if err := f.Commit(ctx); err != nil {
						t.Fatal(err)
					}
					f.Release()
					if e.m.Lookup("c", "m") != nil {
						t.Fatalf("step %d: clean file still registered", step)
					}
					f = open()
				}
				if f.Size() != int64(len(model)) {
					t.Fatalf("step %d: size %d, model %d", step, f.Size(), len(model))
				}
			}
			if !bytes.Equal(readAll(t, f), model) {
				t.Fatal("final content differs")
			}
			if err := f.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.get("m"), model) {
				t.Fatal("final server content differs")
			}
			f.Release()
			s := e.m.Stats()
			t.Logf("%d commits, stats %+v", commits, s)
			if tc.swift && tc.eager && s.Streamed == 0 {
				t.Error("no commit was streamed")
			}
			if tc.budget > 0 && s.Spilled == 0 {
				t.Error("nothing spilled with a small budget")
			}
		})
	}
}

func randomBytesSeeded(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	// Runs of zeros exercise zero-block hashing.
	if n > 100 && rng.IntN(4) == 0 {
		clear(b[n/3 : n/2])
	}
	return b
}
