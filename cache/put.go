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
// memory tier holds what it charges.
func (c *Cache) Adopt(key Key, data []byte) error {
	if err := key.validate(); err != nil {
		return err
	}
	s := bytes.TrimRight(data, "\x00")
	if len(s) < cap(data)/2 {
		s = bytes.Clone(s)
	}
	if s == nil {
		s = []byte{}
	}
	return c.store(key, s)
}

// store adds a block that belongs to the cache to both tiers.
func (c *Cache) store(key Key, s []byte) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	blk := plainBlock(s)
	c.mem.add(key.memID(), blk, false)
	if c.disk != nil {
		blk.acquire()
		c.disk.write(key, blk, diskCharge{})
	}
	blk.release()
	return nil
}
