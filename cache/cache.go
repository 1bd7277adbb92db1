package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Defaults for Config fields left at zero.
const (
	DefaultMemBytes            = 96 << 20
	DefaultDiskBytes           = 10 << 30
	DefaultPrefetchConcurrency = 8
	// overBudgetLoads is how many block loads may run at once charged past
	// the limit when the budget is all firm reservations.
	overBudgetLoads = 2
	// readShare is the part of the budget (1/readShare) that dirty blocks
	// may not take (Budget.TryReserveDirty): room for reads under writers.
	readShare = 4
)

// Config configures a Cache.
type Config struct {
	// MemBytes is the memory budget shared by cached blocks, the buffers of
	// blocks being fetched or prefetched, and whoever else charges Budget()
	// (default 96 MiB).
	MemBytes int64
	// Dir holds the disk tier (in its "blocks" subdirectory); empty means
	// memory only.
	Dir string
	// DiskBytes bounds the disk tier's total file size (default 10 GiB).
	DiskBytes int64
	// PrefetchConcurrency bounds background prefetches across all files
	// (default 8).
	PrefetchConcurrency int
	// Logger receives warnings (corrupt blocks, full disk); nil is silent.
	Logger *slog.Logger
}

// FetchFunc fetches one block from the network. For a hash key it may
// return the block with or without its trailing zeros (the hash decides);
// for an opaque key it must return exactly the size passed to Get, since a
// short read could not be told apart from a block ending in zeros. The
// cache keeps the returned slice, so the caller must not reuse it.
type FetchFunc func(ctx context.Context) ([]byte, error)

// Cache is the two-tier block cache. Its methods are safe for concurrent
// use. Slices it returns are shared and must not be modified.
type Cache struct {
	log    *slog.Logger
	budget *Budget
	mem    *memTier
	disk   *diskTier // nil without Dir
	stats  counters
	pfSem  *semaphore.Weighted
	asmSem *semaphore.Weighted // one object file assembled at a time
	// overSem bounds the loads that go ahead beyond a budget held by firm
	// reservations (loadBlock).
	overSem *semaphore.Weighted
	pool    *bufPool

	ctx    context.Context // cancelled by Close; parent of every fetch
	cancel context.CancelFunc

	mu      sync.Mutex
	flights map[string]*flight
	closed  bool
	wg      sync.WaitGroup // flight goroutines
}

// ErrClosed is returned by a Cache after Close.
var ErrClosed = errors.New("cache: closed")

// ErrSize is returned when a block is longer than the size asked for, or
// when a fetch for an opaque key returns a different length.
var ErrSize = errors.New("cache: block longer than its size")

// Open returns a cache configured by cfg, rebuilding the disk tier's index
// from cfg.Dir.
func Open(cfg Config) (*Cache, error) {
	if cfg.MemBytes <= 0 {
		cfg.MemBytes = DefaultMemBytes
	}
	if cfg.DiskBytes <= 0 {
		cfg.DiskBytes = DefaultDiskBytes
	}
	if cfg.PrefetchConcurrency <= 0 {
		cfg.PrefetchConcurrency = DefaultPrefetchConcurrency
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cache{
		log:     log,
		budget:  NewBudget(cfg.MemBytes),
		pfSem:   semaphore.NewWeighted(int64(cfg.PrefetchConcurrency)),
		asmSem:  semaphore.NewWeighted(1),
		overSem: semaphore.NewWeighted(overBudgetLoads),
		flights: make(map[string]*flight),
	}
	c.budget.setDirtyLimit(cfg.MemBytes - cfg.MemBytes/readShare)
	c.mem = newMemTier(c.budget, &c.stats)
	c.pool = newBufPool(c.budget)
	// Free buffers are not charged to the budget but kept only in its free
	// room: when a reservation needs that room they go first, then cached
	// blocks.
	c.budget.setReclaimer(func(need int64) int64 {
		c.pool.trim(need)
		return c.mem.reclaim(need)
	})
	c.budget.setAheadReclaimer(func(need int64) int64 {
		c.pool.trim(need)
		return c.mem.reclaimRead(need)
	})
	// poolSlack free buffers may stay beyond the free room, among them the
	// one the fetch that made the reservation is about to take.
	c.budget.setReservedHook(func() { c.pool.trim(0) })
	if cfg.Dir != "" {
		d, err := openDisk(cfg.Dir, cfg.DiskBytes, log, &c.stats)
		if err != nil {
			return nil, err
		}
		d.budget = c.budget
		c.disk = d
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close cancels fetches in progress, writes the blocks queued for the disk
// tier, and releases the memory. Gets after Close fail with ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.disk != nil {
		c.disk.close()
	}
	c.mem.purge()
	return nil
}

// Budget is the memory budget the cache charges for its blocks; the write
// path reserves dirty blocks from it so one limit covers both.
func (c *Cache) Budget() *Budget { return c.budget }

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

// getMode says what a get hands its caller.
type getMode int

const (
	modeEscape   getMode = iota // the bytes, for good (Get, GetStripped)
	modeRef                     // a reference (GetRef)
	modePrefetch                // nothing: the block is only loaded
)

// Get returns the block named by key, zero-extended to size bytes: from
// memory, else from the disk tier, else by calling fetch. However many
// goroutines ask for a missing block at once, fetch is called once; its
// context is cancelled only when every waiter has given up (or at Close),
// so one reader's cancelled ctx never fails the others. Data from disk or
// fetch is verified against a hash key; a fetch whose data does not match
// returns a *VerifyError and nothing is cached.
func (c *Cache) Get(ctx context.Context, key Key, size int, fetch FetchFunc) ([]byte, error) {
	blk, err := c.get(ctx, key, size, fetchFunc{plain: fetch}, modeEscape)
	if err != nil {
		return nil, err
	}
	return extend(blk.data, size), nil
}

// GetStripped is Get without the zero extension: it returns the block's
// bytes up to its last non-zero one (at most size; the bytes from len(data)
// to size are zeros). It never copies: readers serving part of a block take
// it from the shared slice, which must not be modified.
func (c *Cache) GetStripped(ctx context.Context, key Key, size int, fetch FetchFunc) ([]byte, error) {
	blk, err := c.get(ctx, key, size, fetchFunc{plain: fetch}, modeEscape)
	if err != nil {
		return nil, err
	}
	return blk.data, nil
}

// GetRef is GetStripped for a reader that says when it is done with the
// bytes (Ref.Release), so that the block's buffer can be reused once it
// has left the cache; a block it has to fetch is read into a recycled
// buffer by fetch.
func (c *Cache) GetRef(ctx context.Context, key Key, size int, fetch FetchIntoFunc) (*Ref, error) {
	blk, err := c.get(ctx, key, size, fetchFunc{into: fetch}, modeRef)
	if err != nil {
		return nil, err
	}
	return &Ref{b: blk}, nil
}

// get returns a block stripped of its trailing zeros, checked to be no
// longer than size: with a reference taken for the caller (modeRef),
// escaped (modeEscape), or nil (modePrefetch).
func (c *Cache) get(ctx context.Context, key Key, size int, fetch fetchFunc, mode getMode) (*blockBuf, error) {
	prefetch := mode == modePrefetch
	if err := key.validate(); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("cache: negative size %d", size)
	}
	id := key.memID()
	var f *flight
	for f == nil {
		if blk, first, ok := c.mem.get(id, prefetch, !prefetch); ok {
			err := checkSize(key, blk.data, size)
			if err != nil {
				if mode == modeRef {
					blk.release()
				}
				return nil, err
			}
			c.stats.memHits.Add(1)
			c.stats.bytesFromMem.Add(int64(size))
			if first {
				c.stats.readaheadHits.Add(1)
			}
			if prefetch {
				return nil, nil
			}
			if mode == modeEscape {
				blk.markEscaped()
			}
			return blk, nil
		}
		var err error
		if f, err = c.join(id, key, size, fetch, prefetch); err != nil {
			return nil, err
		}
		// nil: a flight ended between the memory lookup above and join,
		// leaving its block in memory; look there again.
	}
	blk, err := c.await(ctx, id, key, size, f, prefetch)
	if err != nil {
		return nil, err
	}
	if mode == modeEscape {
		blk.markEscaped()
	}
	if f.fromDisk {
		c.stats.diskHits.Add(1)
		c.stats.bytesFromDisk.Add(int64(size))
	} else {
		c.stats.misses.Add(1)
	}
	return blk, nil // nil for a prefetch
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
func (c *Cache) await(ctx context.Context, id string, key Key, size int, f *flight, prefetch bool) (*blockBuf, error) {
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
			f.blk.release()
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
	}
	c.mu.Lock()
	f.waiters--
	drop := f.dropRef()
	c.mu.Unlock()
	if drop {
		blk.release()
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
	blk, fromDisk, err := c.loadBlock(ctx, id, key, size, f, fetch, charge, have)
	toDisk := err == nil && !fromDisk && c.disk != nil
	var queued diskCharge
	if toDisk {
		charged := c.mem.holds(id, blk) || blk.charge.Load() > 0
		if queued, toDisk = c.disk.tryReserve(len(blk.data), charged); !toDisk {
			c.stats.diskWritesSkipped.Add(1)
		}
	}
	if toDisk {
		blk.acquire() // the disk writer's
	}
	c.mu.Lock()
	if c.flights[id] == f {
		delete(c.flights, id)
	}
	f.blk, f.fromDisk, f.err = blk, fromDisk, err
	f.finished = true
	drop := f.dropRef()
	c.mu.Unlock()
	f.cancel()
	close(f.done)
	if drop {
		blk.release()
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
// caching it evicts nothing.
func (c *Cache) loadBlock(ctx context.Context, id string, key Key, size int, f *flight, fetch fetchFunc, charge bool, have int64) (blk *blockBuf, fromDisk bool, err error) {
	charged, over := have, false
	if charge {
		n := int64(size) + entryOverhead
		if c.budget.TryReserve(n) {
			charged = n
		} else {
			if err := c.overSem.Acquire(ctx, 1); err != nil {
				return nil, false, err
			}
			defer c.overSem.Release(1)
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
			if c.mem.add(id, blk, c.prefetched(f)) {
				return // the deferred release gives the charge back
			}
			blk.keepCharge(c.budget, charged)
			charged = 0
			return
		}
		c.cacheLoaded(id, blk, f, &charged)
	}
	if c.disk != nil {
		if blk, ok := c.disk.read(key, c.pool); ok {
			cacheLoaded(blk)
			return blk, true, nil
		}
	}
	c.stats.fetches.Add(1)
	c.stats.inFlight.Add(1)
	raw, buf, sh, err := fetch.call(ctx, c.pool, size, key)
	c.stats.inFlight.Add(-1)
	if err != nil {
		c.stats.fetchErrors.Add(1)
		return nil, false, fmt.Errorf("cache: fetch block %s: %w", key.id, err)
	}
	c.stats.bytesFetched.Add(int64(len(raw)))
	if got := sh.sum(raw); got != "" {
		c.stats.streamVerified.Add(1)
		if got != key.id {
			err = &VerifyError{Key: key, Got: got, From: "fetch"}
		}
	} else {
		err = verify(key, raw, "fetch")
	}
	if err != nil {
		c.stats.fetchErrors.Add(1)
		c.stats.badFetches.Add(1)
		keepIfUsed(c.pool, nil, buf)
		return nil, false, err
	}
	if !key.hash && len(raw) != size {
		// Nothing else can tell a short read from a block ending in zeros.
		c.stats.fetchErrors.Add(1)
		c.stats.badFetches.Add(1)
		keepIfUsed(c.pool, nil, buf)
		return nil, false, fmt.Errorf("%w: fetch of opaque block %q returned %d bytes, want %d", ErrSize, key.id, len(raw), size)
	}
	data := strip(raw)
	blk = newBlock(data, keepIfUsed(c.pool, data, buf), c.pool)
	cacheLoaded(blk)
	return blk, false, nil
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

// Drop removes a block from the memory tier: for a block a sequential
// reader has read to the end, whose bytes the kernel's page cache now
// holds (and the disk tier, unless it was skipped), so that a stream larger
// than the budget does not push everything else out of memory. Its buffer
// is reused, and its charge in the budget given back, once no one holds
// the block any more.
func (c *Cache) Drop(key Key) {
	if key.validate() != nil {
		return
	}
	if c.mem.remove(key.memID()) {
		c.stats.memDrops.Add(1)
	}
}

// Contains reports whether a block is in memory or on disk (without
// verifying it or changing its recency).
func (c *Cache) Contains(key Key) bool {
	if key.validate() != nil {
		return false
	}
	if c.mem.contains(key.memID()) {
		return true
	}
	return c.disk != nil && c.disk.contains(key)
}

// Stats returns a snapshot of the counters and current occupancy.
func (c *Cache) Stats() Stats {
	s := Stats{
		MemHits:              c.stats.memHits.Load(),
		DiskHits:             c.stats.diskHits.Load(),
		Misses:               c.stats.misses.Load(),
		Fetches:              c.stats.fetches.Load(),
		FetchErrors:          c.stats.fetchErrors.Load(),
		BytesFetched:         c.stats.bytesFetched.Load(),
		BytesFromMem:         c.stats.bytesFromMem.Load(),
		BytesFromDisk:        c.stats.bytesFromDisk.Load(),
		MemEvictions:         c.stats.memEvictions.Load(),
		MemDrops:             c.stats.memDrops.Load(),
		DiskEvictions:        c.stats.diskEvictions.Load(),
		CorruptDiskBlocks:    c.stats.corruptDisk.Load(),
		BadFetches:           c.stats.badFetches.Load(),
		DiskWriteErrors:      c.stats.diskWriteErrors.Load(),
		DiskWritesSkipped:    c.stats.diskWritesSkipped.Load(),
		Prefetches:           c.stats.prefetches.Load(),
		PrefetchesDropped:    c.stats.prefetchesDropped.Load(),
		ReadaheadHits:        c.stats.readaheadHits.Load(),
		StreamVerified:       c.stats.streamVerified.Load(),
		FetchesInFlight:      c.stats.inFlight.Load(),
		ObjectFiles:          c.stats.objectFiles.Load(),
		ObjectFileOpens:      c.stats.objectFileOpens.Load(),
		ObjectsAssembling:    c.stats.objectsAssembling.Load(),
		ObjectBlocksStreamed: c.stats.objectBlocksWritten.Load(),
		ObjectBlocksCopied:   c.stats.diskCopies.Load(),
		ObjectBlocksHosted:   c.stats.objectBlocksHosted.Load(),
		HostedSpilled:        c.stats.hostedSpilled.Load(),
		BudgetUsed:           c.budget.Used(),
		BudgetLimit:          c.budget.Limit(),
	}
	s.MemBlocks, s.MemBytes = c.mem.usage()
	if c.disk != nil {
		s.DiskBlocks, s.DiskBytes, s.DiskWritesOff = c.disk.usage()
		s.DiskLimit = c.disk.limit
		s.DiskQueued = c.disk.queued.Load()
	}
	return s
}

// strip returns data without its trailing zeros, copied into a right-sized
// slice when that frees a significant part of the original array.
func strip(data []byte) []byte {
	s := bytes.TrimRight(data, "\x00")
	if cap(data)-len(s) > 64<<10 {
		s = bytes.Clone(s)
	}
	if s == nil {
		s = []byte{}
	}
	return s
}

// checkSize fails for a stripped block longer than the size asked for.
func checkSize(key Key, data []byte, size int) error {
	if len(data) > size {
		return fmt.Errorf("%w: block %s has %d bytes, %d asked for", ErrSize, key.id, len(data), size)
	}
	return nil
}

// extend returns a stripped block (checked by checkSize) as size bytes:
// the shared slice itself when it is already that long, otherwise a
// zero-extended copy.
func extend(data []byte, size int) []byte {
	if len(data) == size {
		return data
	}
	out := make([]byte, size)
	copy(out, data)
	return out
}
