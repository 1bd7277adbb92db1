package localcloud

// blockBuf returns a buffer of one block size from the cloud's pool; put it
// back with c.blockBufs.Put. An upload is cut into blocks in it: a 4 MiB
// allocation per block POST or object PUT would be zeroed and collected
// again each time.
func (c *Cloud) blockBuf() *[]byte {
	if b, ok := c.blockBufs.Get().(*[]byte); ok && int64(len(*b)) == c.store.blockSize {
		return b
	}
	b := make([]byte, c.store.blockSize)
	return &b
}
