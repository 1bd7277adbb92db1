package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Budget is one byte budget shared by the memory tier's cached blocks, the
// buffers of blocks being prefetched, and (for the write path) dirty blocks.
//
// Cached blocks are the elastic part: when a reservation does not fit, the
// Budget asks its reclaimer (the memory tier) to evict least recently used
// blocks before it refuses or waits. Reservations made with Reserve or
// TryReserve are firm until released.
//
// Dirty blocks (TryReserveDirty) are firm reservations that many writers can
// make faster than uploads free them; they may hold at most dirtyLimit of
// the budget, so that the rest is left for reads: a reader whose blocks
// find no room in memory reads each again from disk for every request (four
// times per block with 1 MiB reads) and holds it outside the budget.
type Budget struct {
	mu         sync.Mutex
	limit      int64
	used       int64
	dirty      int64 // of used, reserved by TryReserveDirty
	dirtyLimit int64
	wake       chan struct{} // closed and replaced on every Release
	reclaim    func(need int64) int64
	// reclaimAhead is reclaim for speculative reservations (TryReserveAhead):
	// it spares blocks read ahead and not read yet.
	reclaimAhead func(need int64) int64
	// reserved, if set, runs (without the lock) after every successful
	// reservation: the block cache drops free buffers it keeps in the room
	// the reservation took.
	reserved func()
	// req is the room kept for FUSE request buffers (budgetreq.go).
	req reqRoom
}

// ErrOverBudget is returned for a reservation larger than the whole budget.
var ErrOverBudget = errors.New("cache: reservation larger than the memory budget")

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit, dirtyLimit: limit, wake: make(chan struct{})}
}

// setDirtyLimit caps the bytes TryReserveDirty may hold at once (at most the
// whole budget).
func (b *Budget) setDirtyLimit(n int64) {
	b.mu.Lock()
	b.dirtyLimit = min(n, b.limit)
	b.mu.Unlock()
}

// setReclaimer installs the function called, without the Budget's lock
// held, to free at least need bytes; it returns how many it freed.
func (b *Budget) setReclaimer(fn func(need int64) int64) {
	b.mu.Lock()
	b.reclaim = fn
	b.mu.Unlock()
}

// setAheadReclaimer installs the reclaimer of TryReserveAhead (see
// setReclaimer); without one, TryReserveAhead evicts nothing.
func (b *Budget) setAheadReclaimer(fn func(need int64) int64) {
	b.mu.Lock()
	b.reclaimAhead = fn
	b.mu.Unlock()
}

// setReservedHook installs the function run after every successful
// reservation.
func (b *Budget) setReservedHook(fn func()) {
	b.mu.Lock()
	b.reserved = fn
	b.mu.Unlock()
}

// took runs the reservation hook, if any.
func (b *Budget) took() {
	b.mu.Lock()
	fn := b.reserved
	b.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is the number of bytes reserved now (cached blocks included).
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// taken is Used plus the room kept for requests (budgetreq.go): what the
// cache's free block buffers must leave free.
func (b *Budget) taken() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used + b.keptLocked(time.Now())
}

// Dirty is the number of bytes TryReserveDirty holds now.
func (b *Budget) Dirty() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dirty
}

// tryTake reserves n bytes if they fit, or returns the shortfall and the
// channel closed at the next Release. A dirty reservation beyond the dirty
// limit returns a shortfall of -1: no eviction can make it fit.
//
// Room kept for request buffers (keptLocked) counts as taken.
func (b *Budget) tryTake(n int64, dirty bool) (short int64, wake <-chan struct{}, reclaim func(int64) int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if dirty && b.dirty+n > b.dirtyLimit {
		return -1, b.wake, nil
	}
	used := b.used + b.keptLocked(time.Now())
	if used+n <= b.limit {
		b.used += n
		if dirty {
			b.dirty += n
		}
		return 0, nil, nil
	}
	return used + n - b.limit, b.wake, b.reclaim
}

// TryReserve reserves n bytes, evicting cached blocks if needed, and reports
// whether it succeeded. It never waits.
func (b *Budget) TryReserve(n int64) bool { return b.tryReserve(n, false, false) }

// TryReserveDirty is TryReserve for the write path's dirty blocks, which
// together hold at most the budget's dirty limit; give them back with
// ReleaseDirty.
func (b *Budget) TryReserveDirty(n int64) bool { return b.tryReserve(n, true, false) }

// tryReserve takes n bytes, evicting what reclaims (only blocks already
// read when ahead) while it is short.
func (b *Budget) tryReserve(n int64, dirty, ahead bool) bool {
	if n < 0 || n > b.limit {
		return false
	}
	for {
		short, _, reclaim := b.tryTake(n, dirty)
		if short == 0 {
			b.took()
			return true
		}
		if ahead {
			b.mu.Lock()
			reclaim = b.reclaimAhead
			b.mu.Unlock()
		}
		if reclaim == nil || reclaim(short) <= 0 {
			return false
		}
	}
}

// TryReserveAhead is TryReserve for speculative work (readahead, the disk
// tier's queue of fetched blocks): it evicts only cached blocks that have
// been read, never a block read ahead that its reader has not reached yet.
// A 1 GiB sequential read with a full budget used to evict 20–90 blocks it
// had read ahead to make room for the next prefetch or disk write, then
// read each back from disk (SHA-256 again) or fetched it again.
func (b *Budget) TryReserveAhead(n int64) bool { return b.tryReserve(n, false, true) }

// Charge counts n bytes the caller already holds (memory that waiting would
// not give back: a read-back of a spilled block, a load over budget; FUSE
// request buffers go through ChargeRequest) against the budget: it evicts
// cached blocks to make room, as TryReserve does, and when they do not
// suffice takes the bytes anyway, so that Used may pass the Limit for a
// while. It never waits and never fails. What it took beyond the limit is
// room the other reservations (dirty blocks, loads, readahead) do not find
// until Release: they shrink by it instead of adding to it. Before, such
// buffers went uncharged whenever the budget was full, and under 16 writers
// and 16 readers they were 20–30 MB beyond it.
func (b *Budget) Charge(n int64) {
	if n <= 0 {
		return
	}
	for {
		short, _, reclaim := b.tryTake(n, false)
		if short == 0 {
			b.took()
			return
		}
		if reclaim == nil || reclaim(short) <= 0 {
			break
		}
	}
	b.mu.Lock()
	b.used += n
	b.mu.Unlock()
	b.took()
}

// Reserve reserves n bytes, evicting cached blocks if needed and otherwise
// waiting for other reservations to be released, until ctx is done.
func (b *Budget) Reserve(ctx context.Context, n int64) error {
	if n < 0 {
		return fmt.Errorf("cache: negative reservation %d", n)
	}
	if n > b.limit {
		return fmt.Errorf("%w: %d > %d", ErrOverBudget, n, b.limit)
	}
	for {
		short, wake, reclaim := b.tryTake(n, false)
		if short == 0 {
			b.took()
			return nil
		}
		if reclaim != nil && reclaim(short) > 0 {
			continue
		}
		// the room kept for requests shrinks without a Release
		t := time.NewTimer(reqWindow)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}

// Release returns n bytes to the budget and wakes waiting reservations.
func (b *Budget) Release(n int64) { b.release(n, false) }

// ReleaseDirty returns n bytes reserved by TryReserveDirty.
func (b *Budget) ReleaseDirty(n int64) { b.release(n, true) }

func (b *Budget) release(n int64, dirty bool) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	if dirty {
		b.dirty -= n
		if b.dirty < 0 {
			b.mu.Unlock()
			panic(fmt.Sprintf("cache: budget released more dirty bytes than reserved (%d)", b.dirty))
		}
	}
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic(fmt.Sprintf("cache: budget released more than reserved (%d)", b.used))
	}
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}
