package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A sequential read of a large object fetches a new block every few
// milliseconds. Allocating each one afresh costs more than the network
// copy: the collector has to run near the memory limit, the runtime hands
// freed pages back to the kernel, and every new block faults them in and
// zeroes them again. So the buffers of fetched blocks are recycled: a block
// counts its holders (the memory tier, the disk writer, each Ref a reader
// holds, the flight that loaded it), and when the last one lets go, its
// buffer goes back to a small free list for the next fetch. A block whose
// bytes were handed out without a Ref (Get, GetStripped) is never
// recycled: the garbage collector frees it as before.

// poolBlockSize is the one buffer size recycled: the Pithos+ block size
// (and the size the mount uses for plain Swift objects).
const poolBlockSize = 4 << 20

// poolBuffers bounds the free buffers kept (16 × 4 MiB: a sequential read
// has about that many blocks in flight, prefetched or queued for the disk).
// Free buffers are kept only while they fit in the memory budget's free
// room, and dropped as soon as a reservation takes that room (trim), so
// that cached blocks, reservations and free buffers together stay within
// the budget, give or take poolSlack buffers.
const poolBuffers = 16

// poolSlack is how many free buffers may be kept beyond the budget's free
// room. Under many readers and writers the budget is always full, so a
// buffer let go would be dropped, stay garbage until the collector runs,
// and the next reservation (which evicts a cached block for its room) would
// allocate a fresh one: half the buffers of 16 writers and 16 readers were
// fresh, 60 MB/s of 4 MiB garbage, and the heap's peaks above the budget
// were that garbage outrunning a collector short of CPU. Kept, the buffer
// costs the same memory as the garbage did, and is used again.
const poolSlack = 2

// bufPool is a bounded free list of poolBlockSize buffers.
type bufPool struct {
	budget *Budget
	mu     sync.Mutex
	free   [][]byte
}

func newBufPool(b *Budget) *bufPool { return &bufPool{budget: b} }

// get returns a buffer of size bytes (its contents are garbage) and
// whether it is recyclable: only poolBlockSize buffers are.
func (p *bufPool) get(size int) ([]byte, bool) {
	if size != poolBlockSize {
		return make([]byte, size), false
	}
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b[:size], true
	}
	p.mu.Unlock()
	// A new buffer is made outside the lock: zeroing it and populating its
	// pages (adviseHuge) take a millisecond or more, and every READ's
	// charge to the budget takes the lock (trim): in a cold read's
	// execution trace they waited on it for 1 s in all.
	b := make([]byte, size)
	adviseHuge(b)
	return b, true
}

// put offers a buffer back; it is dropped when the list is full or the
// budget has no free room for it (beyond poolSlack buffers).
func (p *bufPool) put(b []byte) {
	if cap(b) != poolBlockSize {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < poolBuffers && p.budget.taken()+int64(len(p.free)+1-poolSlack)*poolBlockSize <= p.budget.Limit() {
		p.free = append(p.free, b[:cap(b)])
	}
}

// trim drops free buffers until they fit in the budget's free room (less
// need bytes, plus poolSlack buffers): called when the budget is short of
// room, and after each reservation.
func (p *bufPool) trim(need int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	room := p.budget.Limit() - p.budget.taken() - need + poolSlack*poolBlockSize
	for len(p.free) > 0 && int64(len(p.free))*poolBlockSize > room {
		p.free[len(p.free)-1] = nil
		p.free = p.free[:len(p.free)-1]
	}
}

// idle is the number of free buffers.
func (p *bufPool) idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// blockBuf is a cached block's bytes (stripped of trailing zeros, never
// modified) and the count of its holders.
//
// A block is charged to the memory budget for as long as it is alive, not
// only while the memory tier holds it: a block the tier evicts (or drops,
// or never takes) while a reader still holds a Ref carries its charge until
// the last reference goes (keepCharge). Before, such blocks were uncharged:
// under 16 readers, each holding the block of its current READ reply, up to
// 16 blocks lived outside the budget. A block handed out for good (markEscaped)
// gives its charge back at once, as it did: its holders never say when they
// are done; but not while the disk writer holds it (queued): that reference
// is released, so the block keeps its charge until the writer lets go
// (unqueue). Before, an escaped block the memory tier let go waited for the
// disk uncharged, up to the 32 MiB of the queue.
type blockBuf struct {
	data []byte
	// buf is the recyclable buffer data lies in, nil when there is none.
	buf  []byte
	pool *bufPool
	refs atomic.Int64

	charge  atomic.Int64 // bytes of budget held until the last release
	budget  atomic.Pointer[Budget]
	escaped atomic.Bool
	// queued: the disk writer holds a reference (set before the block's
	// waiters take it, cleared by unqueue).
	queued atomic.Bool
}

// newBlock returns a block with one reference, its creator's.
func newBlock(data, buf []byte, pool *bufPool) *blockBuf {
	b := &blockBuf{data: data, buf: buf, pool: pool}
	b.refs.Store(1)
	return b
}

// plainBlock wraps bytes that are never recycled.
func plainBlock(data []byte) *blockBuf { return newBlock(data, nil, nil) }

// acquire adds a reference; the caller must already hold one (or hold a
// lock that keeps one alive, as the memory tier's does for its entries).
func (b *blockBuf) acquire() { b.refs.Add(1) }

// markEscaped records that a holder's reference is never released: the
// block is never recycled, and the charge it carries, if any, goes back to
// the budget now (once written, if queued for the disk: unqueue).
func (b *blockBuf) markEscaped() {
	b.escaped.Store(true)
	if !b.queued.Load() {
		b.dropCharge()
	}
}

// unqueue ends the disk writer's hold (before it releases its reference):
// an escaped block gives its charge back now. (Sequentially consistent
// atomics: of markEscaped and unqueue, at least one sees the other's store,
// so an escaped block's charge is never kept for good.)
func (b *blockBuf) unqueue() {
	b.queued.Store(false)
	if b.escaped.Load() {
		b.dropCharge()
	}
}

// keepCharge makes the block carry n bytes reserved from bg until its last
// reference is released (at once if it has escaped and is not queued for
// the disk: it returns the bytes released then); the caller must hold a
// reference.
func (b *blockBuf) keepCharge(bg *Budget, n int64) int64 {
	if n <= 0 || bg == nil {
		return 0
	}
	b.budget.Store(bg)
	b.charge.Add(n)
	if b.escaped.Load() && !b.queued.Load() {
		return b.dropCharge()
	}
	return 0
}

// takeCharge hands the charge the block carries over to the caller, who
// releases it from the budget; it returns the bytes (0: none).
func (b *blockBuf) takeCharge() int64 { return b.charge.Swap(0) }

// dropCharge gives back the charge the block carries; it returns the bytes.
func (b *blockBuf) dropCharge() int64 {
	c := b.charge.Swap(0)
	if c > 0 {
		b.budget.Load().Release(c)
	}
	return c
}

// release drops a reference; the last one gives back the block's charge and
// recycles its buffer. It returns the bytes of budget released.
func (b *blockBuf) release() int64 {
	n := b.refs.Add(-1)
	if n < 0 {
		panic("cache: block released more often than acquired")
	}
	if n != 0 {
		return 0
	}
	freed := b.dropCharge()
	if b.buf != nil && b.pool != nil {
		buf := b.buf
		b.buf, b.data = nil, nil
		b.pool.put(buf)
	}
	return freed
}

// Ref is a reader's reference to a cached block: its bytes stay valid
// (and unmodified) until Release, after which they may be reused for
// another block. Release exactly once.
type Ref struct {
	b *blockBuf
}

// Bytes returns the block up to its last non-zero byte; the bytes from
// len(Bytes()) to the size asked for are zeros. Do not modify them.
func (r *Ref) Bytes() []byte { return r.b.data }

// Release gives the block back.
func (r *Ref) Release() {
	if r.b != nil {
		b := r.b
		r.b = nil
		b.release()
	}
}

// FetchIntoFunc is a FetchFunc that reads the block into buf (size bytes,
// possibly a recycled buffer holding another block's bytes) and returns the
// part of buf it filled. The same rules as for FetchFunc apply to what it
// returns; a slice that is not a prefix of buf is kept as it is (and buf
// goes back to the pool).
type FetchIntoFunc func(ctx context.Context, buf []byte) ([]byte, error)

// fetchFunc is how the cache calls a fetch: with a buffer when the fetch
// can use one.
type fetchFunc struct {
	plain FetchFunc
	into  FetchIntoFunc
	// ahead, for a prefetch, holds the bytes of the budget the Prefetcher
	// reserved for the block; a load the prefetch starts takes them over
	// (leaving 0), so that caching the block needs no second reservation,
	// which used to evict another block read ahead while both were held.
	ahead *atomic.Int64
}

// call fetches a block, into a buffer of the pool when the fetch can fill
// one; it returns the block's bytes and the buffer holding them (nil when
// the bytes lie elsewhere).
func (f fetchFunc) call(ctx context.Context, p *bufPool, size int) (data, buf []byte, err error) {
	if f.into == nil {
		data, err = f.plain(ctx)
		return data, nil, err
	}
	buf, recyclable := p.get(size)
	data, err = f.into(ctx, buf)
	if err != nil || !recyclable {
		if recyclable {
			p.put(buf)
		}
		return data, nil, err
	}
	return data, keepIfUsed(p, data, buf), nil
}

// keepIfUsed returns buf if data lies in it; otherwise it gives buf back
// to the pool and returns nil.
func keepIfUsed(p *bufPool, data, buf []byte) []byte {
	if buf == nil {
		return nil
	}
	if overlaps(data, buf) {
		return buf
	}
	p.put(buf)
	return nil
}

// overlaps reports whether a's bytes lie in b's array.
func overlaps(a, b []byte) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return false
	}
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 >= b0 && a0 < b0+uintptr(cap(b))
}

// Buffer returns a buffer of n bytes with garbage contents, from the free
// list when n is the block size. The write path takes its dirty blocks'
// buffers here, having reserved n bytes of the budget first, so that the
// buffers that reads, commits and evictions free are used again instead of
// being collected (the collector's sweep and the fresh pages' faults and
// zeroing cost a sixth of a large write's CPU).
func (c *Cache) Buffer(n int) []byte {
	b, _ := c.pool.get(n)
	return b
}

// Recycle gives back a buffer that nothing references any more, its
// reservation already released: it is kept for the next Buffer or fetch
// while the budget has free room for it, else left to the collector.
func (c *Cache) Recycle(b []byte) { c.pool.put(b) }
