package writeback

// Grow extends f to size when it is shorter (fallocate(2)); the new part
// reads as zeros. Unlike a Truncate to that size it never shortens a file
// that a concurrent write made longer meanwhile.
func (f *File) Grow(size int64) error {
	if size > f.maxSize() {
		return f.tooLarge(size)
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if size <= f.size {
		return nil
	}
	f.abortStreamLocked("grow")
	f.size = size
	f.markTouched()
	return nil
}
