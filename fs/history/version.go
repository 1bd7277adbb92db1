package history

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos"
)

// swiftBlockSize is the block size a Swift version is cached in (the
// mount's, so blocks of the current version read through the mount are
// shared).
const swiftBlockSize = 4 << 20

// versionFile is one version of an object: read-only, its size and
// modification time the version's.
type versionFile struct {
	gofs.Inode
	v    *Views
	ver  pithos.ObjectVersion
	hist pithos.History
	path string // container/object, for errors
}

var (
	_ = (gofs.NodeGetattrer)((*versionFile)(nil))
	_ = (gofs.NodeSetattrer)((*versionFile)(nil))
	_ = (gofs.NodeOpener)((*versionFile)(nil))
	_ = (gofs.NodeCopyFileRanger)((*versionFile)(nil))
	_ = (gofs.FileReader)((*versionHandle)(nil))
	_ = (gofs.FileReleaser)((*versionHandle)(nil))
)

func (f *versionFile) fill(out *fuse.Attr, ino uint64) {
	out.Mode = fuse.S_IFREG | 0o444
	out.Ino = ino
	out.Nlink = 1
	out.Size = uint64(f.ver.Bytes)
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = 1 << 20
	out.Owner = fuse.Owner{Uid: f.v.cfg.UID, Gid: f.v.cfg.GID}
	t := f.ver.Time
	out.SetTimes(&t, &t, &t)
}

func (f *versionFile) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.fill(&out.Attr, f.StableAttr().Ino)
	return 0
}

func (f *versionFile) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

func (f *versionFile) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EACCES
	}
	h := &versionHandle{f: f, size: f.ver.Bytes, bs: swiftBlockSize}
	if f.hist.Pithos {
		hm, _, err := f.v.cfg.Client.GetHashmap(ctx, f.ver.Container, f.ver.Name, pithos.GetOptions{Version: f.ver.ID})
		if err != nil {
			return nil, 0, f.v.cfg.Errno("open", f.path, err)
		}
		h.hm, h.size, h.bs = hm, hm.Bytes, hm.BlockSize
	}
	h.ra = cache.NewReadahead(f.v.cfg.Readahead)
	h.pf = f.v.cfg.Cache.NewPrefetcher(context.Background())
	// Versions never change: the kernel may keep their pages.
	return h, fuse.FOPEN_KEEP_CACHE, 0
}

// CopyFileRange copies the version onto a file of the mount server-side
// (cp VERSION FILE): the whole version from offset 0 to offset 0. Any other
// range is EXDEV, and cp copies the bytes itself. A version larger than
// one call can report (4 GiB) is copied by the first call; the following
// calls report the rest as copied.
func (f *versionFile) CopyFileRange(ctx context.Context, fhIn gofs.FileHandle, offIn uint64, out *gofs.Inode, fhOut gofs.FileHandle,
	offOut uint64, length uint64, flags uint64) (uint32, syscall.Errno) {
	size := uint64(f.ver.Bytes)
	h, ok := fhIn.(*versionHandle)
	if !ok || f.v.cfg.Restore == nil || flags != 0 {
		return 0, syscall.EXDEV
	}
	switch {
	case offIn >= size:
		return 0, 0
	case offIn == 0 && offOut == 0 && length >= size:
		n, errno := f.v.cfg.Restore(ctx, f.ver, h.hm, out, fhOut)
		if errno != 0 {
			return 0, errno
		}
		if n != f.ver.Bytes {
			return 0, syscall.EIO
		}
		h.restoredTo = out
	case offIn == offOut && h.restoredTo == out:
		// The rest of a version restored by an earlier call.
	default:
		return 0, syscall.EXDEV
	}
	return uint32(min(length, size-offIn, 1<<32-1)), 0
}

// versionHandle reads a version through the block cache.
type versionHandle struct {
	f    *versionFile
	hm   *pithos.Hashmap // nil on Swift
	size int64
	bs   int64
	ra   *cache.Readahead
	pf   *cache.Prefetcher
	// restoredTo is the file this version was copied onto by CopyFileRange.
	restoredTo *gofs.Inode
}

func (h *versionHandle) blockLen(idx int64) int64 { return min(h.bs, h.size-idx*h.bs) }

func (h *versionHandle) key(idx int64, opaque bool) cache.Key {
	if h.hm != nil && !opaque {
		return cache.HashKey(h.hm.Hashes[idx])
	}
	v := h.f.ver
	return cache.OpaqueKey(fmt.Sprintf("obj:%s/%s/%s@%s#%d", h.f.v.cfg.Client.AccountID(), v.Container, v.Name, v.ETag, idx))
}

func (h *versionHandle) fetch(idx int64) cache.FetchIntoFunc {
	v := h.f.ver
	return func(ctx context.Context, buf []byte) ([]byte, error) {
		return h.f.v.cfg.Client.ReadRangeInto(ctx, v.Container, v.Name, idx*h.bs, h.size, buf[:h.blockLen(idx)],
			pithos.GetOptions{Version: v.ID, Conditions: pithos.Conditions{IfMatch: v.ETag}})
	}
}

func (h *versionHandle) block(ctx context.Context, idx int64) (*cache.Ref, error) {
	c := h.f.v.cfg.Cache
	n := int(h.blockLen(idx))
	ref, err := c.GetRef(ctx, h.key(idx, false), n, h.fetch(idx))
	var ve *cache.VerifyError
	if h.hm != nil && idx == (h.size-1)/h.bs && errors.As(err, &ve) {
		ref, err = c.GetRef(ctx, h.key(idx, true), n, h.fetch(idx)) // a short last block (§9.4)
	}
	return ref, err
}

func (h *versionHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= h.size || len(dest) == 0 {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), h.size)
	first, last := off/h.bs, (end-1)/h.bs
	nb := (h.size + h.bs - 1) / h.bs
	for idx := first; idx <= last; idx++ {
		from, to := h.ra.Access(idx, nb)
		for j := from; j < to; j++ {
			h.pf.PrefetchInto(h.key(j, false), int(h.blockLen(j)), h.fetch(j))
		}
	}
	out := dest[:end-off]
	for idx := first; idx <= last; idx++ {
		ref, err := h.block(ctx, idx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, syscall.EINTR
			}
			return nil, h.f.v.cfg.Errno("read", h.f.path, err)
		}
		bstart := idx * h.bs
		lo, hi := max(off, bstart)-bstart, min(end, bstart+h.bs)-bstart
		dst := out[bstart+lo-off : bstart+hi-off]
		n := 0
		if data := ref.Bytes(); lo < int64(len(data)) {
			n = copy(dst, data[lo:min(hi, int64(len(data)))])
		}
		clear(dst[n:]) // trailing zeros the cache strips
		ref.Release()
	}
	return fuse.ReadResultData(out), 0
}

func (h *versionHandle) Release(ctx context.Context) syscall.Errno {
	h.pf.Close()
	return 0
}
