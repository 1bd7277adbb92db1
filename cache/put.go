package cache

import "bytes"

// Put stores a block the caller already holds (one the write path has just
// committed). A hash key is verified first. data is copied.
func (c *Cache) Put(key Key, data []byte) error {
	if err := key.validate(); err != nil {
		return err
	}
	if err := verify(key, data, "put"); err != nil {
		return err
	}
	s := bytes.Clone(bytes.TrimRight(data, "\x00"))
	if s == nil {
		s = []byte{}
	}
	return c.store(key, s)
}

// Adopt is Put for a block whose bytes the caller has itself just hashed
// to key (the write path's committed blocks, hashed for their commit): it
// is neither hashed again nor copied, and data belongs to the cache from
// now on; the caller must not change or reuse it. A block much shorter
// than its buffer once its trailing zeros are stripped is copied, so the
// memory tier holds what it charges. A buffer of the block size (one from
// Buffer) goes back to the free list once the block leaves the cache.
func (c *Cache) Adopt(key Key, data []byte) error {
	return c.adopt(key, data, true)
}

// AdoptMemory is Adopt into the memory tier only, for small blocks: a
// block's file in the disk tier costs a file created (and later evicted),
// about a quarter of the daemon's CPU per file in a copy of many small
// files, for a block cheaper to fetch again than that if memory lets it go.
func (c *Cache) AdoptMemory(key Key, data []byte) error {
	return c.adopt(key, data, false)
}

func (c *Cache) adopt(key Key, data []byte, disk bool) error {
	if err := key.validate(); err != nil {
		return err
	}
	s := bytes.TrimRight(data, "\x00")
	var buf []byte
	switch {
	case len(s) < cap(data)/2:
		s = bytes.Clone(s)
		defer c.pool.put(data[:cap(data)])
	case cap(data) == poolBlockSize:
		buf = data[:cap(data)]
	}
	if s == nil {
		s = []byte{}
	}
	return c.storeBlock(key, newBlock(s, buf, c.pool), disk)
}

// store adds a block that belongs to the cache to both tiers.
func (c *Cache) store(key Key, s []byte) error {
	return c.storeBlock(key, plainBlock(s), true)
}

// storeBlock adds blk, which belongs to the cache, to the memory tier and,
// when disk is set, to the disk tier, and drops its creator's reference. A
// block queued for the disk is charged to diskQueueBytes and the memory
// budget as a fetched one is, and not written to the disk when they are
// full (counted as skipped): committed blocks of many writers queued
// uncharged held up to 64 blocks outside the budget while the disk was
// behind.
func (c *Cache) storeBlock(key Key, blk *blockBuf, disk bool) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		blk.release()
		return ErrClosed
	}
	c.mem.add(key.memID(), blk, false)
	if c.disk != nil && disk {
		if ch, ok := c.disk.tryReserve(len(blk.data), c.mem.holds(key.memID(), blk), false); ok {
			blk.queued.Store(true)
			blk.acquire()
			c.disk.write(key, blk, ch)
		} else {
			c.stats.diskWritesSkipped.Add(1)
		}
	}
	blk.release()
	return nil
}
