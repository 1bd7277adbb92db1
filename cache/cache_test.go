package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// block returns n pseudo-random bytes without trailing zeros, seeded.
func block(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(255) + 1)
	}
	return b
}

func hashKey(data []byte) Key { return HashKey(hashmap.BlockHashHex(data)) }

// countingFetch returns data and counts its calls.
func countingFetch(data []byte, calls *atomic.Int64) FetchFunc {
	return func(context.Context) ([]byte, error) {
		calls.Add(1)
		return bytes.Clone(data), nil
	}
}

func failFetch(t *testing.T) FetchFunc {
	return func(context.Context) ([]byte, error) {
		t.Helper()
		t.Error("unexpected fetch")
		return nil, errors.New("unexpected fetch")
	}
}

func openCache(t *testing.T, cfg Config) *Cache {
	t.Helper()
	c, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestGetSingleflight(t *testing.T) {
	c := openCache(t, Config{Dir: t.TempDir()})
	data := block(1, 4096)
	key := hashKey(data)
	var calls atomic.Int64
	release := make(chan struct{})
	fetch := func(ctx context.Context) ([]byte, error) {
		calls.Add(1)
		select {
		case <-release:
		case <-ctx.Done(): // only if the test fails and Close runs
			return nil, ctx.Err()
		}
		return bytes.Clone(data), nil
	}
	const readers = 100
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			got, err := c.Get(context.Background(), key, len(data), fetch)
			if err == nil && !bytes.Equal(got, data) {
				err = errors.New("wrong data")
			}
			errs <- err
		})
	}
	// Let every reader join the flight before the fetch returns.
	waitFor(t, "100 waiters", func() bool { return c.waiters(key) == readers })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("fetch called %d times, want 1", n)
	}
	st := c.Stats()
	if st.Fetches != 1 || st.Misses != readers || st.BytesFetched != int64(len(data)) {
		t.Fatalf("stats = %+v", st)
	}
	if _, err := c.Get(context.Background(), key, len(data), failFetch(t)); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.MemHits != 1 {
		t.Fatalf("MemHits = %d, want 1", st.MemHits)
	}
}

// waiters is the number of Gets waiting for key's flight (test helper).
func (c *Cache) waiters(k Key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[k.memID()]; f != nil {
		return f.waiters
	}
	return 0
}

func TestCancelledWaiterKeepsSharedFetch(t *testing.T) {
	c := openCache(t, Config{})
	data := block(2, 1000)
	key := hashKey(data)
	release := make(chan struct{})
	fetchErr := make(chan error, 1)
	fetch := func(ctx context.Context) ([]byte, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		fetchErr <- ctx.Err()
		return bytes.Clone(data), nil
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() {
		_, err := c.Get(ctxA, key, len(data), fetch)
		doneA <- err
	}()
	doneB := make(chan error, 1)
	go func() {
		got, err := c.Get(context.Background(), key, len(data), fetch)
		if err == nil && !bytes.Equal(got, data) {
			err = errors.New("wrong data")
		}
		doneB <- err
	}()
	waitFor(t, "two waiters", func() bool { return c.waiters(key) == 2 })
	cancelA()
	if err := <-doneA; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter got %v", err)
	}
	close(release)
	if err := <-fetchErr; err != nil {
		t.Fatalf("shared fetch saw a cancelled context: %v", err)
	}
	if err := <-doneB; err != nil {
		t.Fatalf("other waiter: %v", err)
	}
}

func TestLastWaiterGoneCancelsFetch(t *testing.T) {
	c := openCache(t, Config{})
	data := block(3, 1000)
	key := hashKey(data)
	cancelled := make(chan struct{})
	fetch := func(ctx context.Context) ([]byte, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, key, len(data), fetch)
		done <- err
	}()
	waitFor(t, "one waiter", func() bool { return c.waiters(key) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("fetch not cancelled after its only waiter left")
	}
	// A new Get starts a fresh fetch instead of joining the cancelled one.
	var calls atomic.Int64
	got, err := c.Get(context.Background(), key, len(data), countingFetch(data, &calls))
	if err != nil || !bytes.Equal(got, data) || calls.Load() != 1 {
		t.Fatalf("refetch: err=%v calls=%d", err, calls.Load())
	}
}

func TestZeroStripExtend(t *testing.T) {
	body := block(4, 3000)
	cases := []struct {
		name     string
		data     []byte // what the server returns
		size     int    // logical length the caller asks for
		stored   int    // bytes kept
		hashOnly bool   // a short fetch is only valid for hash keys
	}{
		{"no zeros", body, 3000, 3000, false},
		{"trailing zeros", append(bytes.Clone(body), make([]byte, 1096)...), 4096, 3000, false},
		{"server stripped", body, 4096, 3000, true},
		{"all zeros", make([]byte, 4096), 4096, 0, false},
		{"empty", nil, 0, 0, false},
		{"inner zeros kept", append(append([]byte{0, 0, 7}, make([]byte, 5)...), 9), 9, 9, false},
	}
	for _, tc := range cases {
		for _, opaque := range []bool{false, true} {
			if opaque && tc.hashOnly {
				continue
			}
			t.Run(fmt.Sprintf("%s/opaque=%v", tc.name, opaque), func(t *testing.T) {
				dir := t.TempDir()
				key := hashKey(tc.data)
				if opaque {
					key = OpaqueKey("swift:/a/c/o@etag#" + tc.name)
				}
				want := make([]byte, tc.size)
				copy(want, tc.data)
				c := openCache(t, Config{Dir: dir})
				var calls atomic.Int64
				got, err := c.Get(context.Background(), key, tc.size, countingFetch(tc.data, &calls))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Get = %d bytes, %v; want %d bytes", len(got), err, len(want))
				}
				if st := c.Stats(); st.MemBytes != int64(tc.stored) {
					t.Fatalf("memory holds %d bytes, want %d", st.MemBytes, tc.stored)
				}
				if _, err := c.Get(context.Background(), key, tc.stored-1, failFetch(t)); tc.stored > 0 && !errors.Is(err, ErrSize) {
					t.Fatalf("size too small: got %v, want ErrSize", err)
				}
				_ = c.Close()

				shard, name := key.fileName()
				fi, err := os.Stat(filepath.Join(dir, blocksDir, shard, name))
				if err != nil {
					t.Fatal(err)
				}
				wantFile := int64(tc.stored)
				if opaque {
					wantFile += trailerLen
				}
				if fi.Size() != wantFile {
					t.Fatalf("disk file has %d bytes, want %d", fi.Size(), wantFile)
				}
				c2 := openCache(t, Config{Dir: dir})
				got, err = c2.Get(context.Background(), key, tc.size, failFetch(t))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Get from disk = %d bytes, %v", len(got), err)
				}
				if st := c2.Stats(); st.DiskHits != 1 || st.Fetches != 0 {
					t.Fatalf("stats after reopen = %+v", st)
				}
			})
		}
	}
}

func TestBadFetchRejected(t *testing.T) {
	c := openCache(t, Config{Dir: t.TempDir()})
	data := block(5, 2048)
	key := hashKey(data)
	bad := bytes.Clone(data)
	bad[100] ^= 1
	_, err := c.Get(context.Background(), key, len(data), func(context.Context) ([]byte, error) { return bad, nil })
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.From != "fetch" || ve.Got != hashmap.BlockHashHex(bad) {
		t.Fatalf("got %v, want a VerifyError from fetch", err)
	}
	c.settle()
	if c.Contains(key) {
		t.Fatal("bad data was cached")
	}
	var calls atomic.Int64
	got, err := c.Get(context.Background(), key, len(data), countingFetch(data, &calls))
	if err != nil || !bytes.Equal(got, data) || calls.Load() != 1 {
		t.Fatalf("good fetch after bad: err=%v calls=%d", err, calls.Load())
	}
	if st := c.Stats(); st.BadFetches != 1 || st.FetchErrors != 1 || st.Fetches != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestOpaqueShortFetchRejected(t *testing.T) {
	c := openCache(t, Config{})
	key := OpaqueKey("swift:/a/c/o@e#3")
	_, err := c.Get(context.Background(), key, 4096, func(context.Context) ([]byte, error) { return []byte("short"), nil })
	if !errors.Is(err, ErrSize) {
		t.Fatalf("got %v, want ErrSize", err)
	}
	if c.Contains(key) || c.Stats().BadFetches != 1 {
		t.Fatalf("short fetch cached or not counted: %+v", c.Stats())
	}
}

func TestFetchErrorWrapped(t *testing.T) {
	c := openCache(t, Config{})
	sentinel := errors.New("server down")
	_, err := c.Get(context.Background(), OpaqueKey("x"), 10, func(context.Context) ([]byte, error) { return nil, sentinel })
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v", err)
	}
	if c.Contains(OpaqueKey("x")) {
		t.Fatal("failed fetch cached")
	}
}

func TestInvalidKeys(t *testing.T) {
	c := openCache(t, Config{})
	for _, k := range []Key{{}, HashKey("abc"), HashKey("../../etc/passwd"), OpaqueKey("")} {
		if _, err := c.Get(context.Background(), k, 1, failFetch(t)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%v: got %v, want ErrInvalidKey", k, err)
		}
	}
	if HashKey(hashmap.EmptyHash).Verifiable() != true || OpaqueKey(hashmap.EmptyHash).Verifiable() {
		t.Fatal("Verifiable")
	}
	// An opaque key equal to a hash is a different block, never verified.
	if _, err := c.Get(context.Background(), OpaqueKey(hashmap.EmptyHash), 3, func(context.Context) ([]byte, error) { return []byte("abc"), nil }); err != nil {
		t.Fatal(err)
	}
	if c.Contains(HashKey(hashmap.EmptyHash)) {
		t.Fatal("opaque key collided with hash key")
	}
}

func TestPut(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, Config{Dir: dir})
	data := append(block(6, 500), 0, 0, 0)
	key := hashKey(data)
	if err := c.Put(HashKey(hashmap.EmptyHash), data); err == nil {
		t.Fatal("Put with the wrong hash succeeded")
	}
	buf := bytes.Clone(data)
	if err := c.Put(key, buf); err != nil {
		t.Fatal(err)
	}
	buf[0] ^= 0xff // the caller reuses its buffer
	got, err := c.Get(context.Background(), key, len(data), failFetch(t))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after Put: %v", err)
	}
	_ = c.Close()
	c2 := openCache(t, Config{Dir: dir})
	if got, err := c2.Get(context.Background(), key, len(data), failFetch(t)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after reopen: %v", err)
	}
}

func TestMemoryBudgetEviction(t *testing.T) {
	const bs = 1000
	limit := int64(10 * (bs + entryOverhead))
	c := openCache(t, Config{MemBytes: limit})
	var keys []Key
	for i := range 50 {
		data := block(uint64(200+i), bs)
		k := hashKey(data)
		keys = append(keys, k)
		if _, err := c.Get(context.Background(), k, bs, func(context.Context) ([]byte, error) { return data, nil }); err != nil {
			t.Fatal(err)
		}
		if used := c.Budget().Used(); used > limit {
			t.Fatalf("budget used %d > limit %d", used, limit)
		}
	}
	st := c.Stats()
	if st.MemBlocks != 10 || st.MemEvictions != 40 || st.MemBytes != 10*bs {
		t.Fatalf("stats = %+v", st)
	}
	for i, k := range keys {
		if c.Contains(k) != (i >= 40) {
			t.Fatalf("block %d: Contains = %v", i, c.Contains(k))
		}
	}
	// A firm reservation (readahead, dirty data) evicts cached blocks.
	if !c.Budget().TryReserve(5 * (bs + entryOverhead)) {
		t.Fatal("reservation did not evict cached blocks")
	}
	if st := c.Stats(); st.MemBlocks != 5 {
		t.Fatalf("%d blocks after reservation, want 5", st.MemBlocks)
	}
	c.Budget().Release(5 * (bs + entryOverhead))
	// A block larger than the whole budget is served but not kept.
	big := block(300, int(limit)+1)
	if got, err := c.Get(context.Background(), hashKey(big), len(big), func(context.Context) ([]byte, error) { return big, nil }); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big block: %v", err)
	}
	if c.Contains(hashKey(big)) || c.Budget().Used() > limit {
		t.Fatal("block larger than the budget was cached")
	}
}

func TestBudgetReserveWaits(t *testing.T) {
	b := NewBudget(100)
	if err := b.Reserve(context.Background(), 101); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("got %v", err)
	}
	if err := b.Reserve(context.Background(), 80); err != nil {
		t.Fatal(err)
	}
	if b.TryReserve(30) {
		t.Fatal("TryReserve over the limit succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Reserve(ctx, 30); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Reserve(context.Background(), 30) }()
	time.Sleep(10 * time.Millisecond)
	b.Release(50)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.Used() != 60 {
		t.Fatalf("used = %d", b.Used())
	}
}

func TestConcurrentMixedUse(t *testing.T) {
	const nblocks = 40
	const maxBlock = 1024 + (nblocks-1)*25 + 300 // the largest block below
	dir := t.TempDir()
	limit := int64(8 * (2048 + entryOverhead))
	c := openCache(t, Config{Dir: dir, MemBytes: limit, DiskBytes: 20 * 2048, PrefetchConcurrency: 3})
	var blocks [][]byte
	var keys []Key
	for i := range nblocks {
		data := block(uint64(600+i), 1024+i*25)
		if i%5 == 0 {
			data = append(data, make([]byte, 300)...) // trailing zeros
		}
		blocks, keys = append(blocks, data), append(keys, hashKey(data))
	}
	var fetches atomic.Int64
	fetch := func(i int) FetchFunc {
		return func(context.Context) ([]byte, error) {
			fetches.Add(1)
			return bytes.Clone(blocks[i]), nil
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			pf := c.NewPrefetcher(context.Background())
			defer pf.Close()
			for range 300 {
				i := r.IntN(nblocks)
				switch r.IntN(10) {
				case 0:
					pf.Prefetch(keys[i], len(blocks[i]), fetch(i))
				case 1:
					if err := c.Put(keys[i], blocks[i]); err != nil {
						t.Error(err)
						return
					}
				default:
					ctx, cancel := context.WithCancel(context.Background())
					if r.IntN(20) == 0 {
						cancel()
					}
					got, err := c.Get(ctx, keys[i], len(blocks[i]), fetch(i))
					cancel()
					if err != nil && !errors.Is(err, context.Canceled) {
						t.Error(err)
						return
					}
					if err == nil && !bytes.Equal(got, blocks[i]) {
						t.Errorf("block %d: wrong data", i)
						return
					}
				}
				// Loads the budget has no room for are charged past the
				// limit, overBudgetLoads at a time.
				if used := c.Budget().Used(); used > limit+overBudgetLoads*(maxBlock+entryOverhead) {
					t.Errorf("budget used %d > %d + %d over-budget loads", used, limit, overBudgetLoads)
					return
				}
			}
		})
	}
	wg.Wait()
	st := c.Stats()
	t.Logf("stats: %+v", st)
	// Whether a memory hit happened above depends on the disk writer too:
	// blocks queued for it hold the budget, and under load the queue can
	// hold nearly all of it, so the memory tier keeps next to nothing. The
	// memory tier is checked below, once the queue has drained.
	if st.Fetches == 0 {
		t.Fatalf("no fetch: %+v", st)
	}
	// Whether a disk hit happened above depends on how far the disk
	// writer got meanwhile (it skips blocks when behind): check the disk
	// tier once it has settled, with memory emptied, so the blocks it kept
	// must be served from it, intact.
	c.settle()
	if st := c.Stats(); st.DiskBytes > 20*2048 || st.DiskBytes == 0 {
		t.Fatalf("disk holds %d bytes, want some and at most %d", st.DiskBytes, 20*2048)
	}
	c.mem.purge()
	before := c.Stats().DiskHits
	errAbsent := errors.New("not cached")
	absent := func(context.Context) ([]byte, error) { return nil, errAbsent } // no fetch: nothing new is written
	for i := range nblocks {
		got, err := c.Get(context.Background(), keys[i], len(blocks[i]), absent)
		if (err != nil && !errors.Is(err, errAbsent)) || (err == nil && !bytes.Equal(got, blocks[i])) {
			t.Fatalf("block %d after the run: %v", i, err)
		}
	}
	if st := c.Stats(); st.DiskHits == before {
		t.Fatalf("no block served from disk after the run: %+v", st)
	}
	// With the disk queue drained, a block just read stays in memory.
	c.settle()
	fresh := block(999, 1500)
	if _, err := c.Get(context.Background(), hashKey(fresh), len(fresh), func(context.Context) ([]byte, error) { return bytes.Clone(fresh), nil }); err != nil {
		t.Fatal(err)
	}
	memHits := c.Stats().MemHits
	if got, err := c.Get(context.Background(), hashKey(fresh), len(fresh), absent); err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("a block just fetched: %v", err)
	}
	if st := c.Stats(); st.MemHits != memHits+1 {
		t.Fatalf("a block just fetched was not served from memory: %+v", st)
	}
}

// settle waits until every load has finished and its block is on disk
// (test helper; call only while no Get is starting).
func (c *Cache) settle() {
	c.wg.Wait()
	if c.disk != nil {
		c.disk.flush()
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
