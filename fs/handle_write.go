// The write handle: reads and writes go to the file's write-back state; flush and release commit it.

package fs

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// writeHandle is an open file whose reads and writes go through the
// writeback file shared by every handle of the object.
type writeHandle struct {
	f    *fileNode
	wf   *writeback.File
	acct *account
	path string
	// writer is set for a handle opened for writing (fileNode.writers).
	writer bool
	// deferred: a FLUSH left the commit to the RELEASE (fsys.deferFlush).
	deferred atomic.Bool
}

func (h *writeHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.wf.ReadAt(ctx, dest, off)
	if err != nil && n == 0 && !errors.Is(err, io.EOF) {
		return nil, h.f.sys.fail("read", h.path, err)
	}
	h.f.sys.stats.reads.Add(1)
	h.f.sys.stats.readB.Add(int64(n))
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *writeHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.wf.WriteAt(ctx, data, off)
	if err != nil {
		return uint32(n), h.f.sys.fail("write", h.path, err)
	}
	h.f.setSize(h.wf.Size())
	h.f.modified(h.wf)
	return uint32(n), 0
}

// Flush commits (close-to-open: when close() returns 0 the data is on the
// server). Idempotent: a second Flush with nothing new commits nothing.
func (h *writeHandle) Flush(ctx context.Context) syscall.Errno {
	if h.f.sys.deferFlush(h) {
		h.deferred.Store(true)
		return 0
	}
	h.deferred.Store(false)
	if errno, ok := h.f.sys.closeAsync(h); ok {
		return errno
	}
	return h.commit(ctx)
}

func (h *writeHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return h.commit(ctx)
}

func (h *writeHandle) commit(ctx context.Context) syscall.Errno {
	if !h.wf.Dirty() || h.wf.Orphaned() {
		return 0 // nothing new, or unlinked: a write after unlink reaches nothing on the server
	}
	if err := h.wf.Commit(ctx); err != nil {
		return h.f.sys.commitErrno(h.path, err)
	}
	h.f.committed(h.acct, h.wf)
	return 0
}

func (h *writeHandle) Release(ctx context.Context) syscall.Errno {
	if h.deferred.Load() {
		// The last FLUSH left the commit here (deferFlush); the kernel
		// ignores RELEASE's errors, so a failure is only logged (by the
		// commit) and kept in the journal.
		if _, ok := h.f.sys.closeAsync(h); !ok {
			_ = h.commit(ctx)
		}
	}
	if h.writer {
		h.f.mu.Lock()
		h.f.writers--
		h.f.mu.Unlock()
	}
	h.wf.Release()
	return 0
}

var _ = (gofs.FileAllocater)((*writeHandle)(nil))

// Allocate is fallocate(2). An object store reserves no space, so mode 0
// only grows the file to off+size (the new part reads as zeros and costs
// nothing until written) and FALLOC_FL_KEEP_SIZE changes nothing; punching
// holes and the other modes are EOPNOTSUPP.
func (h *writeHandle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	const keepSize = 0x01 // FALLOC_FL_KEEP_SIZE
	switch mode {
	case keepSize:
		return 0
	case 0:
	default:
		return syscall.EOPNOTSUPP
	}
	end := off + size
	if end < off || int64(end) < 0 {
		return syscall.EFBIG
	}
	if int64(end) <= h.wf.Size() {
		return 0
	}
	if err := h.wf.Grow(int64(end)); err != nil {
		return h.f.sys.fail("fallocate", h.path, err)
	}
	h.f.setSize(h.wf.Size())
	h.f.modified(h.wf)
	return 0
}
