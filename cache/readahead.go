package cache

import (
	"context"
	"sync"
	"sync/atomic"
)

// DefaultReadaheadBlocks is the largest readahead window when
// NewReadahead is given no limit.
const DefaultReadaheadBlocks = 8

// Readahead detects sequential access in one open file and says which
// blocks to prefetch. Reading the block after the previous one (or any
// block already inside the prefetched window) counts as sequential and
// doubles the window: 1, 2, 4 … up to the maximum, so that the blocks
// prefetched always reach window blocks past the one being read. Re-reading
// the current block, or one up to the maximum window behind the latest
// (the kernel keeps several readahead requests in flight and go-fuse serves
// them in parallel: with 1 MiB requests they arrive up to 4-5 blocks out of
// order), changes nothing. Any other jump is a random seek: the window
// resets and nothing is prefetched until the reader goes sequential again.
// Safe for concurrent use.
type Readahead struct {
	mu     sync.Mutex
	max    int64
	last   int64 // block of the last read; -1 before the first
	window int64 // current window in blocks; 0 after a seek
	next   int64 // first block not yet handed out for prefetching
}

// NewReadahead returns the readahead state of a newly opened file with a
// window of at most maxBlocks (DefaultReadaheadBlocks when ≤ 0).
func NewReadahead(maxBlocks int) *Readahead {
	if maxBlocks <= 0 {
		maxBlocks = DefaultReadaheadBlocks
	}
	return &Readahead{max: int64(maxBlocks), last: -1}
}

// Access records a read of block idx in a file of numBlocks blocks and
// returns the block indices to prefetch now, [from, to) (empty when
// from == to). Each block is handed out once per sequential run.
func (r *Readahead) Access(idx, numBlocks int64) (from, to int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case idx < r.last && idx >= r.last-max(r.max, 2):
		// Behind the latest block by no more than a window: the kernel's
		// parallel readahead requests, served out of order.
		return idx, idx
	case idx == r.last:
		// Same block again: hand out whatever the window still lacks.
	case idx == r.last+1 || (idx > r.last && idx < r.next):
		r.window = min(max(2*r.window, 1), r.max)
		r.last = idx
	default:
		r.last, r.window, r.next = idx, 0, idx+1
		return idx, idx
	}
	from = max(r.next, idx+1)
	to = min(idx+1+r.window, numBlocks)
	if to <= from {
		return from, from
	}
	r.next = to
	return from, to
}

// Window is the current window in blocks.
func (r *Readahead) Window() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(r.window)
}

// Prefetcher loads blocks into the cache in the background for one open
// file. Each prefetch reserves its block's size from the memory budget for
// as long as it runs (it is skipped when the budget has no room even after
// evicting cached blocks) and takes one of the cache's
// Config.PrefetchConcurrency slots while it works. Close cancels the file's
// prefetches; a fetch another reader also waits for continues for them.
type Prefetcher struct {
	c      *Cache
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	inflight map[string]struct{}
	closed   bool
}

// NewPrefetcher returns a prefetcher whose work stops when ctx is done or
// Close is called.
func (c *Cache) NewPrefetcher(ctx context.Context) *Prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	return &Prefetcher{c: c, ctx: ctx, cancel: cancel, inflight: make(map[string]struct{})}
}

// Prefetch starts loading a block unless it is already in memory or being
// prefetched, the prefetcher is closed, or the budget has no room; it
// reports whether it started. It never blocks on the fetch.
func (p *Prefetcher) Prefetch(key Key, size int, fetch FetchFunc) bool {
	return p.prefetch(key, size, fetchFunc{plain: fetch})
}

// PrefetchInto is Prefetch with a fetch that reads into a (recycled)
// buffer, as GetRef's does.
func (p *Prefetcher) PrefetchInto(key Key, size int, fetch FetchIntoFunc) bool {
	return p.prefetch(key, size, fetchFunc{into: fetch})
}

func (p *Prefetcher) prefetch(key Key, size int, fetch fetchFunc) bool {
	if p.ctx.Err() != nil || key.validate() != nil || size < 0 {
		return false
	}
	id := key.memID()
	if p.c.mem.contains(id) {
		return false
	}
	p.mu.Lock()
	if _, busy := p.inflight[id]; busy || p.closed {
		p.mu.Unlock()
		return false
	}
	charge := int64(size) + entryOverhead // the block's charge once cached
	if !p.c.budget.TryReserveAhead(charge) {
		p.mu.Unlock()
		p.c.stats.prefetchesDropped.Add(1)
		return false
	}
	p.inflight[id] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	p.c.stats.prefetches.Add(1)
	var ahead atomic.Int64 // taken over by the load the prefetch starts (fetchFunc.ahead)
	ahead.Store(charge)
	fetch.ahead = &ahead
	go func() {
		defer p.wg.Done()
		defer func() {
			p.c.budget.Release(ahead.Swap(0))
			p.mu.Lock()
			delete(p.inflight, id)
			p.mu.Unlock()
		}()
		if err := p.c.pfSem.Acquire(p.ctx, 1); err != nil {
			return
		}
		defer p.c.pfSem.Release(1)
		// The error reaches the reader when it asks for the block itself.
		_, _ = p.c.get(p.ctx, key, size, fetch, modePrefetch)
	}()
	return true
}

// Close cancels this file's prefetches and waits for them to stop.
func (p *Prefetcher) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}
