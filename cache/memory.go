package cache

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// entryOverhead is what one memory entry costs beyond its data (map slot,
// list element, key string), charged so that many tiny or all-zero blocks
// cannot grow the cache without bound.
const entryOverhead = 256

type memEntry struct {
	blk        *blockBuf // the tier holds one reference, dropped at eviction
	size       int64     // len(blk.data), fixed at insertion
	prefetched bool      // inserted by a prefetch and not read since
}

func (e *memEntry) charge() int64 { return e.size + entryOverhead }

// memTier is an LRU of blocks whose total charge is reserved from the
// shared Budget. Lock order: Cache.mu, then memTier.mu, then Budget.mu.
type memTier struct {
	budget *Budget
	stats  *counters

	mu    sync.Mutex
	lru   *simplelru.LRU[string, *memEntry]
	bytes int64
	freed int64 // budget bytes evictions released at once (reclaim)
}

func newMemTier(b *Budget, st *counters) *memTier {
	m := &memTier{budget: b, stats: st}
	// The LRU's own count limit is never reached: the byte budget decides.
	l, err := simplelru.NewLRU[string, *memEntry](math.MaxInt32, m.onEvict)
	if err != nil {
		panic(err) // only for a non-positive size
	}
	m.lru = l
	b.setReclaimer(m.reclaim)
	return m
}

// onEvict runs under m.mu for every entry leaving the LRU: the entry's
// charge stays with the block until its last holder lets go (blockBuf), so
// it is released now only when the tier held the last reference.
func (m *memTier) onEvict(_ string, e *memEntry) {
	m.bytes -= e.size
	m.freed += e.blk.keepCharge(m.budget, e.charge())
	m.freed += e.blk.release()
}

// get returns a cached block, with a reference taken for the caller when
// ref is set, and whether it was a prefetched block read for the first
// time (only when !prefetch).
func (m *memTier) get(id string, prefetch, ref bool) (blk *blockBuf, firstReadahead, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.lru.Get(id)
	if !ok {
		return nil, false, false
	}
	if !prefetch && e.prefetched {
		e.prefetched = false
		firstReadahead = true
	}
	if ref {
		e.blk.acquire() // safe: the tier's own reference keeps it alive
	}
	return e.blk, firstReadahead, true
}

func (m *memTier) contains(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Contains(id)
}

// holds reports whether the tier holds blk itself under id (so that its
// charge is the tier's, and stays with the block until its last reference
// should the tier let it go).
func (m *memTier) holds(id string, blk *blockBuf) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.lru.Peek(id)
	return ok && e.blk == blk
}

// add caches a block if the budget allows it (evicting older blocks as
// needed), taking a reference to it, and reports whether the tier holds it
// (added now or before). The caller must hold a reference.
func (m *memTier) add(id string, blk *blockBuf, prefetched bool) bool {
	_, ok := m.addCharged(id, blk, prefetched, 0)
	return ok
}

// addCharged is add for a caller that already holds have bytes of the
// budget for the block: the entry takes them over. It returns the bytes
// the caller still holds (have when the block was not added, else 0) and
// whether the tier holds the block.
func (m *memTier) addCharged(id string, blk *blockBuf, prefetched bool, have int64) (int64, bool) {
	e := &memEntry{blk: blk, size: int64(len(blk.data)), prefetched: prefetched}
	if m.contains(id) {
		m.budget.Release(have)
		return 0, true
	}
	need := e.charge() - have
	if need > 0 && !m.budget.TryReserve(need) {
		return have, false
	}
	if need < 0 {
		m.budget.Release(-need)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lru.Contains(id) { // raced with another add
		m.budget.Release(e.charge())
		return 0, true
	}
	blk.acquire()
	m.lru.Add(id, e)
	m.bytes += e.size
	return 0, true
}

// reclaim evicts least recently used blocks until need bytes are freed or
// the tier is empty; it returns the bytes freed. (Evicting, among blocks
// read ahead, the one furthest from its reader rather than the oldest was
// tried: that block is the one least likely to be on disk yet, and was
// fetched again — more fetches in alternated cold reads.)
func (m *memTier) reclaim(need int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freed = 0
	for m.freed < need {
		if _, _, ok := m.lru.RemoveOldest(); !ok {
			break
		}
		m.stats.memEvictions.Add(1)
	}
	return m.freed
}

// reclaimRead is reclaim sparing the blocks prefetched and not read since
// (TryReserveAhead).
func (m *memTier) reclaimRead(need int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freed = 0
	m.evictRead(need)
	return m.freed
}

// evictRead evicts blocks that have been read, least recently used first,
// until m.freed reaches need.
func (m *memTier) evictRead(need int64) {
	for m.freed < need { // the common case: the oldest block has been read
		_, e, ok := m.lru.GetOldest()
		if !ok {
			return
		}
		if e.prefetched {
			break
		}
		m.lru.RemoveOldest()
		m.stats.memEvictions.Add(1)
	}
	if m.freed >= need {
		return
	}
	for _, id := range m.lru.Keys() { // oldest first
		if m.freed >= need {
			break
		}
		if e, ok := m.lru.Peek(id); ok && !e.prefetched {
			m.lru.Remove(id)
			m.stats.memEvictions.Add(1)
		}
	}
}

// remove drops a block from the tier, if there.
func (m *memTier) remove(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Remove(id)
}

func (m *memTier) usage() (entries int, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len(), m.bytes
}

// purge drops every block, releasing the budget.
func (m *memTier) purge() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Purge()
}
