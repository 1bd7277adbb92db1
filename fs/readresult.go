package fs

import (
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
)

// blockResult is a read's reply made of slices of cached blocks, plus
// zeroed parts of the request's own buffer where the object has holes or a
// block's stored bytes end. go-fuse writes its slices to /dev/fuse with
// one writev: no copy, even for a read that spans two blocks. Because it
// offers Slices, go-fuse also never tries to splice it: a splice of a
// 1 MiB reply needs a pipe larger than /proc/sys/fs/pipe-max-size, and
// every such attempt used to log "trySplice: … max pipe size".
type blockResult struct {
	refs  []*cache.Ref
	parts [][]byte
	size  int
}

// add appends part of a block (held by ref, released in Done; nil for a
// part of the request's buffer).
func (r *blockResult) add(ref *cache.Ref, part []byte) {
	if ref != nil {
		r.refs = append(r.refs, ref)
	}
	if len(part) > 0 {
		r.parts = append(r.parts, part)
		r.size += len(part)
	}
}

// Slices is what go-fuse writes (fuse's withSlice).
func (r *blockResult) Slices() ([][]byte, fuse.Status) { return r.parts, fuse.OK }

// Bytes returns the reply in one slice: the part itself when there is one,
// else a copy into buf (or a new slice when buf is too small).
func (r *blockResult) Bytes(buf []byte) ([]byte, fuse.Status) {
	if len(r.parts) == 1 {
		return r.parts[0], fuse.OK
	}
	if cap(buf) < r.size {
		buf = make([]byte, 0, r.size)
	}
	buf = buf[:0]
	for _, p := range r.parts {
		buf = append(buf, p...)
	}
	return buf, fuse.OK
}

func (r *blockResult) Size() int { return r.size }

// Done releases the blocks once go-fuse has written the reply.
func (r *blockResult) Done() {
	for _, ref := range r.refs {
		ref.Release()
	}
	r.refs = nil
}
