package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// intoFetch copies data into the buffer the cache passes and records that
// buffer's address.
func intoFetch(data []byte, got *uintptr) FetchIntoFunc {
	return func(_ context.Context, buf []byte) ([]byte, error) {
		*got = uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
		return buf[:copy(buf, data)], nil
	}
}

func getRef(t *testing.T, c *Cache, data []byte, got *uintptr) *Ref {
	t.Helper()
	r, err := c.GetRef(context.Background(), hashKey(data), len(data), intoFetch(data, got))
	if err != nil {
		t.Fatalf("GetRef: %v", err)
	}
	if !bytes.Equal(r.Bytes(), data) {
		t.Fatal("GetRef returned other bytes")
	}
	return r
}

// TestBufferRecycling: with room for one 4 MiB block in memory, a block
// nobody holds any more lends its buffer to the next fetch; a block a
// reader still holds keeps its own buffer and its charge in the budget; a
// block whose bytes GetStripped handed out keeps its buffer.
func TestBufferRecycling(t *testing.T) {
	c := openCache(t, Config{MemBytes: poolBlockSize + entryOverhead})
	a, b, d, e := block(1, poolBlockSize), block(2, poolBlockSize), block(3, poolBlockSize), block(4, poolBlockSize)
	var bufA, bufB, bufD, bufE uintptr

	getRef(t, c, a, &bufA).Release()
	rb := getRef(t, c, b, &bufB) // evicts a, whose buffer nobody holds
	if bufB != bufA {
		t.Fatalf("the fetch of b got a new buffer, not a's (which nobody held)")
	}

	// b is still held when d's fetch evicts it: d needs another buffer and
	// b's bytes stay as they were until b is released; b's memory stays
	// charged to the budget while it is held.
	rd := getRef(t, c, d, &bufD)
	if bufD == bufB {
		t.Fatal("the fetch of d reused b's buffer while a reader held b")
	}
	if !bytes.Equal(rb.Bytes(), b) {
		t.Fatal("b changed while held")
	}
	if used := c.Stats().BudgetUsed; used < poolBlockSize {
		t.Fatalf("budget used %d while a reader holds b, evicted", used)
	}
	rb.Release()
	rd.Release()
	if c.Stats().BudgetUsed > poolBlockSize+entryOverhead {
		t.Fatalf("budget used %d after releasing everything", c.Stats().BudgetUsed)
	}

	// d, cached now that nothing is held, and its bytes handed out by
	// GetStripped: never recycled.
	getRef(t, c, d, &bufD).Release()
	got, err := c.GetStripped(context.Background(), hashKey(d), len(d), failFetch(t))
	if err != nil || !bytes.Equal(got, d) {
		t.Fatalf("GetStripped(d): %v", err)
	}
	getRef(t, c, e, &bufE).Release() // evicts d
	if bufE == bufD {
		t.Fatal("the fetch of e reused d's buffer after GetStripped handed it out")
	}
	if !bytes.Equal(got, d) {
		t.Fatal("bytes handed out by GetStripped changed")
	}
	if used := c.Stats().BudgetUsed; used > poolBlockSize+entryOverhead {
		t.Fatalf("budget used %d: the escaped block d kept its charge", used)
	}
}

// TestRefsUnderConcurrency has readers holding, releasing and re-getting
// a working set larger than the memory budget (so blocks are evicted and
// buffers reused all the time) and checks every byte they see.
func TestRefsUnderConcurrency(t *testing.T) {
	c := openCache(t, Config{MemBytes: 3 * (poolBlockSize + entryOverhead), Dir: t.TempDir()})
	blocks := make([][]byte, 6)
	for i := range blocks {
		blocks[i] = block(uint64(10+i), poolBlockSize)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				data := blocks[(w+i)%len(blocks)]
				fetch := func(_ context.Context, buf []byte) ([]byte, error) { return buf[:copy(buf, data)], nil }
				r, err := c.GetRef(context.Background(), hashKey(data), len(data), fetch)
				if err != nil {
					errs <- err.Error()
					return
				}
				pf := c.NewPrefetcher(context.Background())
				next := blocks[(w+i+1)%len(blocks)]
				pf.PrefetchInto(hashKey(next), len(next), func(_ context.Context, buf []byte) ([]byte, error) { return buf[:copy(buf, next)], nil })
				if !bytes.Equal(r.Bytes(), data) {
					errs <- "a held block changed"
				}
				pf.Close()
				if !bytes.Equal(r.Bytes(), data) {
					errs <- "a held block changed"
				}
				r.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	c.settle()
	if used := c.Stats().BudgetUsed; used > c.Stats().BudgetLimit {
		t.Fatalf("budget used %d > limit", used)
	}
}

// TestDrop: a dropped block leaves the memory tier at once, and gives back
// its budget and its buffer once its last reader lets go.
func TestDrop(t *testing.T) {
	c := openCache(t, Config{MemBytes: 4 * (poolBlockSize + entryOverhead)})
	a, b := block(21, poolBlockSize), block(22, poolBlockSize)
	var bufA, bufB uintptr
	ra := getRef(t, c, a, &bufA)
	c.Drop(hashKey(a))
	if c.Contains(hashKey(a)) || c.Stats().MemDrops != 1 || c.Stats().BudgetUsed != poolBlockSize+entryOverhead {
		t.Fatalf("after Drop, a still held: contains %v, stats %+v", c.Contains(hashKey(a)), c.Stats())
	}
	getRef(t, c, b, &bufB).Release()
	if bufB == bufA || !bytes.Equal(ra.Bytes(), a) {
		t.Fatal("a dropped block's buffer was reused while a reader held it")
	}
	ra.Release()
	if used := c.Stats().BudgetUsed; used != poolBlockSize+entryOverhead {
		t.Fatalf("budget used %d after a's release (b alone is cached)", used)
	}
	c.Drop(hashKey(b))
	var bufA2 uintptr
	getRef(t, c, a, &bufA2).Release()
	if bufA2 != bufA && bufA2 != bufB {
		t.Fatal("the refetch of a got a new buffer although two were free")
	}
	c.Drop(hashKey(a))
	c.Drop(hashKey(a)) // absent: nothing happens
	if st := c.Stats(); st.MemDrops != 3 || st.MemBlocks != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFreeBuffersWithinBudget: free buffers are kept only in the budget's
// free room; a reservation that takes the room (here the write path's)
// drops them.
func TestFreeBuffersWithinBudget(t *testing.T) {
	c := openCache(t, Config{MemBytes: 8 * (poolBlockSize + entryOverhead)})
	for i := range 6 {
		data := block(uint64(30+i), poolBlockSize)
		var buf uintptr
		r := getRef(t, c, data, &buf)
		c.Drop(hashKey(data))
		defer r.Release()
	}
	if n := c.pool.idle(); n != 0 {
		t.Fatalf("%d free buffers while readers hold every block", n)
	}
	if used := c.Stats().BudgetUsed; used < 6*poolBlockSize {
		t.Fatalf("budget used %d while readers hold 6 dropped blocks", used)
	}
	for i := range 6 {
		data := block(uint64(30+i), poolBlockSize)
		var buf uintptr
		getRef(t, c, data, &buf).Release() // fetched again: recycled or new
		c.Drop(hashKey(data))
	}
	// The deferred releases have not run: the 6 first blocks are still held.
	if n := c.pool.idle(); n < 1 {
		t.Fatalf("no free buffer after blocks were dropped and released")
	}
	// The held blocks are charged: the reservation takes the rest.
	room := c.Budget().Limit() - c.Budget().Used()
	if err := c.Budget().Reserve(context.Background(), room); err != nil {
		t.Fatal(err)
	}
	defer c.Budget().Release(room)
	st := c.Stats()
	if free := int64(c.pool.idle()) * poolBlockSize; st.BudgetUsed+free > st.BudgetLimit+poolSlack*poolBlockSize {
		t.Fatalf("%d bytes reserved and %d in free buffers exceed the budget %d", st.BudgetUsed, free, st.BudgetLimit)
	}
}

// TestAdoptRecyclesBuffer: the write path's block buffers go round. A buffer
// from Buffer, adopted as a committed block, comes back from Buffer once the
// block has left memory; a recycled buffer is not handed out again while
// still adopted; Recycle keeps a buffer only while the budget has room.
func TestAdoptRecyclesBuffer(t *testing.T) {
	c := openCache(t, Config{MemBytes: 2*poolBlockSize + 2*entryOverhead})
	addr := func(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

	buf := c.Buffer(poolBlockSize)
	data := block(7, poolBlockSize)
	copy(buf, data)
	if err := c.Adopt(hashKey(data), buf); err != nil {
		t.Fatal(err)
	}
	if other := c.Buffer(poolBlockSize); addr(other) == addr(buf) {
		t.Fatal("Buffer handed out the buffer of a block still in the cache")
	}
	got, err := c.Get(context.Background(), hashKey(data), poolBlockSize, func(context.Context) ([]byte, error) {
		t.Fatal("the adopted block was fetched")
		return nil, nil
	})
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get of the adopted block: %v", err)
	}

	buf2 := c.Buffer(poolBlockSize)
	data2 := block(8, poolBlockSize)
	copy(buf2, data2)
	if err := c.Adopt(hashKey(data2), buf2); err != nil {
		t.Fatal(err)
	}
	c.Drop(hashKey(data2))
	if again := c.Buffer(poolBlockSize); addr(again) != addr(buf2) {
		t.Fatal("the buffer of an adopted block that left memory was not reused")
	}

	// A full budget keeps poolSlack free buffers: Recycle then leaves the
	// next to the collector.
	if !c.Budget().TryReserve(c.Budget().Limit() - c.Budget().Used()) {
		t.Fatal("could not fill the budget")
	}
	c.pool.trim(0)
	for range poolSlack + 1 {
		c.Recycle(make([]byte, poolBlockSize))
	}
	if c.pool.idle() != poolSlack {
		t.Fatalf("%d free buffers kept with the budget full, want %d", c.pool.idle(), poolSlack)
	}
}

// TestFreeBuffersBeyondFullBudget: with the budget all firm reservations
// but one block's room, a reader's block that leaves memory keeps its
// buffer for the next fetch rather than leave it to the collector.
func TestFreeBuffersBeyondFullBudget(t *testing.T) {
	c := openCache(t, Config{MemBytes: 4 * (poolBlockSize + entryOverhead)})
	b := c.Budget()
	if !b.TryReserve(3 * poolBlockSize) {
		t.Fatal("could not fill the budget")
	}
	defer b.Release(3 * poolBlockSize)
	a := block(51, poolBlockSize)
	var bufA, bufB uintptr
	ra := getRef(t, c, a, &bufA)
	c.Drop(hashKey(a)) // the reader still holds a
	room := b.Limit() - b.Used()
	if !b.TryReserve(room) { // another reservation takes the room a's drop freed
		t.Fatal("could not take the rest of the budget")
	}
	ra.Release()
	if c.pool.idle() != 1 {
		t.Fatalf("%d free buffers after a's release with the budget full, want 1", c.pool.idle())
	}
	b.Release(room)
	getRef(t, c, block(52, poolBlockSize), &bufB).Release()
	if bufB != bufA {
		t.Fatal("the next fetch did not reuse a's buffer")
	}
}

// TestDiskReadRecycled: a block read back from the disk tier lies in a
// buffer of the free list, which goes back to it once the block leaves
// memory and its reader lets go, and the next fetch reuses it; for hash and
// opaque (Swift) keys alike.
func TestDiskReadRecycled(t *testing.T) {
	for _, opaque := range []bool{false, true} {
		t.Run(fmt.Sprintf("opaque=%v", opaque), func(t *testing.T) {
			c := openCache(t, Config{MemBytes: 4 * (poolBlockSize + entryOverhead), Dir: t.TempDir()})
			a := block(41, poolBlockSize)
			key := hashKey(a)
			if opaque {
				key = OpaqueKey("swift:/a/c/o@1#0")
			}
			if _, err := c.Get(context.Background(), key, len(a), countingFetch(a, new(atomic.Int64))); err != nil {
				t.Fatal(err)
			}
			c.settle()
			c.Drop(key)
			r, err := c.GetRef(context.Background(), key, len(a), func(context.Context, []byte) ([]byte, error) {
				t.Fatal("fetched a block the disk tier holds")
				return nil, nil
			})
			if err != nil || !bytes.Equal(r.Bytes(), a) || c.Stats().DiskHits != 1 {
				t.Fatalf("GetRef from disk: %v, stats %+v", err, c.Stats())
			}
			fromDisk := uintptr(unsafe.Pointer(unsafe.SliceData(r.Bytes())))
			c.Drop(key)
			r.Release()
			if c.pool.idle() != 1 {
				t.Fatalf("%d free buffers after the disk block was released, want 1", c.pool.idle())
			}
			var got uintptr
			getRef(t, c, block(42, poolBlockSize), &got).Release()
			if got != fromDisk {
				t.Fatal("the next fetch did not reuse the disk block's buffer")
			}
		})
	}
}

// TestGetRefVerifiesIntoBuffer: a block fetched into the cache's buffer is
// verified once it is complete: a corrupt one is refused (and its buffer
// not cached), a good one ending in zeros is kept without them.
func TestGetRefVerifiesIntoBuffer(t *testing.T) {
	c := openCache(t, Config{MemBytes: 64 << 20})
	data := append(block(77, 3<<20), make([]byte, 1<<20)...)
	bad := bytes.Clone(data)
	bad[5] ^= 1
	var got uintptr
	_, err := c.GetRef(context.Background(), hashKey(data), len(data), intoFetch(bad, &got))
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.From != "fetch" {
		t.Fatalf("corrupt block: %v, want a VerifyError from fetch", err)
	}
	c.settle()
	if c.Contains(hashKey(data)) {
		t.Fatal("a corrupt block was cached")
	}
	r, err := c.GetRef(context.Background(), hashKey(data), len(data), intoFetch(data, &got))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !bytes.Equal(r.Bytes(), bytes.TrimRight(data, "\x00")) {
		t.Error("wrong bytes")
	}
	if st := c.Stats(); st.BadFetches != 1 || st.Fetches != 2 {
		t.Errorf("stats %+v: want 1 bad fetch of 2", st)
	}
}
