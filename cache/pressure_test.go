package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowDiskSkipsBlocks: while the disk writer is stuck, reads go on at
// network speed: at most diskQueueBytes of fetched blocks wait for the disk
// (so a disk slower than the network pins no more memory than that), and
// the blocks fetched meanwhile are not written to it (counted as skipped).
// Once the disk catches up, the queued blocks are on disk and later blocks
// are written again.
func TestSlowDiskSkipsBlocks(t *testing.T) {
	const size = 4 << 20
	const diskSlots = diskQueueBytes / size
	dir := t.TempDir()
	c := openCache(t, Config{Dir: dir})
	gate := make(chan struct{})
	c.disk.createTemp = func(dir string) (tempFile, error) {
		<-gate
		return os.CreateTemp(dir, "blk-*")
	}
	const n = diskSlots + 3
	var fetches atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		data := block(uint64(900+i), size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Get(context.Background(), hashKey(data), len(data), func(context.Context) ([]byte, error) {
				fetches.Add(1)
				return bytes.Clone(data), nil
			})
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("block %d: %v", i, err)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("reads waited for a stuck disk")
	}
	c.wg.Wait() // every load has queued its block or skipped it
	if st := c.Stats(); fetches.Load() != n || st.DiskWritesSkipped != n-diskSlots {
		t.Fatalf("with the disk stuck: %d fetches, %d disk writes skipped; want %d and %d", fetches.Load(), st.DiskWritesSkipped, n, n-diskSlots)
	}
	close(gate)
	c.disk.flush()
	if st := c.Stats(); st.DiskBlocks != diskSlots {
		t.Fatalf("after the disk caught up: %d blocks on disk, want %d", st.DiskBlocks, diskSlots)
	}
	data := block(999, size)
	if _, err := c.Get(context.Background(), hashKey(data), len(data), countingFetch(data, &fetches)); err != nil {
		t.Fatal(err)
	}
	c.settle()
	if st := c.Stats(); st.DiskBlocks != diskSlots+1 || st.DiskWritesSkipped != n-diskSlots {
		t.Fatalf("a block fetched after the disk caught up: %d blocks on disk, %d skipped", st.DiskBlocks, st.DiskWritesSkipped)
	}
}

// TestGetStrippedShares: GetStripped returns the stored bytes without the
// zero tail and without copying; Get zero-extends.
func TestGetStrippedShares(t *testing.T) {
	c := openCache(t, Config{})
	data := append(block(77, 3000), make([]byte, 1096)...)
	k := hashKey(data)
	fetch := func(context.Context) ([]byte, error) { return bytes.Clone(data), nil }
	a, err := c.GetStripped(context.Background(), k, len(data), fetch)
	if err != nil || len(a) != 3000 || !bytes.Equal(a, data[:3000]) {
		t.Fatalf("GetStripped = %d bytes, %v; want the 3000 stored", len(a), err)
	}
	b, err := c.GetStripped(context.Background(), k, len(data), failFetch(t))
	if err != nil || &a[0] != &b[0] {
		t.Fatalf("second GetStripped copied or failed: %v", err)
	}
	full, err := c.Get(context.Background(), k, len(data), failFetch(t))
	if err != nil || !bytes.Equal(full, data) {
		t.Fatalf("Get = %d bytes, %v; want %d", len(full), err, len(data))
	}
	if _, err := c.GetStripped(context.Background(), k, 2999, failFetch(t)); err == nil {
		t.Fatal("GetStripped with a size below the stored bytes succeeded")
	}
}

// TestReaderFetchCharged: a reader's fetch counts its block against the
// budget while it runs (evicting cached blocks to make room), and the
// charge becomes the cached block's once it is done.
func TestReaderFetchCharged(t *testing.T) {
	const size = 4000
	c := openCache(t, Config{MemBytes: 3 * (size + entryOverhead)})
	for i := range 3 {
		data := block(uint64(950+i), size)
		if _, err := c.Get(context.Background(), hashKey(data), size, func(context.Context) ([]byte, error) { return data, nil }); err != nil {
			t.Fatal(err)
		}
	}
	data := block(960, size)
	started, gate := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), hashKey(data), size, func(context.Context) ([]byte, error) {
			close(started)
			<-gate
			return data, nil
		})
		errc <- err
	}()
	<-started
	st := c.Stats()
	// The load holds the block's whole charge (entryOverhead included), so
	// caching it needs no further room.
	if st.MemBlocks != 2 || st.BudgetUsed != 3*(size+entryOverhead) {
		close(gate)
		t.Fatalf("during the fetch: %d blocks cached, %d bytes used; want 2 and %d", st.MemBlocks, st.BudgetUsed, 3*(size+entryOverhead))
	}
	close(gate)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.MemBlocks != 3 || st.BudgetUsed != 3*(size+entryOverhead) {
		t.Fatalf("after the fetch: %d blocks cached, %d bytes used", st.MemBlocks, st.BudgetUsed)
	}
}

// TestAdoptQueueCharged: blocks the write path hands over (Adopt, Put)
// while the disk writer is stuck wait for it within diskQueueBytes and the
// memory budget, as fetched blocks do; the rest are not written to disk
// (skipped) rather than held outside the budget.
func TestAdoptQueueCharged(t *testing.T) {
	const size = poolBlockSize
	const diskSlots = diskQueueBytes / size
	c := openCache(t, Config{Dir: t.TempDir(), MemBytes: 2 * diskQueueBytes})
	openGate := gateDiskWrites(t, c)
	const n = diskSlots + 4
	for i := range n {
		data := c.Buffer(size)
		copy(data, block(uint64(700+i), size))
		if i%2 == 0 {
			if err := c.Adopt(hashKey(data), data); err != nil {
				t.Fatal(err)
			}
		} else if err := c.Put(hashKey(data), data); err != nil {
			t.Fatal(err)
		}
		c.disk.mu.Lock()
		pending := len(c.disk.pending)
		c.disk.mu.Unlock()
		if q := c.disk.queued.Load(); q > diskQueueBytes || pending > diskSlots {
			t.Fatalf("after %d blocks, %d blocks (%d bytes) wait for the disk (limit %d)", i+1, pending, q, diskQueueBytes)
		}
		if used := c.budget.Used(); used > c.budget.Limit() {
			t.Fatalf("after %d blocks, budget used %d of %d", i+1, used, c.budget.Limit())
		}
	}
	if st := c.Stats(); st.DiskWritesSkipped < n-diskSlots {
		t.Fatalf("%d disk writes skipped with the disk stuck, want at least %d", st.DiskWritesSkipped, n-diskSlots)
	}
	openGate()
	c.disk.flush()
	if q, used := c.disk.queued.Load(), c.budget.Used(); q != 0 || used > c.budget.Limit() {
		t.Fatalf("after the disk caught up: %d bytes queued, budget used %d", q, used)
	}
}

// TestDiskQueueChargedOnce: a fetched block waiting for the disk writer
// counts once in the budget, whether the memory tier still holds it or a
// sequential reader has dropped it (it then carries its charge until the
// writer lets go). It counted twice: the tier's charge and the queue's,
// and in a cold read that phantom room was what the reader's own
// reservations evicted blocks read ahead to find.
func TestDiskQueueChargedOnce(t *testing.T) {
	const size = poolBlockSize
	c := openCache(t, Config{Dir: t.TempDir(), MemBytes: 16 * size})
	openGate := gateDiskWrites(t, c)
	const n = 3
	keys := make([]Key, n)
	for i := range n {
		data := block(uint64(500+i), size)
		keys[i] = hashKey(data)
		ref, err := c.GetRef(context.Background(), keys[i], size, func(_ context.Context, buf []byte) ([]byte, error) {
			return buf[:copy(buf, data)], nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ref.Release()
	}
	c.wg.Wait() // every load has queued its block
	if q := c.disk.queued.Load(); q != n*size {
		t.Fatalf("%d bytes queued for the disk, want %d", q, n*size)
	}
	want := int64(n * (size + entryOverhead))
	if used := c.budget.Used(); used != want {
		t.Fatalf("cached and queued for the disk: budget used %d, want %d (each block once)", used, want)
	}
	for _, k := range keys {
		c.Drop(k)
	}
	if used := c.budget.Used(); used != want {
		t.Fatalf("dropped from memory, still queued: budget used %d, want %d", used, want)
	}
	openGate()
	c.disk.flush()
	if used, q := c.budget.Used(), c.disk.queued.Load(); used != 0 || q != 0 {
		t.Fatalf("after the disk wrote them: budget used %d, %d bytes queued; want 0, 0", used, q)
	}
}

// gateDiskWrites holds c's disk writer before each block file it creates
// until the returned func is called (the test's cleanup calls it too,
// before the cache's Close).
func gateDiskWrites(t *testing.T, c *Cache) (open func()) {
	gate := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	c.disk.createTemp = func(dir string) (tempFile, error) {
		<-gate
		return os.CreateTemp(dir, "blk-*")
	}
	return open
}

// TestDiskQueueChargesEscapedBlock: a block handed out for good (Get) and
// queued for the disk keeps its charge when the memory tier lets it go,
// until the writer has written it: the writer holds its bytes. It used to
// give its charge back at once and wait uncharged, up to the 32 MiB of the
// queue. A read of a block still queued takes the queued block over (one
// charge), not a second copy charged again.
func TestDiskQueueChargesEscapedBlock(t *testing.T) {
	const size = 64 << 10
	const charge = size + entryOverhead
	c := openCache(t, Config{Dir: t.TempDir(), MemBytes: 16 * charge})
	open := gateDiskWrites(t, c)
	ctx := context.Background()
	var keys []Key
	var fetches atomic.Int64
	for i := range 3 {
		data := block(uint64(700+i), size)
		keys = append(keys, hashKey(data))
		if _, err := c.Get(ctx, keys[i], size, countingFetch(data, &fetches)); err != nil {
			t.Fatal(err)
		}
	}
	c.wg.Wait() // every load has queued its block
	for _, k := range keys {
		c.Drop(k)
	}
	if used := c.Budget().Used(); used != 3*charge {
		t.Fatalf("three escaped blocks queued for the disk, dropped from memory: budget used %d, want %d", used, 3*charge)
	}
	if _, err := c.Get(ctx, keys[0], size, failFetch(t)); err != nil {
		t.Fatal(err)
	}
	if used := c.Budget().Used(); used != 3*charge {
		t.Fatalf("a queued block read again: budget used %d, want %d (one charge each)", used, 3*charge)
	}
	open()
	c.disk.flush()
	c.mem.purge()
	if used := c.Budget().Used(); used != 0 {
		t.Fatalf("once written and purged: budget used %d, want 0", used)
	}
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}

// TestOverBudgetChargeEndsWithItsLoad: a load charged past the limit (the
// budget all firm reservations) whose readers gave up keeps no charge past
// the limit once it ends: its block used to go to the disk queue carrying
// that charge until written, so that, with overBudgetLoads free again, each
// further such load added one more block beyond the limit (here three).
func TestOverBudgetChargeEndsWithItsLoad(t *testing.T) {
	const size = 4096
	const limit = 8 * (size + entryOverhead)
	c := openCache(t, Config{Dir: t.TempDir(), MemBytes: limit})
	gateDiskWrites(t, c)
	if err := c.Budget().Reserve(context.Background(), limit); err != nil { // the write path's dirty blocks, say
		t.Fatal(err)
	}
	defer c.Budget().Release(limit)
	for i := range 3 {
		data := block(uint64(800+i), size)
		fetching, reply := make(chan struct{}), make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-fetching; cancel() }()
		_, err := c.Get(ctx, hashKey(data), size, func(context.Context) ([]byte, error) {
			close(fetching)
			<-reply // the reader has left: the load goes on and ends without it
			return bytes.Clone(data), nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("load %d: %v, want the reader's cancellation", i, err)
		}
		close(reply)
		c.wg.Wait()
		if used := c.Budget().Used(); used > limit {
			t.Fatalf("after over-budget load %d ended: budget used %d, %d past the limit", i, used, used-limit)
		}
	}
}
