package fs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// slowListEnv is a local cloud (container "c") behind a proxy whose first listing request is answered by
// the server at once but reaches the client only when gate is closed; arrived is closed once the server
// has answered it.
type slowListEnv struct {
	client        *pithos.Client
	k             dirKey
	gate, arrived chan struct{}
	listings      atomic.Int32
}

func newSlowListEnv(t *testing.T) *slowListEnv {
	t.Helper()
	users := []localcloud.User{{Name: "u@localhost", UUID: "11111111-2222-3333-4444-555555555555", Token: "tok-" + strings.Repeat("x", 20)}}
	srv, err := localcloud.Start(localcloud.Config{Dir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	env := &slowListEnv{k: dirKey{account: users[0].UUID, container: "c"}, gate: make(chan struct{}), arrived: make(chan struct{})}
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Has("delimiter") && env.listings.Add(1) == 1 {
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			close(env.arrived)
			<-env.gate
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	t.Cleanup(env.open) // before the proxy closes (cleanups run last first)
	client, err := pithos.New(strings.Replace(srv.ObjectStoreURL(), srv.URL, proxy.URL, 1), users[0].Token, synnefo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env.client = client.WithAccount(users[0].UUID)
	if _, err := env.client.CreateContainer(context.Background(), "c", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	return env
}

func (e *slowListEnv) open() {
	select {
	case <-e.gate:
	default:
		close(e.gate)
	}
}

func (e *slowListEnv) putObject(t *testing.T, name string) pithos.ObjectInfo {
	t.Helper()
	res, err := e.client.PutObject(context.Background(), "c", name, strings.NewReader(name), int64(len(name)), pithos.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pithos.ObjectInfo{Name: name, Bytes: int64(len(name)), ETag: res.ETag}
}

// getAsync runs lc.get in a goroutine, as a lookup does (a cached listing
// younger than the cache's TTL serves it): whether it joins a fetch in
// flight or comes after that fetch is stored is up to the scheduler, and
// either way it shares that one listing request.
func getAsync(t *testing.T, lc *listCache, e *slowListEnv) <-chan *listing {
	out := make(chan *listing, 1)
	go func() {
		l, err := lc.get(context.Background(), e.client, e.k, time.Hour)
		if err != nil {
			t.Error(err)
		}
		out <- l
	}()
	return out
}

// TestListCacheFetchAfterChange: this mount's changes made while a listing is being fetched (the fetch may
// predate them: here the server answered before the commit and the delete) are merged into its result,
// so a lookup after a commit never gets a listing without the committed file, nor with the deleted one
// (a rename of a just-committed file failed with ENOENT in the model test), and the cached listing has
// them too.
func TestListCacheFetchAfterChange(t *testing.T) {
	e := newSlowListEnv(t)
	e.putObject(t, "old")
	lc := newListCache(5*time.Second, 16, nil, nil)
	early := getAsync(t, lc, e)
	<-e.arrived
	lc.put(e.k, "b", e.putObject(t, "b"), false)
	if err := e.client.DeleteObject(context.Background(), "c", "old", pithos.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := lc.remove(e.k, "old"); ok {
		t.Error("remove found old in a cache that held no listing yet")
	}
	late := getAsync(t, lc, e)
	e.open()
	for what, ch := range map[string]<-chan *listing{"the lookup after the change": late, "the earlier lookup": early} {
		l := <-ch
		if l == nil {
			t.Fatalf("%s failed", what)
		}
		if _, ok := l.find("b"); !ok {
			t.Errorf("%s got a listing without the committed file", what)
		}
		if _, ok := l.find("old"); ok {
			t.Errorf("%s got a listing with the deleted file", what)
		}
	}
	l, ok := lc.lru.Peek(e.k)
	if !ok {
		t.Fatal("the fetched listing was not cached")
	}
	if _, found := l.find("b"); !found {
		t.Error("the cached listing lacks the committed file")
	}
	if got := e.listings.Load(); got != 1 {
		t.Errorf("%d listing requests, want 1 (the lookups share it)", got)
	}
}

// TestListCacheInvalidateDuringFetch: after an invalidation (a change whose outcome the mount does not
// know), a lookup does not wait for a fetch begun before it, and that fetch's result is not cached.
func TestListCacheInvalidateDuringFetch(t *testing.T) {
	e := newSlowListEnv(t)
	lc := newListCache(5*time.Second, 16, nil, nil)
	early := getAsync(t, lc, e)
	<-e.arrived
	e.putObject(t, "m")
	lc.invalidate(e.k)
	select {
	case l := <-getAsync(t, lc, e):
		if _, ok := l.find("m"); !ok {
			t.Error("the lookup after the invalidation got a listing without m")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lookup after the invalidation waited for the fetch begun before it")
	}
	e.open()
	<-early
	if l, ok := lc.lru.Peek(e.k); !ok {
		t.Error("nothing cached")
	} else if _, found := l.find("m"); !found {
		t.Error("the older fetch's listing (without m) replaced the newer one")
	}
}

func entriesNamed(n int, format string) []pithos.DirEntry {
	es := make([]pithos.DirEntry, n)
	for i := range es {
		name := fmt.Sprintf(format, i)
		es[i] = pithos.DirEntry{Name: name, Object: &pithos.ObjectInfo{Name: name, Bytes: int64(i)}}
	}
	return es
}

// TestListingOverlay: changes over a listing (puts, removals, replacements; enough of them to fold into a
// new base) keep find and the ordered entries consistent, and never change an earlier version (an open
// directory's snapshot).
func TestListingOverlay(t *testing.T) {
	base := newListing(entriesNamed(300, "f%03d"), time.Now())
	want := map[string]int64{}
	for i := range 300 {
		want[fmt.Sprintf("f%03d", i)] = int64(i)
	}
	l := base
	for step := range 400 {
		name := fmt.Sprintf("f%03d", (step*37)%350) // some exist, some are new
		var over map[string]*pithos.DirEntry
		if step%3 == 0 {
			over = map[string]*pithos.DirEntry{name: nil}
			delete(want, name)
		} else {
			over = map[string]*pithos.DirEntry{name: {Name: name, Object: &pithos.ObjectInfo{Name: name, Bytes: int64(1000 + step)}}}
			want[name] = int64(1000 + step)
		}
		l = l.with(over)
	}
	all := l.all()
	if len(all) != len(want) {
		t.Fatalf("%d entries, want %d", len(all), len(want))
	}
	for i, e := range all {
		if i > 0 && all[i-1].Name >= e.Name {
			t.Fatalf("entries out of order at %d: %s, %s", i, all[i-1].Name, e.Name)
		}
		if w, ok := want[e.Name]; !ok || e.Object.Bytes != w {
			t.Errorf("%s: %d bytes, want %d (present %v)", e.Name, e.Object.Bytes, w, ok)
		}
		if f, ok := l.find(e.Name); !ok || f.Object.Bytes != e.Object.Bytes {
			t.Errorf("find(%s) disagrees with the entries", e.Name)
		}
	}
	for n := range want {
		if _, ok := l.find(n); !ok {
			t.Errorf("find(%s): missing", n)
		}
	}
	if len(base.all()) != 300 {
		t.Errorf("the first version changed: %d entries", len(base.all()))
	}
	if e, ok := base.find("f000"); !ok || e.Object.Bytes != 0 {
		t.Errorf("the first version's f000 changed: %v %v", e, ok)
	}
}

// TestListCacheWritersKeepListing: while many writers commit files into a directory, its cached listing
// is updated in place (no listing is fetched again) and holds every file; lookups keep being answered
// from it.
func TestListCacheWritersKeepListing(t *testing.T) {
	e := newSlowListEnv(t)
	e.open()
	lc := newListCache(time.Minute, 16, nil, nil)
	if _, err := lc.get(context.Background(), e.client, e.k, time.Minute); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				name := fmt.Sprintf("w%02d-%03d", w, i)
				lc.put(e.k, name, pithos.ObjectInfo{Name: name, Bytes: int64(i)}, false)
				if i%2 == 1 {
					lc.remove(e.k, fmt.Sprintf("w%02d-%03d", w, i-1))
				}
				if _, err := lc.get(context.Background(), e.client, e.k, time.Minute); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l, err := lc.get(context.Background(), e.client, e.k, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(l.all()); n != 16*25 {
		t.Errorf("%d entries, want %d", n, 16*25)
	}
	if _, ok := l.find("w03-049"); !ok {
		t.Error("w03-049 missing")
	}
	if _, ok := l.find("w03-048"); ok {
		t.Error("w03-048 still there after its removal")
	}
	if got := e.listings.Load(); got != 1 {
		t.Errorf("%d listing requests, want 1", got)
	}
}

// TestListCacheBudget: a cached listing is charged to the memory budget and released when it is
// invalidated or expires; one the budget cannot hold is served but not cached.
func TestListCacheBudget(t *testing.T) {
	e := newSlowListEnv(t)
	e.open()
	for i := range 50 {
		e.putObject(t, fmt.Sprintf("o%02d", i))
	}
	b := cache.NewBudget(1 << 20)
	lc := newListCache(50*time.Millisecond, 16, b, nil)
	lc.keep = 0 // no expired listing kept for stale-if-error (TestListCacheKeepsLastListings)
	l, err := lc.get(context.Background(), e.client, e.k, time.Minute)
	if err != nil || len(l.all()) != 50 {
		t.Fatalf("listing: %v, %v", l, err)
	}
	if b.Used() == 0 {
		t.Fatal("the cached listing is not charged to the budget")
	}
	lc.put(e.k, "new", pithos.ObjectInfo{Name: "new"}, false)
	charged := b.Used()
	lc.invalidate(e.k)
	if b.Used() != 0 {
		t.Errorf("after invalidate the budget still has %d of %d bytes used", b.Used(), charged)
	}
	if _, err := lc.get(context.Background(), e.client, e.k, time.Minute); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lc.mu.Lock()
		n := lc.lru.Len()
		lc.mu.Unlock()
		if n == 0 && b.Used() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired listing is still held (%d listings, %d bytes charged)", n, b.Used())
		}
		time.Sleep(20 * time.Millisecond)
	}
	small := newListCache(time.Minute, 16, cache.NewBudget(100), nil)
	if l, err := small.get(context.Background(), e.client, e.k, time.Minute); err != nil || len(l.all()) != 50 {
		t.Fatalf("a listing larger than the budget: %v, %v", l, err)
	}
	if small.lru.Len() != 0 {
		t.Error("a listing larger than the budget was cached")
	}
}

// TestListCacheSlowListingIsFresh: a listing that took longer than the
// attribute TTL to arrive is fresh when it arrives, so the lookups that
// follow it do not list the directory again (an ls -l of 10 000 objects
// from a loaded server re-listed about once a second, without end, when
// listings were stamped with the time they were asked for). The clock is
// the test's.
func TestListCacheSlowListingIsFresh(t *testing.T) {
	e := newSlowListEnv(t)
	e.putObject(t, "a")
	lc := newListCache(5*time.Second, 16, nil, nil)
	var mu sync.Mutex
	clock := time.Unix(1_000_000, 0)
	lc.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	const maxAge = time.Second
	first := make(chan error, 1)
	go func() {
		_, err := lc.get(context.Background(), e.client, e.k, maxAge)
		first <- err
	}()
	<-e.arrived
	mu.Lock()
	clock = clock.Add(3 * maxAge) // the listing is slow: three attribute TTLs in flight
	mu.Unlock()
	e.open()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	l, err := lc.get(context.Background(), e.client, e.k, maxAge)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.find("a"); !ok {
		t.Error("the listing lacks the object")
	}
	if got := e.listings.Load(); got != 1 {
		t.Errorf("%d listing requests, want 1: the listing that just arrived was taken as stale", got)
	}
	mu.Lock()
	clock = clock.Add(maxAge) // now it has aged: the next lookup lists again
	mu.Unlock()
	if _, err := lc.get(context.Background(), e.client, e.k, maxAge); err != nil {
		t.Fatal(err)
	}
	if got := e.listings.Load(); got != 2 {
		t.Errorf("%d listing requests after the listing aged, want 2", got)
	}
}

// TestListingFoldsAtSqrt: the overlay of a large listing folds into a new
// base at 64 + 2·√n changes (every change copies the overlay: folding at
// n/4, 2 564 for 10 000 entries, made the copies 10 % of the daemon's CPU
// under 16 writers), and the folded listing has every change.
func TestListingFoldsAtSqrt(t *testing.T) {
	const n = 10000
	l := newListing(entriesNamed(n, "o%05d"), time.Now())
	limit := foldAt(n)
	if limit != 264 {
		t.Fatalf("foldAt(%d) = %d, want 264", n, limit)
	}
	folds := 0
	for i := range 600 {
		name := fmt.Sprintf("w%05d", i)
		nl := l.with(map[string]*pithos.DirEntry{name: {Name: name, Object: &pithos.ObjectInfo{Name: name}}})
		if nl.base != l.base {
			folds++
		}
		l = nl
		if len(l.over) > foldAt(len(l.base.entries)) {
			t.Fatalf("overlay of %d after %d changes, past %d", len(l.over), i+1, foldAt(len(l.base.entries)))
		}
	}
	if folds != 2 {
		t.Errorf("%d folds in 600 changes, want 2", folds)
	}
	if got := len(l.all()); got != n+600 {
		t.Errorf("%d entries after the changes, want %d", got, n+600)
	}
}

// TestListCacheFoldReleasesNoMemory: a fold replaces a base with one as
// large, which is no memory to give back: it must not count towards
// memRelease's threshold (it ran a full collection every second while
// writers were busy), while dropping the listing counts all its entries.
func TestListCacheFoldReleasesNoMemory(t *testing.T) {
	mem := &memRelease{}
	lc := newListCache(time.Hour, 16, nil, mem)
	k := dirKey{account: "a", container: "c"}
	const n = 30000
	lc.mu.Lock()
	lc.store(k, newListing(entriesNamed(n, "o%05d"), time.Now()))
	lc.mu.Unlock()
	for i := range 3 * foldAt(n) {
		name := fmt.Sprintf("w%05d", i)
		lc.put(k, name, pithos.ObjectInfo{Name: name}, false)
	}
	mem.mu.Lock()
	got := mem.n
	mem.mu.Unlock()
	if got != 0 {
		t.Fatalf("folds counted %d dropped entries, want 0", got)
	}
	lc.invalidate(k)
	mem.mu.Lock()
	got = mem.n
	if mem.timer != nil {
		mem.timer.Stop()
		mem.timer = nil
	}
	mem.mu.Unlock()
	if got < n {
		t.Fatalf("dropping the listing counted %d entries, want at least %d", got, n)
	}
}

// TestListCacheSweepAtExpiry: an expired listing leaves the cache (and its memory) within sweepSlack of its
// TTL, also one stored after the sweep was scheduled for an older one: the sweep ran every TTL + 1 s, and a
// listing stored just after one was scheduled stayed up to twice the TTL + 1 s (an `ls -l` of 50 000
// objects kept ~33 MiB nine seconds after it). Virtual time (synctest).
func TestListCacheSweepAtExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 5 * time.Second
		lc := newListCache(ttl, 16, nil, nil)
		lc.keep = 0 // no expired listing kept for stale-if-error (TestListCacheKeepsLastListings)
		store := func(k dirKey) {
			lc.mu.Lock()
			defer lc.mu.Unlock()
			lc.store(k, newListing(entriesNamed(10, "o%02d"), lc.now()))
		}
		cached := func(k dirKey) bool {
			lc.mu.Lock()
			defer lc.mu.Unlock()
			return lc.lru.Contains(k)
		}
		a, b := dirKey{container: "a"}, dirKey{container: "b"}
		store(a)
		time.Sleep(3 * time.Second)
		store(b) // expires at 8 s
		time.Sleep(2*time.Second + sweepSlack + time.Millisecond)
		synctest.Wait()
		if cached(a) || !cached(b) {
			t.Fatalf("at 5 s + slack: a cached %v (want false), b cached %v (want true)", cached(a), cached(b))
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if cached(b) {
			t.Error("a listing was still cached a sweep slack after its TTL")
		}
	})
}

// TestListCacheKeepsLastListings: the sweep keeps the newest expired
// listings within keep bytes (for answers while the server is unreachable)
// and drops the others at expiry: a listing larger than keep leaves as
// before, and the expired listings kept never pass keep. Virtual time.
func TestListCacheKeepsLastListings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 5 * time.Second
		lc := newListCache(ttl, 64, nil, nil)
		if lc.keep != staleKeepBytes {
			t.Fatalf("keep = %d, want the default %d", lc.keep, staleKeepBytes)
		}
		store := func(k dirKey, n int) int64 {
			lc.mu.Lock()
			defer lc.mu.Unlock()
			l := newListing(entriesNamed(n, "object-with-a-longish-name-%06d"), lc.now())
			lc.store(k, l)
			return l.base.bytes
		}
		cached := func(k dirKey) bool {
			lc.mu.Lock()
			defer lc.mu.Unlock()
			return lc.lru.Contains(k)
		}
		expiredBytes := func() (n int64) {
			lc.mu.Lock()
			defer lc.mu.Unlock()
			for _, k := range lc.lru.Keys() {
				if l, ok := lc.lru.Peek(k); ok && lc.now().Sub(l.at) >= ttl {
					n += l.base.bytes
				}
			}
			return n
		}
		small, huge := dirKey{container: "small"}, dirKey{container: "huge"}
		store(small, 10)
		if n := store(huge, 50_000); n <= staleKeepBytes {
			t.Fatalf("a listing of 50 000 entries is %d bytes, not above keep", n)
		}
		time.Sleep(ttl + sweepSlack + time.Millisecond)
		synctest.Wait()
		if !cached(small) || cached(huge) {
			t.Fatalf("after expiry: small cached %v (want true), huge cached %v (want false)", cached(small), cached(huge))
		}
		// Many expired listings: the newest within keep stay.
		var keys []dirKey
		per := int64(0)
		for i := range 40 {
			k := dirKey{container: fmt.Sprintf("d%02d", i)}
			keys = append(keys, k)
			per = store(k, 500)
			time.Sleep(time.Millisecond)
		}
		if 40*per <= staleKeepBytes {
			t.Fatalf("40 listings of %d bytes fit in keep: the test needs more", per)
		}
		time.Sleep(ttl + sweepSlack + 50*time.Millisecond)
		synctest.Wait()
		if n := expiredBytes(); n > staleKeepBytes || n < staleKeepBytes-2*per {
			t.Errorf("expired listings kept: %d bytes, want at most keep (%d) and about that", n, staleKeepBytes)
		}
		if !cached(keys[len(keys)-1]) || cached(keys[0]) {
			t.Errorf("newest kept %v (want true), oldest kept %v (want false)", cached(keys[len(keys)-1]), cached(keys[0]))
		}
	})
}

// TestListCacheDropsWhatItEvicts: a listing the cache has dropped is
// garbage: the cache keeps no reference to it (golang-lru's locked Cache
// kept the last value it evicted until the next eviction, which pinned a
// dropped 50 000-entry listing, ~30 MB).
func TestListCacheDropsWhatItEvicts(t *testing.T) {
	lc := newListCache(time.Minute, 16, nil, nil)
	k := dirKey{container: "big"}
	freed := make(chan struct{})
	func() {
		l := newListing(entriesNamed(1000, "o%04d"), lc.now())
		runtime.AddCleanup(l.base, func(ch chan struct{}) { close(ch) }, freed)
		lc.mu.Lock()
		defer lc.mu.Unlock()
		lc.store(k, l)
	}()
	lc.invalidate(k)
	for range 20 {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("a listing the cache dropped is still reachable after 20 collections")
}

// TestListCacheRefreshesBusyListing: a listing of a directory this mount is changing is fetched again in
// the background once past three quarters of its TTL, while the cached one still answers at once; the
// refreshed listing replaces it with the changes made meanwhile merged in. A listing nobody here changed is
// not fetched again before it expires.
func TestListCacheRefreshesBusyListing(t *testing.T) {
	e := newSlowListEnv(t)
	e.open()
	e.putObject(t, "a")
	lc := newListCache(4*time.Second, 16, nil, nil)
	var mu sync.Mutex
	clock := time.Unix(1_000_000, 0)
	lc.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	get := func() *listing {
		t.Helper()
		l, err := lc.get(context.Background(), e.client, e.k, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := get()
	// Quiet directory, past three quarters of its TTL: answered, not fetched again.
	advance(3500 * time.Millisecond)
	if get() != first {
		t.Fatal("a quiet directory's fresh listing was not the one answering")
	}
	if got := e.listings.Load(); got != 1 {
		t.Fatalf("%d listing requests for a quiet directory before its expiry, want 1", got)
	}
	// This mount changes it, and another client adds "other", which only a new listing shows.
	lc.put(e.k, "b", e.putObject(t, "b"), false)
	e.putObject(t, "other")
	busy := get()
	if _, ok := busy.find("b"); !ok {
		t.Error("the cached listing answering meanwhile lacks this mount's change")
	}
	if _, ok := busy.find("other"); ok {
		t.Error("the answer waited for the new listing")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lc.mu.Lock()
		l, _ := lc.lru.Peek(e.k)
		inFlight := lc.fetches[e.k] != nil
		lc.mu.Unlock()
		if _, ok := l.find("other"); ok && !inFlight {
			if _, ok := l.find("b"); !ok {
				t.Error("the refreshed listing lacks this mount's change")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the busy listing was not fetched again in the background")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.listings.Load(); got != 2 {
		t.Errorf("%d listing requests, want 2", got)
	}
	// The refreshed listing is new and nothing changed since: asked again, it answers without a fetch.
	get()
	if got := e.listings.Load(); got != 2 {
		t.Errorf("%d listing requests after the refresh, want 2", got)
	}
}
