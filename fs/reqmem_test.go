package fs

import (
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
)

// readProbe records the budget's use while a READ is handled.
type readProbe struct {
	fuse.RawFileSystem
	budget *cache.Budget
	during int64
}

func (p *readProbe) Read(_ <-chan struct{}, _ *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	p.during = p.budget.Used()
	return fuse.ReadResultData(buf[:1]), fuse.OK
}

// TestReadBufferCharged: a READ's output buffer is charged to the budget while it is handled and given
// back after; with the budget all firm reservations the READ goes ahead uncharged.
func TestReadBufferCharged(t *testing.T) {
	for _, tc := range []struct {
		name       string
		held       int64 // firm reservations before the READ
		wantDuring int64
	}{
		{"room", 1 << 20, 1<<20 + 1<<20},
		{"budget full", 16 << 20, 16 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := cache.NewBudget(16 << 20)
			if !b.TryReserve(tc.held) {
				t.Fatal("reserve")
			}
			p := &readProbe{RawFileSystem: fuse.NewDefaultRawFileSystem(), budget: b}
			fsys := reqMemFS{RawFileSystem: p, budget: b, stats: NewStats(nil)}
			if _, st := fsys.Read(nil, &fuse.ReadIn{Size: 1 << 20}, make([]byte, 1<<20)); st != fuse.OK {
				t.Fatal(st)
			}
			if p.during != tc.wantDuring {
				t.Errorf("budget used during the READ = %d, want %d", p.during, tc.wantDuring)
			}
			if got := b.Used(); got != tc.held {
				t.Errorf("budget used after the READ = %d, want %d", got, tc.held)
			}
		})
	}
}
