package cache

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadaheadWindow(t *testing.T) {
	type step struct {
		idx, n   int64
		from, to int64
		window   int
	}
	cases := []struct {
		name  string
		max   int
		steps []step
	}{
		{"grows and resets", 8, []step{
			{0, 100, 1, 2, 1},
			{1, 100, 2, 4, 2},
			{1, 100, 4, 4, 2},  // same block again: nothing new
			{0, 100, 0, 0, 2},  // slightly out of order: ignored
			{2, 100, 4, 7, 4},  // window always reaches idx+window
			{3, 100, 7, 12, 8}, // capped at max
			{4, 100, 12, 13, 8},
			{6, 100, 13, 15, 8},  // skipping inside the window is sequential
			{50, 100, 50, 50, 0}, // random seek resets
			{51, 100, 52, 53, 1},
			{52, 100, 53, 55, 2},
			{10, 100, 10, 10, 0}, // backwards seek resets
			{11, 100, 12, 13, 1},
		}},
		{"out of order within a window", 8, []step{
			{0, 100, 1, 2, 1}, {1, 100, 2, 4, 2}, {2, 100, 4, 7, 4}, {3, 100, 7, 12, 8},
			{4, 100, 12, 13, 8}, {5, 100, 13, 14, 8}, {6, 100, 14, 15, 8},
			{2, 100, 2, 2, 8}, // 4 blocks behind (the kernel's parallel readahead): ignored
			{7, 100, 15, 16, 8},
			{8, 100, 16, 17, 8},
			{9, 100, 17, 18, 8},
			{0, 100, 0, 0, 0}, // more than 8 blocks behind the latest is a seek
		}},
		{"first read not at start", 8, []step{
			{5, 100, 5, 5, 0},
			{6, 100, 7, 8, 1},
		}},
		{"clipped at the end of the file", 8, []step{
			{0, 3, 1, 2, 1},
			{1, 3, 2, 3, 2},
			{2, 3, 3, 3, 4},
		}},
		{"small max", 2, []step{
			{0, 100, 1, 2, 1},
			{1, 100, 2, 4, 2},
			{2, 100, 4, 5, 2},
			{3, 100, 5, 6, 2},
		}},
		{"default max", 0, []step{
			{0, 100, 1, 2, 1}, {1, 100, 2, 4, 2}, {2, 100, 4, 7, 4}, {3, 100, 7, 12, 8}, {4, 100, 12, 13, 8},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReadahead(tc.max)
			for i, s := range tc.steps {
				from, to := r.Access(s.idx, s.n)
				if from != s.from || to != s.to || r.Window() != s.window {
					t.Fatalf("step %d: Access(%d) = [%d,%d) window %d, want [%d,%d) window %d",
						i, s.idx, from, to, r.Window(), s.from, s.to, s.window)
				}
			}
		})
	}
}

func TestPrefetcherFillsCache(t *testing.T) {
	c := openCache(t, Config{})
	pf := c.NewPrefetcher(context.Background())
	defer pf.Close()
	var calls atomic.Int64
	var keys []Key
	var blocks [][]byte
	release := make(chan struct{})
	for i := range 3 {
		data := block(uint64(700+i), 3000)
		keys, blocks = append(keys, hashKey(data)), append(blocks, data)
		fetch := func(ctx context.Context) ([]byte, error) {
			calls.Add(1)
			select {
			case <-release:
			case <-ctx.Done(): // only if the test fails and Close runs
				return nil, ctx.Err()
			}
			return bytes.Clone(data), nil
		}
		if !pf.Prefetch(keys[i], len(data), fetch) {
			t.Fatalf("prefetch %d not started", i)
		}
		if pf.Prefetch(keys[i], len(data), fetch) {
			t.Fatalf("prefetch %d started twice", i)
		}
	}
	if used := c.Budget().Used(); used < 3*3000 {
		t.Fatalf("prefetches in flight reserve %d bytes, want ≥ %d", used, 3*3000)
	}
	waitFor(t, "three prefetch fetches", func() bool { return calls.Load() == 3 })
	// A reader catching up with block 0's prefetch waits for it instead of fetching.
	done := make(chan error, 1)
	go func() {
		got, err := c.Get(context.Background(), keys[0], len(blocks[0]), failFetch(t))
		if err == nil && !bytes.Equal(got, blocks[0]) {
			err = fmt.Errorf("wrong data")
		}
		done <- err
	}()
	waitFor(t, "reader to join the prefetch", func() bool { return c.waiters(keys[0]) == 2 })
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pf.wg.Wait()
	for i := 1; i < 3; i++ {
		if _, err := c.Get(context.Background(), keys[i], len(blocks[i]), failFetch(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(context.Background(), keys[i], len(blocks[i]), failFetch(t)); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if calls.Load() != 3 || st.Prefetches != 3 || st.ReadaheadHits != 3 {
		t.Fatalf("calls = %d, stats = %+v", calls.Load(), st)
	}
	if want := int64(3 * (3000 + entryOverhead)); st.BudgetUsed != want {
		t.Fatalf("budget used %d after prefetches ended, want %d (cached blocks only)", st.BudgetUsed, want)
	}
	if pf.Prefetch(keys[1], len(blocks[1]), failFetch(t)) {
		t.Fatal("prefetch of a cached block started")
	}
}

func TestPrefetcherCloseCancels(t *testing.T) {
	c := openCache(t, Config{PrefetchConcurrency: 2})
	pf := c.NewPrefetcher(context.Background())
	var running, peak atomic.Int64
	for i := range 6 {
		fetch := func(ctx context.Context) ([]byte, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-ctx.Done()
			return nil, ctx.Err()
		}
		if !pf.Prefetch(OpaqueKey(fmt.Sprint("blk", i)), 1000, fetch) {
			t.Fatalf("prefetch %d not started", i)
		}
	}
	waitFor(t, "two running fetches", func() bool { return running.Load() == 2 })
	time.Sleep(20 * time.Millisecond) // give a third fetch the chance to (wrongly) start
	closed := make(chan struct{})
	go func() { pf.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cancel the prefetches")
	}
	if peak.Load() != 2 {
		t.Fatalf("%d fetches ran at once, want the limit 2", peak.Load())
	}
	// The cancelled loads hold the prefetches' reservations (fetchFunc.ahead)
	// until they return, after Close: all of it comes back.
	waitFor(t, "the budget all released", func() bool { return c.Budget().Used() == 0 })
	if pf.Prefetch(OpaqueKey("after"), 10, failFetch(t)) {
		t.Fatal("prefetch after Close started")
	}
}

func TestPrefetchOverBudgetDropped(t *testing.T) {
	c := openCache(t, Config{MemBytes: 1000})
	pf := c.NewPrefetcher(context.Background())
	defer pf.Close()
	if pf.Prefetch(OpaqueKey("big"), 2000, failFetch(t)) {
		t.Fatal("prefetch over the budget started")
	}
	if st := c.Stats(); st.PrefetchesDropped != 1 || st.Prefetches != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestReadaheadNotEvicted: blocks read ahead and not read yet are cached
// without evicting one another (the load holds the prefetch's reservation),
// speculative reservations (TryReserveAhead: the next prefetch, the disk
// queue) never evict them; a reader's own reservation still does.
func TestReadaheadNotEvicted(t *testing.T) {
	const size = 4000
	c := openCache(t, Config{MemBytes: 3 * (size + entryOverhead)})
	pf := c.NewPrefetcher(context.Background())
	defer pf.Close()
	data := make([][]byte, 4)
	for i := range data {
		data[i] = block(uint64(1200+i), size)
	}
	get := func(i int) {
		t.Helper()
		if _, err := c.Get(context.Background(), hashKey(data[i]), size, func(context.Context) ([]byte, error) { return data[i], nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if !pf.Prefetch(hashKey(data[i]), size, func(context.Context) ([]byte, error) { return data[i], nil }) {
			t.Fatalf("prefetch %d not started", i)
		}
		waitFor(t, fmt.Sprint("block ", i, " cached"), func() bool { return c.Stats().MemBlocks == i+1 && c.Budget().Used() == int64(i+1)*(size+entryOverhead) })
	}
	if st := c.Stats(); st.MemEvictions != 0 {
		t.Fatalf("%d evictions while prefetching 3 blocks into room for 3", st.MemEvictions)
	}
	if pf.Prefetch(hashKey(data[3]), size, failFetch(t)) || c.Budget().TryReserveAhead(size) {
		t.Fatal("a speculative reservation took room from blocks read ahead")
	}
	get(0) // read: now evictable by speculative reservations
	if !c.Budget().TryReserveAhead(size + entryOverhead) {
		t.Fatal("TryReserveAhead did not evict the block already read")
	}
	c.Budget().Release(size + entryOverhead)
	if st := c.Stats(); st.MemEvictions != 1 || !c.Contains(hashKey(data[1])) || !c.Contains(hashKey(data[2])) {
		t.Fatalf("stats %+v: want block 0 evicted, 1 and 2 kept", st)
	}
	if !pf.Prefetch(hashKey(data[3]), size, func(context.Context) ([]byte, error) { return data[3], nil }) {
		t.Fatal("prefetch 3 not started")
	}
	waitFor(t, "block 3 cached", func() bool { return c.Contains(hashKey(data[3])) && c.Budget().Used() == 3*(size+entryOverhead) })
	get(0) // a reader's own load may evict blocks read ahead (the oldest: 1)
	if c.Contains(hashKey(data[1])) || !c.Contains(hashKey(data[2])) || !c.Contains(hashKey(data[3])) {
		t.Fatal("a reader's load did not make room by evicting the oldest block")
	}
}

// TestReaderLoadEvictsReadBlocksFirst: a reader's load short of room evicts
// a block already read rather than one read ahead and not read yet, even
// when the block read ahead is the least recently used.
func TestReaderLoadEvictsReadBlocksFirst(t *testing.T) {
	const size = 4000
	c := openCache(t, Config{MemBytes: 3 * (size + entryOverhead)})
	pf := c.NewPrefetcher(context.Background())
	defer pf.Close()
	data := make([][]byte, 4)
	for i := range data {
		data[i] = block(uint64(1300+i), size)
	}
	for i := range 2 {
		if !pf.Prefetch(hashKey(data[i]), size, func(context.Context) ([]byte, error) { return data[i], nil }) {
			t.Fatalf("prefetch %d not started", i)
		}
		waitFor(t, fmt.Sprint("block ", i, " cached"), func() bool { return c.Contains(hashKey(data[i])) })
	}
	for _, i := range []int{2, 3} { // 2 is read and cached; 3 needs room
		if _, err := c.Get(context.Background(), hashKey(data[i]), size, func(context.Context) ([]byte, error) { return data[i], nil }); err != nil {
			t.Fatal(err)
		}
	}
	if !c.Contains(hashKey(data[0])) || !c.Contains(hashKey(data[1])) || c.Contains(hashKey(data[2])) {
		t.Fatalf("cached: 0 %v, 1 %v, 2 %v; want the blocks read ahead kept and the read one evicted",
			c.Contains(hashKey(data[0])), c.Contains(hashKey(data[1])), c.Contains(hashKey(data[2])))
	}
}
