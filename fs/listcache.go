package fs

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/pithosfs/pithosfs/pithos"
)

// listing is one directory's entries as the server listed them, sorted by
// name, with the time they were fetched. It is immutable once built.
type listing struct {
	entries []pithos.DirEntry
	index   map[string]int
	at      time.Time
}

func newListing(entries []pithos.DirEntry, at time.Time) *listing {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	l := &listing{entries: entries, index: make(map[string]int, len(entries)), at: at}
	for i, e := range entries {
		l.index[e.Name] = i
	}
	return l
}

func (l *listing) find(name string) (pithos.DirEntry, bool) {
	i, ok := l.index[name]
	if !ok {
		return pithos.DirEntry{}, false
	}
	return l.entries[i], true
}

// dirKey names one directory of one account: container plus prefix
// (without its trailing "/"; "" is the container's root).
type dirKey struct {
	account, container, prefix string
}

func (k dirKey) String() string {
	s := k.account + "/" + k.container
	if k.prefix != "" {
		s += "/" + k.prefix
	}
	return s
}

// listCache keeps recent directory listings for ttl, bounded in number. A
// name missing from a fresh listing is a negative entry: lookups answer
// ENOENT without asking the server. Concurrent misses of one directory
// share one listing (singleflight).
type listCache struct {
	ttl time.Duration
	lru *lru.Cache[dirKey, *listing]
	sf  singleflight.Group
	mu  sync.Mutex
	gen map[dirKey]uint64 // bumped by invalidate, so a listing started before it is not stored
}

func newListCache(ttl time.Duration, maxDirs int) *listCache {
	c, _ := lru.New[dirKey, *listing](maxDirs)
	return &listCache{ttl: ttl, lru: c, gen: map[dirKey]uint64{}}
}

// get returns the listing of k, from the cache when younger than maxAge
// (and the cache's TTL). The fetch is detached from ctx's cancellation:
// other lookups may share it.
func (c *listCache) get(ctx context.Context, client *pithos.Client, k dirKey, maxAge time.Duration) (*listing, error) {
	if l, ok := c.lru.Get(k); ok && time.Since(l.at) < min(c.ttl, maxAge) {
		return l, nil
	}
	c.mu.Lock()
	g := c.gen[k]
	c.mu.Unlock()
	// Callers share a fetch only within one generation: a fetch begun
	// before this mount's latest change to k (a commit, a rename) may miss
	// it, and a caller that saw the change must not get that listing.
	v, err, _ := c.sf.Do(k.String()+"\x00"+strconv.FormatUint(g, 10), func() (any, error) {
		at := time.Now()
		entries, err := client.ListDir(context.WithoutCancel(ctx), k.container, k.prefix)
		if err != nil {
			return nil, err
		}
		l := newListing(entries, at)
		c.mu.Lock()
		if c.gen[k] == g {
			c.lru.Add(k, l)
		}
		c.mu.Unlock()
		return l, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*listing), nil
}

// apply changes the cached listing of k, if there is one, by fn, keeping
// its age: a change this mount made and knows the outcome of, so the next
// lookup needs no new listing. A listing fetched concurrently (which may
// predate the change) is not stored.
func (c *listCache) apply(k dirKey, fn func([]pithos.DirEntry) []pithos.DirEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen[k]++
	l, ok := c.lru.Peek(k)
	if !ok {
		return
	}
	c.lru.Add(k, newListing(fn(append([]pithos.DirEntry(nil), l.entries...)), l.at))
}

// put records that name now holds object o in the cached listing of k.
// With newVersion, o is a new version of the object already there, whose
// uuid it keeps.
func (c *listCache) put(k dirKey, name string, o pithos.ObjectInfo, newVersion bool) {
	c.apply(k, func(es []pithos.DirEntry) []pithos.DirEntry {
		for i, e := range es {
			if e.Name == name && !e.IsDir {
				if newVersion && e.Object != nil && o.UUID == "" {
					o.UUID = e.Object.UUID
				}
				es[i].Object = &o
				return es
			}
		}
		return append(es, pithos.DirEntry{Name: name, Object: &o})
	})
}

// remove records that name is gone from the cached listing of k and
// returns the entry it had.
func (c *listCache) remove(k dirKey, name string) (removed pithos.DirEntry, ok bool) {
	c.apply(k, func(es []pithos.DirEntry) []pithos.DirEntry {
		for i, e := range es {
			if e.Name == name && !e.IsDir {
				removed, ok = e, true
				return append(es[:i], es[i+1:]...)
			}
		}
		return es
	})
	return removed, ok
}

// invalidate drops the listing of k (after this mount changed it).
func (c *listCache) invalidate(k dirKey) {
	c.mu.Lock()
	c.gen[k]++
	c.mu.Unlock()
	c.lru.Remove(k)
}

// invalidateTree drops k and every cached listing below it.
func (c *listCache) invalidateTree(k dirKey) {
	c.invalidate(k)
	for _, o := range c.lru.Keys() {
		if o.account == k.account && o.container == k.container &&
			(k.prefix == "" || o.prefix == k.prefix || len(o.prefix) > len(k.prefix) && o.prefix[:len(k.prefix)+1] == k.prefix+"/") {
			c.invalidate(o)
		}
	}
}
