package fs

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// listBase is one directory's entries as the server listed them, sorted by
// name: shared by every version of the listing built on it, never changed.
type listBase struct {
	entries []pithos.DirEntry
	index   map[string]int32
	charged int64 // bytes reserved from the memory budget for it (0: none)
	bytes   int64 // size(), once stored
	// staleWarned: a lookup was answered from this listing, expired, while
	// the server was unreachable, and that was logged (once per listing).
	staleWarned atomic.Bool
	// dirs counts the directories among entries (nlink), once.
	dirsOnce sync.Once
	dirs     int
}

// listing is one directory's entries as this mount sees them: the server's
// listing (base) with this mount's own changes since (over: a name mapped
// to its new entry, or to nil when removed). Immutable: a change makes a
// new listing sharing the base, so a change costs O(1) however large the
// directory, and a reader (an open directory) keeps the version it got.
type listing struct {
	base *listBase
	over map[string]*pithos.DirEntry
	at   time.Time // when the base arrived from the server
	// changed is when this mount last changed the directory through the
	// cache (zero: not since the fetch).
	changed time.Time

	once   sync.Once
	merged []pithos.DirEntry // base and over in name order, built on first use
}

func newListing(entries []pithos.DirEntry, at time.Time) *listing {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	b := &listBase{entries: entries, index: make(map[string]int32, len(entries))}
	for i, e := range entries {
		b.index[e.Name] = int32(i)
	}
	return &listing{base: b, at: at}
}

func (l *listing) find(name string) (pithos.DirEntry, bool) {
	if e, ok := l.over[name]; ok {
		if e == nil {
			return pithos.DirEntry{}, false
		}
		return *e, true
	}
	i, ok := l.base.index[name]
	if !ok {
		return pithos.DirEntry{}, false
	}
	return l.base.entries[i], true
}

// subdirs counts the listing's directories (a directory's nlink is 2 plus
// that): the base's once, then what the overlay changes.
func (l *listing) subdirs() int {
	b := l.base
	b.dirsOnce.Do(func() {
		for _, e := range b.entries {
			if e.IsDir {
				b.dirs++
			}
		}
	})
	n := b.dirs
	for name, e := range l.over {
		if i, ok := b.index[name]; ok && b.entries[i].IsDir {
			n--
		}
		if e != nil && e.IsDir {
			n++
		}
	}
	return n
}

// all returns the entries in name order.
func (l *listing) all() []pithos.DirEntry {
	if len(l.over) == 0 {
		return l.base.entries
	}
	l.once.Do(func() { l.merged = l.merge() })
	return l.merged
}

func (l *listing) merge() []pithos.DirEntry {
	names := make([]string, 0, len(l.over))
	for n := range l.over {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]pithos.DirEntry, 0, len(l.base.entries)+len(names))
	i := 0
	for _, e := range l.base.entries {
		for i < len(names) && names[i] < e.Name {
			if o := l.over[names[i]]; o != nil {
				out = append(out, *o)
			}
			i++
		}
		if i < len(names) && names[i] == e.Name {
			if o := l.over[names[i]]; o != nil {
				out = append(out, *o)
			}
			i++
			continue
		}
		out = append(out, e)
	}
	for ; i < len(names); i++ {
		if o := l.over[names[i]]; o != nil {
			out = append(out, *o)
		}
	}
	return out
}

// with returns l with the entries of changes over it (a nil entry removes
// the name). Many changes fold into a new base, so lookups stay O(1) and
// the overlay small: each change copies the overlay (O(overlay)) and a
// fold rebuilds the base (O(entries)), so the overlay folds at about
// twice the square root of the entries, which keeps the sum least. (At a
// quarter of the entries, as before, the copies were 10 % of the daemon's
// CPU while 16 writers created files in a directory of 12 000 entries.)
func (l *listing) with(changes map[string]*pithos.DirEntry) *listing {
	if len(changes) == 0 {
		return l
	}
	over := make(map[string]*pithos.DirEntry, len(l.over)+len(changes))
	for n, e := range l.over {
		over[n] = e
	}
	for n, e := range changes {
		over[n] = e
	}
	nl := &listing{base: l.base, over: over, at: l.at, changed: l.changed}
	if len(over) > foldAt(len(l.base.entries)) {
		folded := newListing(nl.merge(), l.at)
		folded.changed = l.changed
		return folded
	}
	return nl
}

// foldAt is the overlay size past which a listing of n base entries folds
// into a new base: 64 + 2·√n.
func foldAt(n int) int {
	return 64 + 2*int(math.Sqrt(float64(n)))
}

// size estimates the memory the base holds.
func (b *listBase) size() int64 {
	n := int64(len(b.entries)) * 96 // entry, index slot
	for _, e := range b.entries {
		n += int64(2 * len(e.Name))
		if o := e.Object; o != nil {
			n += 320 + int64(len(o.Name)+len(o.ContentType)+len(o.Hash)+len(o.ETag)+len(o.MD5)+len(o.UUID)+len(o.ModifiedBy))
			n += int64(len(o.Meta)) * 64
		}
	}
	return n
}

// dirKey names one directory of one account: container plus under, the
// prefix its objects' names start with ("" at the container's root, else
// the directory's path and "/": "docs/", "docs//" for an empty name in
// docs, "/" for the objects named with a leading "/"; fs/names.go).
type dirKey struct {
	account, container, under string
}

// String is the directory's path for logs: "ACCOUNT/CONTAINER[/PATH]".
func (k dirKey) String() string {
	s := k.account + "/" + k.container
	if k.under != "" {
		s += "/" + k.under[:len(k.under)-1]
	}
	return s
}

// change is one change this mount made to a directory entry: fn gets the
// entry (ok false when absent) and returns the new one (keep false to
// remove it).
type change struct {
	name string
	fn   func(e pithos.DirEntry, ok bool) (ne pithos.DirEntry, keep bool)
}

// fetch is one listing request in flight, shared by the lookups that need
// it.
type fetch struct {
	done  chan struct{}
	l     *listing
	err   error
	stale bool     // the directory was invalidated after it began: later callers start their own
	log   []change // this mount's changes made while it was in flight, applied to its result
}

// listCache keeps recent directory listings for ttl, bounded in number and
// charged to the memory budget, and drops them once expired (so a huge
// listing does not stay in memory after use). A name missing from a fresh
// listing is a negative entry: lookups answer ENOENT without asking the
// server. Concurrent misses of one directory share one listing request.
//
// This mount's own changes (a commit, an unlink, a rename, new attributes)
// are merged into the cached listing, and into a listing being fetched when
// they happen (the fetch may have begun before them), so writers never
// discard a directory's listing: lookups and `ls` keep being served from
// the cache while files are created in the directory. A change whose
// outcome the mount does not know (mkdir, rmdir, a failed request)
// invalidates instead.
//
// When the server is unreachable (fault.ErrUnreachable: connection refused,
// no route, no such host) a listing is not retried, and the last
// listing of the directory, expired, answers instead (stale-if-error,
// logged once per listing). An expired listing stays for that while the
// expired ones kept come to at most keep bytes, the newest first; the
// others leave memory at expiry. A server that answers slowly or with an
// error gets no such answer: a listing fails as before.
type listCache struct {
	ttl    time.Duration
	budget *cache.Budget // nil: listings are not charged
	keep   int64         // the most bytes of expired listings kept for stale-if-error
	log    *zap.Logger

	mu sync.Mutex
	// lru is the cached listings, used only with mu held. golang-lru's
	// simplelru, not its locked Cache: the Cache keeps the last value it
	// evicted in a buffer for its callback until the next eviction, which
	// pinned a dropped 50 000-entry listing (~30 MB) for as long as nothing
	// else was evicted (bench-meta (d): +28 MiB over idle instead of +3).
	lru     *simplelru.LRU[dirKey, *listing]
	fetches map[dirKey]*fetch
	sweep   *time.Timer // drops expired listings; nil when none is scheduled
	sweepAt time.Time   // when sweep runs, by c.now
	mem     *memRelease // told of dropped entries; nil: nobody is

	now func() time.Time // the clock listings are stamped and aged by (tests set it)
}

func newListCache(ttl time.Duration, maxDirs int, budget *cache.Budget, mem *memRelease) *listCache {
	c := &listCache{ttl: ttl, budget: budget, keep: staleKeepBytes, log: zap.NewNop(), mem: mem, fetches: map[dirKey]*fetch{}, now: time.Now}
	c.lru, _ = simplelru.NewLRU[dirKey, *listing](maxDirs, func(_ dirKey, l *listing) { c.dropped(l.base) })
	return c
}

// dropped releases a base's charge (with c.mu held).
func (c *listCache) dropped(b *listBase) { c.release(b, 0) }

// release releases a base's charge and tells mem of its entries beyond
// kept, the entries of the base that replaced it (with c.mu held): a fold
// every few hundred commits into a directory of 10 000 entries is not
// memory to return to the OS, and counting it so would run
// debug.FreeOSMemory (a full collection) every second while writers are
// busy.
func (c *listCache) release(b *listBase, kept int) {
	if b.charged > 0 && c.budget != nil {
		c.budget.Release(b.charged)
	}
	b.charged = 0
	if c.mem != nil && len(b.entries) > kept {
		c.mem.dropped(int64(len(b.entries) - kept))
	}
}

// staleKeepBytes bounds the expired listings kept to answer while the
// server is unreachable (listBase.size: about 8 000 entries of objects):
// charged to the memory budget like the fresh ones.
const staleKeepBytes = 4 << 20

// get returns the listing of k, from the cache when younger than maxAge
// (and the cache's TTL). The fetch is detached from ctx's cancellation:
// other lookups may share it. When the server is unreachable, the last
// listing of k, however old, if the cache still has it. A cached listing
// of a directory this mount is changing is fetched again in the
// background once past refreshAt of its TTL (refreshDue).
func (c *listCache) get(ctx context.Context, client Store, k dirKey, maxAge time.Duration) (*listing, error) {
	c.mu.Lock()
	if l, ok := c.lru.Get(k); ok && c.now().Sub(l.at) < min(c.ttl, maxAge) {
		if c.refreshDue(k, l) {
			c.start(ctx, client, k)
		}
		c.mu.Unlock()
		return l, nil
	}
	f := c.fetches[k]
	if f == nil || f.stale {
		f = c.start(ctx, client, k)
	}
	c.mu.Unlock()
	<-f.done
	if f.err != nil && errors.Is(f.err, fault.ErrUnreachable) {
		if l := c.last(k, f.err); l != nil {
			return l, nil
		}
	}
	return f.l, f.err
}

// start starts a fetch of k's listing (with c.mu held), detached from
// ctx's cancellation: other lookups may share it.
func (c *listCache) start(ctx context.Context, client Store, k dirKey) *fetch {
	f := &fetch{done: make(chan struct{})}
	c.fetches[k] = f
	go c.run(pithos.FailFast(context.WithoutCancel(ctx)), client, k, f)
	return f
}

// refreshAt is how far into its TTL a listing this mount is changing is
// fetched again, in the background, while it still answers.
const refreshAt = 0.75

// refreshDue reports whether fresh listing l of k, just asked for, should be
// fetched again now (with c.mu held): this mount has changed the directory
// since l was fetched (writers are busy in it), l is past refreshAt of its
// TTL, and no fetch of k is in flight. Such a directory's listing is then
// replaced before it expires, so an `ls -l` among busy writers is answered
// from the cache instead of waiting for a listing of the whole, growing
// directory from a loaded server (bench-meta (b): the one try of 8 that
// came after the expiry took 0.5–0.7 s, the others 0.2–0.3 s). A directory
// nobody here changes is listed again only when asked after its TTL, as
// before: what it costs is one more listing per TTL of a directory both
// written and read through this mount.
func (c *listCache) refreshDue(k dirKey, l *listing) bool {
	if l.changed.IsZero() || c.now().Sub(l.at) < time.Duration(refreshAt*float64(c.ttl)) {
		return false
	}
	f := c.fetches[k]
	return f == nil || f.stale
}

// last returns the cached listing of k, whatever its age, for an answer
// while the server is unreachable (err), logging that once per listing.
func (c *listCache) last(k dirKey, err error) *listing {
	c.mu.Lock()
	l, ok := c.lru.Peek(k)
	c.mu.Unlock()
	if !ok {
		return nil
	}
	if !l.base.staleWarned.Swap(true) {
		c.log.Warn("fs: server unreachable: answering from the directory's last listing",
			zap.String("path", k.String()), zap.Duration("age", c.now().Sub(l.at).Round(time.Millisecond)), zap.Error(err))
	}
	return l
}

// run fetches k's listing for f, applies the changes made meanwhile and
// stores it (unless k was invalidated meanwhile).
func (c *listCache) run(ctx context.Context, client Store, k dirKey, f *fetch) {
	entries, err := client.ListDir(ctx, k.container, k.under)
	var l *listing
	if err == nil {
		// Stamped when it arrived, not when it was asked for: a listing
		// that takes longer than the attribute TTL (10 000 entries from a
		// loaded server) would be stale on arrival, and every LOOKUP that
		// follows an `ls -l` would list the directory again, without end.
		// The price: a change made behind the mount while the listing was
		// in flight may show one listing later.
		l = newListing(entries, c.now())
	}
	c.mu.Lock()
	if c.fetches[k] == f {
		delete(c.fetches, k)
	}
	if err == nil {
		l = applyChanges(l, f.log)
		if !f.stale {
			c.store(k, l)
		}
	}
	f.l, f.err, f.log = l, err, nil
	c.mu.Unlock()
	close(f.done)
}

// applyChanges returns l with the changes applied in order.
func applyChanges(l *listing, log []change) *listing {
	if len(log) == 0 {
		return l
	}
	over := map[string]*pithos.DirEntry{}
	for _, ch := range log {
		cur, ok := l.find(ch.name)
		if e, seen := over[ch.name]; seen {
			cur, ok = pithos.DirEntry{}, e != nil
			if e != nil {
				cur = *e
			}
		}
		ne, keep := ch.fn(cur, ok)
		if keep {
			over[ch.name] = &ne
		} else {
			over[ch.name] = nil
		}
	}
	return l.with(over)
}

// store caches l as k's listing (with c.mu held), charging a new base to
// the memory budget; a listing the budget cannot hold is not cached.
func (c *listCache) store(k dirKey, l *listing) {
	old, had := c.lru.Peek(k)
	if had && old.base == l.base {
		c.lru.Add(k, l)
		return
	}
	if l.base.bytes == 0 {
		l.base.bytes = l.base.size()
	}
	if c.budget != nil {
		n := l.base.bytes
		if !c.budget.TryReserve(n) {
			if had {
				c.lru.Remove(k)
			}
			return
		}
		l.base.charged = n
	}
	c.lru.Add(k, l) // the evict callback of a replaced entry is not called
	if had {
		// A base replaced by its fold or a new listing frees about what
		// the new one holds: only a shrink is memory to give back.
		c.release(old.base, len(l.base.entries))
	}
	c.scheduleSweep(l.at)
}

// sweepSlack is how long after the oldest listing expires the sweep runs:
// listings expiring together go in one sweep.
const sweepSlack = 250 * time.Millisecond

// scheduleSweep arranges for a listing stamped at to be dropped once
// expired (c.mu held): the sweep runs when the oldest cached listing
// expires (plus sweepSlack), so a huge listing leaves memory within that of
// its TTL. (Every TTL + 1 s before: a listing stored just after a sweep was
// scheduled stayed up to twice the TTL + 1 s, and an `ls -l` of 50 000
// objects kept ~33 MiB nine seconds after it.) A sweep already due no later
// stays: it reschedules for what it leaves.
func (c *listCache) scheduleSweep(at time.Time) {
	due := at.Add(c.ttl + sweepSlack)
	if c.sweep != nil {
		if !c.sweepAt.After(due) {
			return
		}
		c.sweep.Stop()
	}
	c.sweepAt = due
	c.sweep = time.AfterFunc(max(due.Sub(c.now()), 0), c.sweepExpired)
}

// sweepExpired drops the listings older than the TTL but the newest of
// them within c.keep bytes (kept for stale-if-error), and schedules the
// next sweep for the oldest fresh one left.
func (c *listCache) sweepExpired() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep = nil
	now := c.now()
	var oldest time.Time
	type aged struct {
		k dirKey
		l *listing
	}
	var expired []aged
	for _, k := range c.lru.Keys() {
		l, ok := c.lru.Peek(k)
		switch {
		case !ok:
		case now.Sub(l.at) >= c.ttl:
			expired = append(expired, aged{k, l})
		case oldest.IsZero() || l.at.Before(oldest):
			oldest = l.at
		}
	}
	sort.Slice(expired, func(i, j int) bool { return expired[i].l.at.After(expired[j].l.at) })
	var kept int64
	for _, x := range expired {
		if n := x.l.base.bytes; kept+n <= c.keep {
			kept += n
			continue
		}
		c.lru.Remove(x.k)
	}
	if !oldest.IsZero() {
		c.scheduleSweep(oldest)
	}
}

// change records a change this mount made to one entry of k: in the cached
// listing (keeping its age: the next lookup needs no new listing) and in
// the listing being fetched, if any, which may predate it.
func (c *listCache) change(k dirKey, ch change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.fetches[k]; f != nil && !f.stale {
		f.log = append(f.log, ch)
	}
	if l, ok := c.lru.Peek(k); ok {
		nl := applyChanges(l, []change{ch})
		nl.changed = c.now()
		c.store(k, nl)
	}
}

// put records that name now holds object o in k. With newVersion, o is a
// new version of the object already there, whose uuid it keeps.
func (c *listCache) put(k dirKey, name string, o pithos.ObjectInfo, newVersion bool) {
	c.change(k, change{name: name, fn: func(e pithos.DirEntry, ok bool) (pithos.DirEntry, bool) {
		o := o
		if ok && e.IsDir {
			return e, true // a directory of that name stays one
		}
		if ok && newVersion && e.Object != nil && o.UUID == "" {
			o.UUID = e.Object.UUID
		}
		return pithos.DirEntry{Name: name, Object: &o}, true
	}})
}

// update changes the object entry name of k by fn, if there is one.
func (c *listCache) update(k dirKey, name string, fn func(o *pithos.ObjectInfo)) {
	c.change(k, change{name: name, fn: func(e pithos.DirEntry, ok bool) (pithos.DirEntry, bool) {
		if ok && !e.IsDir && e.Object != nil {
			o := *e.Object
			fn(&o)
			e.Object = &o
		}
		return e, ok
	}})
}

// remove records that the object entry name is gone from k and returns the
// entry the cached listing had.
func (c *listCache) remove(k dirKey, name string) (removed pithos.DirEntry, ok bool) {
	c.mu.Lock()
	if l, cached := c.lru.Peek(k); cached {
		if e, found := l.find(name); found && !e.IsDir {
			removed, ok = e, true
		}
	}
	c.mu.Unlock()
	c.change(k, change{name: name, fn: func(e pithos.DirEntry, found bool) (pithos.DirEntry, bool) {
		if found && e.IsDir {
			return e, true
		}
		return pithos.DirEntry{}, false
	}})
	return removed, ok
}

// invalidate drops the listing of k (after a change of this mount whose
// outcome it does not know): lookups from now on do not get a listing
// whose fetch began before.
func (c *listCache) invalidate(k dirKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.fetches[k]; f != nil {
		f.stale = true
		delete(c.fetches, k)
	}
	c.lru.Remove(k)
}

// invalidateTree drops k and every cached listing below it.
func (c *listCache) invalidateTree(k dirKey) {
	c.invalidate(k)
	c.mu.Lock()
	keys := c.lru.Keys()
	for o := range c.fetches {
		keys = append(keys, o)
	}
	c.mu.Unlock()
	for _, o := range keys {
		if o.account == k.account && o.container == k.container &&
			strings.HasPrefix(o.under, k.under) {
			c.invalidate(o)
		}
	}
}
