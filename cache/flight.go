// Flights: one load of a missing block (disk tier, else fetch), shared by
// every caller waiting for it, and what it does with the block it loaded
// (the memory tier, the disk queue, the budget's charge).

package cache

import (
	"context"
	"fmt"
)

// flight is one load of a missing block (from disk, else from the
// network), shared by every Get waiting for it.
type flight struct {
	done     chan struct{}
	cancel   context.CancelFunc
	waiters  int
	prefetch bool // only prefetches wait for it (guarded by Cache.mu)
	// Results, set before done is closed. blk carries a reference of the
	// flight's own, dropped once the load is finished and every waiter has
	// taken its own reference or left (finished, dropped: guarded by
	// Cache.mu).
	blk      *blockBuf
	fromDisk bool
	err      error
	finished bool
	dropped  bool
	// over: the load was charged past the limit and holds one of
	// overBudgetLoads until the flight's reference is dropped (releaseFlight).
	over bool
}

// dropRef reports, once, that the flight's reference to its block can be
// released. Called with Cache.mu held.
func (f *flight) dropRef() bool {
	if f.finished && f.waiters == 0 && f.blk != nil && !f.dropped {
		f.dropped = true
		return true
	}
	return false
}

// releaseFlight drops the flight's reference to its block (dropRef said so) and
// then gives back its over-budget load slot, if it holds one: by then every
// waiter has taken the block (handing it out for good gives a load's
// charge past the limit back) or left, so such charges are at most
// overBudgetLoads at a time but for blocks readers hold (GetRef). The slot
// used to be given back when the load returned, while the block still
// carried its charge until its waiters took it, or, with no waiter left
// (all cancelled, or only prefetches), until the disk writer had written
// it: TestConcurrentMixedUse's bound failed in 2 of 80 runs on a busy
// machine, by up to three blocks with no load holding a slot.
func (c *Cache) releaseFlight(f *flight) {
	f.blk.release()
	if f.over {
		c.overSem.Release(1)
	}
}

// join returns the flight loading id, starting one when none is in the
// air, with the caller counted among its waiters; or nil when the block is
// in memory by now (a flight that ended after the caller's memory lookup
// left it there: a new flight would miss it, and the disk too while the
// block waits to be queued for the disk, and fetch it again). Lock order:
// c.mu, then the memory tier's.
func (c *Cache) join(id string, key Key, size int, fetch fetchFunc, prefetch bool) (*flight, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	f := c.flights[id]
	if f == nil && c.mem.contains(id) {
		return nil, nil
	}
	if f == nil {
		fctx, cancel := context.WithCancel(c.ctx)
		f = &flight{done: make(chan struct{}), cancel: cancel, prefetch: prefetch}
		c.flights[id] = f
		c.wg.Add(1)
		var have int64
		if prefetch && fetch.ahead != nil {
			have = fetch.ahead.Swap(0)
		}
		go c.load(fctx, id, key, size, f, fetch, !prefetch, have)
	}
	f.waiters++
	if !prefetch && f.prefetch {
		// A reader caught up with a prefetch still in progress.
		f.prefetch = false
		c.stats.readaheadHits.Add(1)
	}
	return f, nil
}

// await waits for flight f as one of its waiters and returns its block
// with a reference taken for the caller (none for a prefetch, which gets a
// nil block). A caller that gives up (ctx) leaves; the last one to leave
// stops a fetch still in progress.
func (c *Cache) await(ctx context.Context, id string, key Key, size int, f *flight, mode getMode) (*blockBuf, error) {
	prefetch := mode == modePrefetch
	select {
	case <-f.done:
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		drop := false
		if f.waiters == 0 {
			select {
			case <-f.done:
				drop = f.dropRef()
			default:
				// Nobody wants it any more: stop the fetch, and let the
				// next Get start afresh rather than join a cancelled one.
				f.cancel()
				if c.flights[id] == f {
					delete(c.flights, id)
				}
			}
		}
		c.mu.Unlock()
		if drop {
			c.releaseFlight(f)
		}
		return nil, ctx.Err()
	}
	blk := f.blk
	err := f.err
	if err == nil {
		err = checkSize(key, blk.data, size)
	}
	if err == nil && !prefetch {
		blk.acquire() // safe: the flight's reference is held until we leave
		if mode == modeEscape {
			blk.markEscaped() // before the flight's slot can go (releaseFlight)
		}
	}
	c.mu.Lock()
	f.waiters--
	drop := f.dropRef()
	c.mu.Unlock()
	if drop {
		c.releaseFlight(f)
	}
	if err != nil {
		return nil, err
	}
	if prefetch {
		return nil, nil
	}
	return blk, nil
}

// load runs one flight: disk tier, then fetch, then fills both tiers. The
// waiters are released before the block is queued for the disk, and a
// block fetched while diskQueueBytes of blocks already wait for a disk
// slower than the network is not written to it: the disk tier never slows
// reads down.
func (c *Cache) load(ctx context.Context, id string, key Key, size int, f *flight, fetch fetchFunc, charge bool, have int64) {
	defer c.wg.Done()
	blk, fromDisk, over, err := c.loadBlock(ctx, id, key, size, f, fetch, charge, have)
	if over && blk == nil {
		c.overSem.Release(1)
		over = false
	}
	toDisk := err == nil && !fromDisk && c.disk != nil
	var queued diskCharge
	if toDisk {
		held := c.mem.holds(id, blk)
		carried := !held && blk.charge.Load() > 0
		if queued, toDisk = c.disk.tryReserve(len(blk.data), held, carried); !toDisk {
			c.stats.diskWritesSkipped.Add(1)
		} else if carried {
			blk.dropCharge() // the queue's room replaces it
		}
	}
	if toDisk {
		blk.queued.Store(true) // before a waiter can hand it out for good
		blk.acquire()          // the disk writer's
	}
	c.mu.Lock()
	if c.flights[id] == f {
		delete(c.flights, id)
	}
	f.blk, f.fromDisk, f.err, f.over = blk, fromDisk, err, over
	f.finished = true
	drop := f.dropRef()
	c.mu.Unlock()
	f.cancel()
	close(f.done)
	if drop {
		c.releaseFlight(f)
	}
	if toDisk {
		c.disk.write(key, blk, queued)
	}
}

// loadBlock reads a block from the disk tier, else fetches and verifies it,
// and caches it in memory. A load started by a reader (charge) counts its
// buffer against the budget until the block is cached (or, when the memory
// tier has no room for it, until its readers let go: cacheLoaded), as a
// prefetch's reservation does. When the budget is all firm reservations the
// load goes ahead rather than wait (the write path may hold them while it
// needs this block), charged past the limit (Budget.Charge: the next dirty
// blocks and loads find that much less room; session 8 left such loads
// uncharged), but only overBudgetLoads such loads at a time, so that readers
// cannot take the budget past its limit without bound; the memory tier
// keeps such a block only if it finds room of its own. A load a prefetch
// started holds the prefetch's reservation instead (have). Either covers
// the block's whole charge in the memory tier (entryOverhead included), so
// caching it evicts nothing. A reader's load makes room by evicting blocks
// already read before blocks read ahead. slot reports that the load holds
// one of overBudgetLoads, which its caller gives back (releaseFlight).
func (c *Cache) loadBlock(ctx context.Context, id string, key Key, size int, f *flight, fetch fetchFunc, charge bool, have int64) (blk *blockBuf, fromDisk, slot bool, err error) {
	charged, over := have, false
	if charge {
		n := int64(size) + entryOverhead
		// Blocks already read go first; a block read ahead is evicted only
		// when they do not make room (it is likely the next one a reader
		// needs: the LRU's oldest read-ahead block is the nearest to its
		// reader). A 1 GiB cold read fetched ~4 such blocks twice.
		if c.budget.TryReserveAhead(n) || c.budget.TryReserve(n) {
			charged = n
		} else {
			if err := c.overSem.Acquire(ctx, 1); err != nil {
				return nil, false, false, err
			}
			slot = true
			if n <= c.budget.Limit() {
				c.budget.Charge(n)
				charged, over = n, true
			}
		}
	}
	release := func() {
		c.budget.Release(charged)
		charged = 0
	}
	defer release()
	cacheLoaded := func(blk *blockBuf) {
		if over {
			// Charged past the limit: the memory tier keeps the block
			// only if it finds room of its own for it; else the block
			// carries this charge while readers hold it.
			if c.mem.add(id, blk, c.prefetched(f)) || blk.queued.Load() {
				// The deferred release gives the charge back (a block
				// queued for the disk is charged there, until written).
				return
			}
			blk.keepCharge(c.budget, charged)
			charged = 0
			return
		}
		c.cacheLoaded(id, blk, f, &charged)
	}
	if c.disk != nil {
		if blk, ok := c.disk.read(key, c.pool); ok {
			if own := blk.takeCharge(); own > 0 {
				// Still queued for the disk, let go by the tier: it takes
				// the block's charge back (and the load's, unless that is
				// past the limit: given back within the load's slot).
				if !over {
					own, charged = own+charged, 0
				}
				left, _ := c.mem.addCharged(id, blk, c.prefetched(f), own)
				blk.keepCharge(c.budget, left)
			} else {
				cacheLoaded(blk)
			}
			return blk, true, slot, nil
		}
	}
	c.stats.fetches.Add(1)
	c.stats.inFlight.Add(1)
	raw, buf, err := fetch.call(ctx, c.pool, size)
	c.stats.inFlight.Add(-1)
	if err != nil {
		c.stats.fetchErrors.Add(1)
		return nil, false, slot, fmt.Errorf("cache: fetch block %s: %w", key.id, err)
	}
	c.stats.bytesFetched.Add(int64(len(raw)))
	if err = verify(key, raw, "fetch"); err != nil {
		c.stats.fetchErrors.Add(1)
		c.stats.badFetches.Add(1)
		keepIfUsed(c.pool, nil, buf)
		return nil, false, slot, err
	}
	if !key.hash && len(raw) != size {
		// Nothing else can tell a short read from a block ending in zeros.
		c.stats.fetchErrors.Add(1)
		c.stats.badFetches.Add(1)
		keepIfUsed(c.pool, nil, buf)
		return nil, false, slot, fmt.Errorf("%w: fetch of opaque block %q returned %d bytes, want %d", ErrSize, key.id, len(raw), size)
	}
	data := strip(raw)
	blk = newBlock(data, keepIfUsed(c.pool, data, buf), c.pool)
	cacheLoaded(blk)
	return blk, false, slot, nil
}

// cacheLoaded puts a loaded block in the memory tier and gives back the
// load's charge; a block the tier has no room for keeps that charge until
// its readers let go of it (they hold it outside the tier).
func (c *Cache) cacheLoaded(id string, blk *blockBuf, f *flight, charged *int64) {
	left, _ := c.mem.addCharged(id, blk, c.prefetched(f), *charged)
	blk.keepCharge(c.budget, left)
	*charged = 0
}

// prefetched reports whether only prefetches have asked for f's block.
func (c *Cache) prefetched(f *flight) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f.prefetch
}
