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

func (p *readProbe) Write(_ <-chan struct{}, _ *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	p.during = p.budget.Used()
	return uint32(len(data)), fuse.OK
}

func (p *readProbe) Writev(_ <-chan struct{}, _ *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	p.during = p.budget.Used()
	return uint32(len(data[0])), fuse.OK
}

// TestReadBufferCharged: a READ's output buffer is charged to the budget while it is handled and given
// back after, even when the budget is all firm reservations (it is then over its limit for that long:
// the buffer is live either way, and the other reservations find that much less room).
func TestReadBufferCharged(t *testing.T) {
	for _, tc := range []struct {
		name       string
		held       int64 // firm reservations before the READ
		wantDuring int64
	}{
		{"room", 1 << 20, 1<<20 + 1<<20},
		{"budget full", 16 << 20, 16<<20 + 1<<20},
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

// TestWriteBufferCharged: a WRITE whose payload passes go-fuse's inline buffer holds a whole read buffer
// while it is handled (it may wait there for memory or an early-upload round): it is charged to the
// budget, even a full one, and given back after; a tiny WRITE, inline, is not.
func TestWriteBufferCharged(t *testing.T) {
	for _, tc := range []struct {
		name       string
		held, size int64
		wantDuring int64
	}{
		{"room", 1 << 20, 1 << 20, 1<<20 + reqBufBytes},
		{"budget full", 16 << 20, 4 << 10, 16<<20 + reqBufBytes},
		{"inline", 1 << 20, 16, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := cache.NewBudget(16 << 20)
			if !b.TryReserve(tc.held) {
				t.Fatal("reserve")
			}
			p := &readProbe{RawFileSystem: fuse.NewDefaultRawFileSystem(), budget: b}
			fsys := reqMemFS{RawFileSystem: p, budget: b, stats: NewStats(nil)}
			in := &fuse.WriteIn{Size: uint32(tc.size)}
			for _, write := range []func() fuse.Status{
				func() fuse.Status { _, st := fsys.Write(nil, in, make([]byte, tc.size)); return st },
				func() fuse.Status { _, st := fsys.Writev(nil, in, [][]byte{make([]byte, tc.size)}); return st },
			} {
				if st := write(); st != fuse.OK {
					t.Fatal(st)
				}
				if p.during != tc.wantDuring {
					t.Errorf("budget used during the WRITE = %d, want %d", p.during, tc.wantDuring)
				}
				if got := b.Used(); got != tc.held {
					t.Errorf("budget used after the WRITE = %d, want %d", got, tc.held)
				}
			}
		})
	}
}

// TestRequestBuffersKeepTheirRoom: while a writer holds dirty blocks, the
// budget keeps the room of the READ and WRITE buffers just handled for the
// next ones (cache.Budget.ChargeRequest): a reservation of the rest of the
// budget right after them is refused, so that firm reservations (dirty
// blocks, loads) cannot fill it and leave the next burst of requests to go
// past its limit.
func TestRequestBuffersKeepTheirRoom(t *testing.T) {
	const dirty = 4 << 20
	b := cache.NewBudget(16 << 20)
	if !b.TryReserveDirty(dirty) {
		t.Fatal("reserve dirty")
	}
	p := &readProbe{RawFileSystem: fuse.NewDefaultRawFileSystem(), budget: b}
	fsys := reqMemFS{RawFileSystem: p, budget: b, stats: NewStats(nil)}
	if _, st := fsys.Read(nil, &fuse.ReadIn{Size: 1 << 20}, make([]byte, 1<<20)); st != fuse.OK {
		t.Fatal(st)
	}
	if _, st := fsys.Write(nil, &fuse.WriteIn{}, make([]byte, 1<<20)); st != fuse.OK {
		t.Fatal(st)
	}
	if got := b.Used(); got != dirty {
		t.Fatalf("budget used %d after the requests, want %d", got, dirty)
	}
	if b.TryReserve(b.Limit() - dirty) {
		t.Fatal("a reservation took the room of the requests just handled")
	}
	if !b.TryReserve(b.Limit() - dirty - reqBufBytes) {
		t.Fatal("a reservation beside the room of one request buffer refused")
	}
}
