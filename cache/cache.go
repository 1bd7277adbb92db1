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
	blk, err := c.await(ctx, id, key, size, f, mode) // escaped there for modeEscape
	if err != nil {
		return nil, err
	}
	if f.fromDisk {
		c.stats.diskHits.Add(1)
		c.stats.bytesFromDisk.Add(int64(size))
	} else {
		c.stats.misses.Add(1)
	}
	return blk, nil // nil for a prefetch
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
		BudgetRequestRoom:    c.budget.RequestRoom(),
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
