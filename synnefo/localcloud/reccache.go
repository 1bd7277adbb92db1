package localcloud

import (
	"bytes"
	"container/list"
	"maps"
	"slices"
	"sync"
)

// recCache keeps decoded object records whose stored form is large (a big
// object's hashmap: 67 bytes per 4 MiB block), so that the ranged GETs of
// one read do not decode the whole hashmap again for every block. A 1 GiB
// object's record was decoded once per block GET, 256 times per read, about
// a tenth of the server's CPU for the read; the cost grew with the square
// of the object's size (a 10 GiB object: 2 560 GETs decoding 2 560 hashes
// each). An entry is used only when the stored bytes are the ones it was
// decoded from (compared in full, far cheaper than the decode), so a write
// never needs to invalidate it, in any transaction. Callers get their own
// copy of every slice and map they might change.
type recCache struct {
	mu    sync.Mutex
	byKey map[string]*list.Element
	lru   list.List // of *recEntry, most recent first
	bytes int       // raw bytes held
	limit int
}

type recEntry struct {
	key string
	raw []byte
	rec objectRec
}

const (
	// recCacheMin is the stored size from which a record is worth keeping:
	// below it, the decode costs about as much as the copies.
	recCacheMin = 4 << 10
	// recCacheBytes bounds the stored bytes the cache keeps (about as much
	// again for the decoded records): the hashmaps of 2 TiB of objects.
	recCacheBytes = 32 << 20
)

func newRecCache(limit int) *recCache {
	return &recCache{byKey: map[string]*list.Element{}, limit: limit}
}

// get returns a copy of the record decoded from raw, if cached.
func (c *recCache) get(key, raw []byte) (objectRec, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[string(key)]
	if !ok {
		return objectRec{}, false
	}
	e := el.Value.(*recEntry)
	if !bytes.Equal(e.raw, raw) {
		return objectRec{}, false
	}
	c.lru.MoveToFront(el)
	return e.rec.clone(), true
}

// put keeps rec, decoded from raw (which it copies), when raw is large
// enough to be worth it and small enough to fit.
func (c *recCache) put(key, raw []byte, rec *objectRec) {
	if len(raw) < recCacheMin || len(raw) > c.limit/4 {
		return
	}
	e := &recEntry{key: string(key), raw: bytes.Clone(raw), rec: rec.clone()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; ok {
		c.remove(el)
	}
	c.byKey[e.key] = c.lru.PushFront(e)
	c.bytes += len(e.raw)
	for c.bytes > c.limit {
		c.remove(c.lru.Back())
	}
}

func (c *recCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*recEntry)
	delete(c.byKey, e.key)
	c.bytes -= len(e.raw)
}

// clone copies what a caller may change in place: the hashes, the meta map
// and the sharing lists.
func (o objectRec) clone() objectRec {
	o.Hashes = slices.Clone(o.Hashes)
	o.Meta = maps.Clone(o.Meta)
	if o.Sharing != nil {
		o.Sharing = &perms{Read: slices.Clone(o.Sharing.Read), Write: slices.Clone(o.Sharing.Write)}
	}
	return o
}
