package fs

import (
	"context"
	"fmt"
	"os"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
)

// Warm reads beyond the FUSE ceiling. Once a read-only handle has read a
// whole object (or every block of it is cached), the cache holds the
// object in one file: written while the handle read it, from the blocks it
// was served (cache.ObjectWriter, from its first read of block 0), with
// what that missed filled in at release; or, for a handle that did not
// start at block 0, assembled from the cached blocks (cache.Assemble, in
// the background). The next
// read-only open of that version gets a handle that offers this file to the
// kernel (go-fuse's FilePassthroughFder, FUSE passthrough, Linux ≥ 6.9):
// the kernel then reads the file itself and no READ reaches the daemon.
// Where the kernel or the mount lacks passthrough (go-fuse then stops
// offering it for the mount), the same handle serves READs from the file
// with no network, no hashing and no cache lookup.

// objectFileMin is the smallest object given an object file: one block.
// Smaller objects are read from the cache's blocks as before.
const objectFileMin = 4 << 20

// objectID names the version of the object a handle reads: by content on
// Pithos+ (the top hash: equal objects share one file), by name and ETag on
// Swift.
func (h *fileHandle) objectID() string {
	if h.hm != nil {
		if top, err := h.hm.TopHash(); err == nil && top != "" {
			return fmt.Sprintf("pithos:%s:%d:%d", top, h.bs, h.size)
		}
	}
	return fmt.Sprintf("swift:%s/%s/%s@%s:%d", h.acct.uuid, h.container, h.name, h.etag, h.size)
}

// objectBlocks lists the object's blocks for cache.Assemble.
func (h *fileHandle) objectBlocks() []cache.ObjectBlock {
	n := h.numBlocks()
	blocks := make([]cache.ObjectBlock, n)
	for i := range n {
		blocks[i] = cache.ObjectBlock{Key: h.key(i, h.hm != nil && i == n-1 && h.lastOpaque()), Size: int(h.blockLen(i)), Fetch: h.fetch(i)}
	}
	return blocks
}

// lastOpaque reports whether the last block is cached under its opaque key
// (a short last block whose hash covers bytes past the end).
func (h *fileHandle) lastOpaque() bool {
	n := h.numBlocks() - 1
	c := h.f.sys.cache
	return !c.Contains(h.key(n, false)) && c.Contains(h.key(n, true))
}

// startObjectFile starts writing the object file from the blocks this
// handle reads (at its first read of block 0), unless the object is too
// small or has one.
func (h *fileHandle) startObjectFile() {
	h.owOnce.Do(func() {
		if h.size < objectFileMin {
			return
		}
		keys := make([]cache.Key, h.numBlocks())
		for i := range keys {
			keys[i] = h.key(int64(i), false)
		}
		h.ow.Store(h.f.sys.cache.NewObjectWriter(h.objectID(), h.size, h.bs, keys))
	})
}

// finishObjectFile ends, for a handle being released, the object file its
// reads were writing, or starts assembling one when it read the whole
// object or every block is cached.
func (h *fileHandle) finishObjectFile() {
	h.owOnce.Do(func() {}) // no writer starts after this
	if ow := h.ow.Load(); ow != nil {
		ow.Finish(h.readWhole(), h.objectBlocks)
		return
	}
	if h.size < objectFileMin || h.f.sys.cache.HasObjectFile(h.objectID()) || !h.readWhole() {
		return
	}
	h.f.sys.cache.AssembleAsync(h.objectID(), h.objectBlocks())
}

// readWhole reports whether the handle read as many bytes as the object
// has, or every block of it is cached: worth an object file.
func (h *fileHandle) readWhole() bool {
	if h.readBytes.Load() >= h.size {
		return true
	}
	c := h.f.sys.cache
	for i := range h.numBlocks() {
		if !c.Contains(h.key(i, false)) {
			return false
		}
	}
	return true
}

// objectFileHandle reads an object from its assembled file, through the
// daemon: with --passthrough=false, or when the kernel refused passthrough.
type objectFileHandle struct {
	*fileHandle
	file *os.File
}

// passthroughHandle is an objectFileHandle that offers its file to the
// kernel.
type passthroughHandle struct{ *objectFileHandle }

var (
	_ = (gofs.FilePassthroughFder)((*passthroughHandle)(nil))
	_ = (gofs.FileReader)((*objectFileHandle)(nil))
	_ = (gofs.FileReleaser)((*objectFileHandle)(nil))
)

// openPassthrough returns a handle reading h's version from its object
// file when there is one, and no other passthrough handle of the node reads
// another version (go-fuse shares one backing file among a node's open
// passthrough handles).
//
// The handle offers the file to the kernel (passthrough) unless the kernel
// is keeping its page cache of this version (keep) and READs the daemon
// served filled it since the last such open: a file read through the
// daemon and read again right away is then read from those pages (~7 GB/s)
// rather than from the object file, which was written around the page
// cache (O_DIRECT) and is read from the disk. That open's READs, if the
// pages are gone after all, are served from the object file; the open after
// one that needed no READ is passthrough again.
func (f *fileNode) openPassthrough(h *fileHandle, flags uint32, keep bool) gofs.FileHandle {
	if h.size < objectFileMin {
		return nil
	}
	id := h.objectID()
	f.mu.Lock()
	busy := f.ptOpen > 0 && f.ptID != id
	f.mu.Unlock()
	if busy {
		return nil
	}
	file, ok := f.sys.cache.ObjectFile(id, h.size)
	if !ok {
		return nil
	}
	f.mu.Lock()
	if f.ptOpen > 0 && f.ptID != id {
		f.mu.Unlock()
		file.Close()
		return nil
	}
	f.ptOpen++
	f.ptID = id
	f.mu.Unlock()
	oh := &objectFileHandle{fileHandle: h, file: file}
	if f.sys.cfg.NoPassthrough || flags&syscall.O_DIRECT != 0 {
		// O_DIRECT: the kernel would apply the backing file's alignment
		// rules to the reader's offsets and sizes (EINVAL where the mount
		// accepts any).
		return oh
	}
	if keep && f.pagesByDaemon.Swap(false) {
		f.sys.stats.pagesFirst.Add(1)
		return oh
	}
	f.sys.stats.passthrough.Add(1)
	return &passthroughHandle{oh}
}

// PassthroughFd offers the object file to the kernel.
func (p *passthroughHandle) PassthroughFd() (int, bool) { return int(p.file.Fd()), true }

// Read serves a READ that reached the daemon from the object file: no
// network, no hashing (the blocks were verified when the file was
// assembled), no cache lookup.
func (p *objectFileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	s := p.f.sys
	if off >= p.size || len(dest) == 0 {
		return fuse.ReadResultData(nil), 0
	}
	n, err := p.file.ReadAt(dest[:min(int64(len(dest)), p.size-off)], off)
	if err != nil && int64(n) < min(int64(len(dest)), p.size-off) {
		return nil, s.fail("read", p.path, err)
	}
	p.filledPages()
	s.stats.reads.Add(1)
	s.stats.readB.Add(int64(n))
	return fuse.ReadResultData(dest[:n]), 0
}

func (p *objectFileHandle) Release(ctx context.Context) syscall.Errno {
	p.f.mu.Lock()
	p.f.ptOpen--
	p.f.mu.Unlock()
	p.file.Close()
	return p.fileHandle.Release(ctx)
}
