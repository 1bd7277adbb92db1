package writeback

import (
	"bytes"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pithosfs/pithosfs/cache"
)

// TestEagerRoundReadsBackWithinBudget: an early-upload round reads a
// spilled block back only into room the budget has. With the budget full of
// firm reservations it leaves the block spilled, not uploaded, for the
// commit (it used to charge the read-back past the limit: under 16 writers
// the rounds held 16–28 MiB beyond it); with room it reads the block back,
// charged while the round holds it, uploads it and stores it.
func TestEagerRoundReadsBackWithinBudget(t *testing.T) {
	const bsz = 64 << 10
	for _, tc := range []struct {
		name     string
		held     int64 // firm reservations before the round
		wantDone bool
	}{
		{"budget full", 4 * bsz, false},
		{"room", 2 * bsz, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := cache.NewBudget(4 * bsz)
			if !budget.TryReserve(tc.held) {
				t.Fatal("reserve")
			}
			var uploads atomic.Int64
			var peak int64
			st := &lackingStore{hook: func() {
				uploads.Add(1)
				peak = max(peak, budget.Used())
			}}
			m, err := New(Config{Client: st, JournalDir: t.TempDir(), Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			f := &File{m: m, dir: filepath.Join(t.TempDir(), "f"), base: Base{Container: "c", BlockSize: bsz}, dirty: map[int64]*block{}}
			if _, err := f.makeDir(); err != nil {
				t.Fatal(err)
			}
			spilled := slotName(f.slots.take())
			f.dirty[0] = &block{file: spilled}
			if err := f.ref(spilled).writeAt(bytes.Repeat([]byte{7}, bsz), 0); err != nil {
				t.Fatal(err)
			}
			items := f.seal([]int64{0})
			if len(items) != 1 {
				t.Fatalf("sealed %d blocks, want 1", len(items))
			}
			if err := m.eagerRound(f, items); err != nil {
				t.Fatal(err)
			}
			f.unseal(items)
			if peak > budget.Limit() {
				t.Errorf("budget used %d during the round, past its limit %d", peak, budget.Limit())
			}
			if got := budget.Used(); got != tc.held {
				t.Errorf("budget used %d after the round, want %d (the read-back given back)", got, tc.held)
			}
			f.mu.Lock()
			b := f.dirty[0]
			stored := b.stored
			f.mu.Unlock()
			if stored != tc.wantDone || (uploads.Load() == 1) != tc.wantDone {
				t.Errorf("block stored %v after %d uploads, want stored %v", stored, uploads.Load(), tc.wantDone)
			}
			if tc.wantDone && peak != tc.held+bsz {
				t.Errorf("budget used %d while the block was uploaded, want %d (the read-back charged)", peak, tc.held+bsz)
			}
		})
	}
}
