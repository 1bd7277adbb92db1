// The read handle of a committed object: block-by-block reads through the cache, with readahead.

package fs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// fileHandle reads one version of an object: the one current at open.
type fileHandle struct {
	f                     *fileNode
	acct                  *account
	container, name, path string

	hm      *pithos.Hashmap // nil on Swift
	etag    string
	size    int64
	bs      int64
	mtime   time.Time
	version int64

	ra *cache.Readahead
	pf *cache.Prefetcher

	// served counts the bytes of each block read so far in a sequential
	// run (see consumed).
	smu    sync.Mutex
	served map[int64]int64
	// readBytes counts the bytes this handle served (fs/passthrough.go).
	readBytes atomic.Int64
	// ow writes the object file from the blocks this handle reads, from
	// its first read of block 0 (fs/passthrough.go).
	owOnce sync.Once
	ow     atomic.Pointer[cache.ObjectWriter]
	// direct: opened with O_DIRECT, its reads fill no page cache.
	direct bool
}

func (h *fileHandle) loadHashmap(ctx context.Context) error {
	f := h.f
	f.mu.Lock()
	old, oldETag := f.hm, f.hmETag
	f.mu.Unlock()
	var opts pithos.GetOptions
	if old != nil {
		opts.IfNoneMatch = oldETag
	}
	hm, info, err := h.acct.client.GetHashmap(ctx, h.container, h.name, opts)
	switch {
	case err == nil && !isRegularType(info.ContentType):
		return errNotRegular
	case err == nil:
		h.hm, h.etag, h.mtime, h.version = hm, info.ETag, info.LastModified, info.Version
		if h.etag == "" {
			h.etag, _ = hm.TopHash()
		}
		f.mu.Lock()
		f.hm, f.hmETag = hm, h.etag
		f.mu.Unlock()
	case old != nil && errors.Is(err, fault.ErrNotModified):
		h.hm, h.etag = old, oldETag
		f.mu.Lock()
		h.version = f.version
		f.mu.Unlock()
	default:
		return err
	}
	h.size, h.bs = h.hm.Bytes, h.hm.BlockSize
	return nil
}

func (h *fileHandle) loadSwift(ctx context.Context) error {
	info, err := h.acct.client.ObjectInfo(ctx, h.container, h.name, pithos.GetOptions{})
	if err != nil {
		return err
	}
	if !isRegularType(info.ContentType) {
		return errNotRegular
	}
	h.etag, h.size, h.bs, h.mtime = info.ETag, info.Bytes, swiftBlockSize, info.LastModified
	return nil
}

func (h *fileHandle) numBlocks() int64 { return (h.size + h.bs - 1) / h.bs }

func (h *fileHandle) blockLen(idx int64) int64 { return min(h.bs, h.size-idx*h.bs) }

// key names block idx in the cache: its hash on Pithos+, (object, ETag,
// index) on Swift or when the hash does not describe the bytes (stale data
// past the end of a truncated object's last block).
func (h *fileHandle) key(idx int64, opaque bool) cache.Key {
	if h.hm != nil && !opaque {
		return cache.HashKey(h.hm.Hashes[idx])
	}
	return cache.OpaqueKey(fmt.Sprintf("obj:%s/%s/%s@%s#%d", h.acct.uuid, h.container, h.name, h.etag, idx))
}

// fetch returns the range GET of block idx into the cache's buffer (of the
// block's length), conditional on the ETag the file was opened at; once the
// file has lost its name (unlinked while open), of the version it was
// opened at, which Pithos+ keeps readable after the delete.
func (h *fileHandle) fetch(idx int64) cache.FetchIntoFunc {
	return func(ctx context.Context, buf []byte) ([]byte, error) {
		opts := pithos.GetOptions{Conditions: pithos.Conditions{IfMatch: h.etag}}
		h.f.mu.Lock()
		gone := h.f.gone
		h.f.mu.Unlock()
		if gone && h.version != 0 {
			opts.Conditions.IfMatch, opts.Version = "", h.version
		}
		return h.acct.client.ReadRangeInto(ctx, h.container, h.name, idx*h.bs, h.size, buf[:h.blockLen(idx)], opts)
	}
}

// block returns block idx stripped of its trailing zeros (the cache's
// shared bytes: never modified, valid until the Ref is released). ctx (the
// FUSE request's) only bounds the wait: an interrupt abandons this read,
// never a fetch other readers share.
func (h *fileHandle) block(ctx context.Context, idx int64) (*cache.Ref, error) {
	n := int(h.blockLen(idx))
	ref, err := h.f.sys.cache.GetRef(ctx, h.key(idx, false), n, h.fetch(idx))
	var ve *cache.VerifyError
	if h.hm != nil && idx == h.numBlocks()-1 && errors.As(err, &ve) {
		// A short last block whose hash covers bytes past the end (§9.4).
		ref, err = h.f.sys.cache.GetRef(ctx, h.key(idx, true), n, h.fetch(idx))
	}
	return ref, err
}

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	s := h.f.sys
	if off >= h.size || len(dest) == 0 {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), h.size)
	first, last := off/h.bs, (end-1)/h.bs
	nb := h.numBlocks()
	for idx := first; idx <= last; idx++ {
		from, to := h.ra.Access(idx, nb)
		for j := from; j < to; j++ {
			h.pf.PrefetchInto(h.key(j, false), int(h.blockLen(j)), h.fetch(j))
		}
	}
	if first == 0 {
		h.startObjectFile()
	}
	// The reply is the cached blocks' own bytes (no copy), and zeros from
	// dest where a block's stored bytes end. It holds each block until
	// go-fuse has written it.
	res := &blockResult{}
	refs := make([]*cache.Ref, 0, 2)
	for idx := first; idx <= last; idx++ {
		ref, err := h.block(ctx, idx)
		if err != nil {
			res.Done()
			return nil, s.fail("read", h.path, err)
		}
		refs = append(refs, ref)
		data := ref.Bytes()
		bstart := idx * h.bs
		lo, hi := max(off, bstart)-bstart, min(end, bstart+h.bs)-bstart
		stored := int64(len(data))
		res.add(ref, nil)
		if lo < stored {
			res.add(nil, data[lo:min(hi, stored)])
		}
		if hi > stored {
			zeros := dest[bstart+max(lo, stored)-off : bstart+hi-off]
			clear(zeros)
			res.add(nil, zeros)
		}
	}
	h.consumed(off, end, refs)
	h.readBytes.Add(end - off)
	h.filledPages()
	s.stats.reads.Add(1)
	s.stats.readB.Add(end - off)
	return res, 0
}

// filledPages notes that a READ this handle served went into the kernel's
// page cache (unless the handle is O_DIRECT).
func (h *fileHandle) filledPages() {
	if !h.direct && !h.f.pagesByDaemon.Load() {
		h.f.pagesByDaemon.Store(true)
	}
}

// consumed notes that [off, end) was read; refs holds the blocks it
// spans, in order. In a sequential run, a block whose every byte has been
// read leaves the cache's memory tier: the kernel's page cache holds it now
// (and the disk tier, unless the disk was behind), and keeping it would
// only push other blocks out of memory. It goes to the object file being
// written instead (fs/passthrough.go), which takes over its room in the
// memory budget. The kernel's parallel reads may arrive out of order, hence
// the byte count rather than "the block's last byte was read".
func (h *fileHandle) consumed(off, end int64, refs []*cache.Ref) {
	if h.ra.Window() == 0 {
		return
	}
	ow := h.ow.Load()
	h.smu.Lock()
	defer h.smu.Unlock()
	if h.served == nil || len(h.served) > 64 {
		h.served = make(map[int64]int64) // bounded: partly read blocks of a long-gone run
	}
	first := off / h.bs
	for idx := first; idx*h.bs < end; idx++ {
		h.served[idx] += min(end, (idx+1)*h.bs) - max(off, idx*h.bs)
		if h.served[idx] >= h.blockLen(idx) {
			delete(h.served, idx)
			h.f.sys.cache.Drop(h.key(idx, false))
			if h.hm != nil && idx == h.numBlocks()-1 {
				h.f.sys.cache.Drop(h.key(idx, true))
			}
			if i := idx - first; i < int64(len(refs)) {
				ow.Add(idx, h.key(idx, false), refs[i])
			}
		}
	}
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	h.pf.Close()
	h.finishObjectFile()
	return 0
}

// Fsync of a read-only handle has nothing to commit.
func (h *fileHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return 0 }

// errNotRegular: the name a file node opens holds a symlink or special file
// now (it was renamed over meanwhile): the file the kernel meant is gone.
var errNotRegular = errors.New("fs: no longer a regular file")

// isRegularType reports whether an object of content type ct is a regular
// file (not a symlink or special file; fs/node_special.go).
func isRegularType(ct string) bool {
	return !isSymlinkEntry(pithos.DirEntry{Object: &pithos.ObjectInfo{ContentType: ct}}) &&
		specialMode(pithos.DirEntry{Object: &pithos.ObjectInfo{ContentType: ct}}) == 0
}
