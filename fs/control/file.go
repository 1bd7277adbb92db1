package control

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/pithos"
)

// fileNode is one resource's JSON file (or a new one being written).
type fileNode struct {
	gofs.Inode
	dir  *dirNode
	name string
	mine bool

	mu       sync.Mutex
	id       string // "" until a new file's resource is created
	size     uint64
	sizeTime time.Time
}

var (
	_ gofs.NodeOpener    = (*fileNode)(nil)
	_ gofs.NodeGetattrer = (*fileNode)(nil)
	_ gofs.NodeSetattrer = (*fileNode)(nil)
)

func (n *fileNode) getID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// fillAttr sets mode and size; the size is the length of the rendered
// document, at most a TTL old (reads use direct I/O, so it is advisory).
func (n *fileNode) fillAttr(ctx context.Context, out *fuse.Attr) {
	out.Nlink = 1
	out.Mode = fuse.S_IFREG | 0o444
	if n.mine {
		out.Mode = fuse.S_IFREG | 0o644
	}
	id := n.getID()
	if id == "" {
		return
	}
	n.mu.Lock()
	fresh := time.Since(n.sizeTime) < n.dir.cfg.TTL
	size := n.size
	n.mu.Unlock()
	if !fresh {
		// Not retried when no server is there: the size is advisory, the last one serves.
		if doc, err := n.dir.kind.render(pithos.FailFast(ctx), id); err == nil {
			size = uint64(len(doc))
			n.mu.Lock()
			n.size, n.sizeTime = size, time.Now()
			n.mu.Unlock()
		}
	}
	out.Size = size
	now := time.Now()
	out.SetTimes(nil, &now, nil)
}

func (n *fileNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fillAttr(ctx, &out.Attr)
	out.SetTimeout(n.dir.cfg.TTL)
	return 0
}

// Setattr accepts truncation to zero (O_TRUNC, ">") and time changes;
// a mode or owner change (chmod, chown) is EPERM: a control file has none
// to store.
func (n *fileNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if changesOwnerOrMode(in) {
		return syscall.EPERM
	}
	if sz, ok := in.GetSize(); ok {
		if sz != 0 {
			return syscall.EINVAL
		}
		if h, ok := f.(*handle); ok {
			h.mu.Lock()
			h.buf = h.buf[:0]
			h.mu.Unlock()
		}
	}
	n.fillAttr(ctx, &out.Attr)
	return 0
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	h := &handle{node: n}
	if flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0 {
		if !n.mine {
			return nil, 0, syscall.EACCES
		}
		return h, fuse.FOPEN_DIRECT_IO, 0
	}
	id := n.getID()
	if id == "" {
		return nil, 0, syscall.ENOENT
	}
	// A document is live state, never served stale: with no server there, EIO at once.
	doc, err := n.dir.render(pithos.FailFast(ctx), id)
	if err != nil {
		return nil, 0, n.dir.fail("read", n.name, err)
	}
	h.content = doc
	return h, fuse.FOPEN_DIRECT_IO, 0
}

// render returns a resource's document, with a server's admin password the
// first time after its creation.
func (d *dirNode) render(ctx context.Context, id string) ([]byte, error) {
	doc, err := d.kind.render(ctx, id)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	pass, ok := d.adminPass[id]
	delete(d.adminPass, id)
	d.mu.Unlock()
	if ok {
		doc = withAdminPass(doc, pass)
	}
	return doc, nil
}

// handle is an open control file: the document read at open, or the bytes
// being written, applied at the first flush.
type handle struct {
	node    *fileNode
	content []byte

	mu      sync.Mutex
	buf     []byte
	written bool
	// fresh is set on the handle that created a new file until something is
	// written to it: closing it with nothing written is an empty document.
	fresh bool
}

var (
	_ gofs.FileReader   = (*handle)(nil)
	_ gofs.FileWriter   = (*handle)(nil)
	_ gofs.FileFlusher  = (*handle)(nil)
	_ gofs.FileReleaser = (*handle)(nil)
)

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return fixed.ReadAt(h.content, dest, off), 0
}

// maxDocument bounds a control document (a spec, an action): the largest a
// user can mean (a server's five 10 KiB personality files, escaped) is far
// below it, and a write past it would otherwise hold any amount of memory
// (or, at a huge offset, ask the runtime for it at once and end the mount).
const maxDocument = 1 << 20

// Write buffers the document. Once it parses as complete JSON it is
// validated, so a bad spec fails at write() (EINVAL) before anything is
// created; a malformed document fails as soon as it cannot be a prefix of
// valid JSON, one longer than maxDocument with EFBIG. The lookups a check
// makes (a flavor, an image) are not retried when the cloud is not there:
// write() fails at once with EIO.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if h.node == nil {
		return 0, syscall.EBADF
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if off < 0 || off+int64(len(data)) > maxDocument {
		h.buf, h.written, h.fresh = nil, false, false
		return 0, h.node.dir.fail("write", h.node.name, &userError{errno: syscall.EFBIG,
			msg: fmt.Sprintf("a control document is at most %d bytes: nothing was applied", maxDocument)})
	}
	if off > int64(len(h.buf)) {
		h.buf = append(h.buf, make([]byte, off-int64(len(h.buf)))...)
	}
	end := off + int64(len(data))
	if end > int64(len(h.buf)) {
		h.buf = append(h.buf, make([]byte, end-int64(len(h.buf)))...)
	}
	copy(h.buf[off:], data)
	h.written, h.fresh = true, false
	n := h.node
	if err := n.dir.kind.check(pithos.FailFast(ctx), n.name, n.getID(), h.buf); err != nil {
		h.buf, h.written = nil, false
		return 0, n.dir.fail("write", n.name, err)
	}
	return uint32(len(data)), 0
}

// Flush applies what was written: creates the resource for a new file, or
// updates the existing one. Later flushes of the same handle (dup'ed
// descriptors) have nothing left to do. When no server is there to answer
// (fault.ErrUnreachable) nothing is retried: close() fails at once with EIO
// and .last-error says nothing was sent (applyCtx).
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	if h.node == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.written {
		if h.fresh && h.node.getID() == "" {
			// close() of an empty new file. A shell's redirection also closes
			// a duplicate before the command writes, so this is no failure yet
			// (Release records it in .last-error if nothing is ever written).
			return syscall.EINVAL
		}
		return 0
	}
	data := h.buf
	h.buf, h.written = nil, false
	n := h.node
	d := n.dir
	ctx = applyCtx(ctx)
	if complete, err := decodeStrict(data, new(any)); err != nil || !complete {
		switch {
		case err != nil:
		case len(bytes.TrimSpace(data)) == 0:
			err = invalid("empty document (only white space): nothing was applied")
		default:
			err = invalid("incomplete JSON document")
		}
		return d.fail("write", n.name, err)
	}
	if id := n.getID(); id != "" {
		if err := d.kind.update(ctx, id, data); err != nil {
			return d.fail("update", n.name, err)
		}
		n.mu.Lock()
		n.sizeTime = time.Time{}
		n.mu.Unlock()
		d.invalidate()
		return 0
	}
	id, pass, err := d.kind.create(ctx, n.name, data)
	if err != nil {
		return d.fail("create", n.name, err)
	}
	n.mu.Lock()
	n.id = id
	n.mu.Unlock()
	d.mu.Lock()
	if pass != "" {
		d.adminPass[id] = pass
	}
	d.outdated = true
	d.mu.Unlock()
	return 0
}

// Release of a new file to which nothing was ever written records the
// empty document in .last-error (its close() got EINVAL): nothing was
// created.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	if h.node == nil {
		return 0
	}
	h.mu.Lock()
	empty := h.fresh && h.node.getID() == ""
	h.fresh = false
	h.mu.Unlock()
	if empty {
		h.node.dir.fail("create", h.node.name, invalid("empty document: nothing was created (write a JSON object)"))
	}
	return 0
}

// upload is a non-JSON file being copied into images/: spooled to a temp
// file, uploaded and registered at the first flush after writes.
type upload struct {
	gofs.Inode
	dir  *dirNode
	name string

	mu      sync.Mutex
	tmp     *os.File
	size    int64
	written bool
	done    bool
}

var (
	_ gofs.FileWriter    = (*upload)(nil)
	_ gofs.FileFlusher   = (*upload)(nil)
	_ gofs.FileReleaser  = (*upload)(nil)
	_ gofs.NodeGetattrer = (*upload)(nil)
	_ gofs.NodeSetattrer = (*upload)(nil)
)

func newUpload(d *dirNode, name string) (*upload, error) {
	tmp, err := os.CreateTemp(d.cfg.TempDir, "image-upload-*")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name()) // unlinked: gone with the handle, whatever happens
	return &upload{dir: d, name: name, tmp: tmp}, nil
}

func (u *upload) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	u.mu.Lock()
	defer u.mu.Unlock()
	out.Mode = fuse.S_IFREG | 0o644
	out.Nlink = 1
	out.Size = uint64(u.size)
	return 0
}

func (u *upload) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	u.mu.Lock()
	defer u.mu.Unlock()
	if sz, ok := in.GetSize(); ok {
		if err := u.tmp.Truncate(int64(sz)); err != nil {
			return syscall.EIO
		}
		u.size = int64(sz)
		u.written = true
	}
	out.Mode = fuse.S_IFREG | 0o644
	out.Size = uint64(u.size)
	return 0
}

func (u *upload) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, syscall.EBADF
	}
	n, err := u.tmp.WriteAt(data, off)
	if err != nil {
		return uint32(n), gofs.ToErrno(err)
	}
	u.size = max(u.size, off+int64(n))
	u.written = true
	return uint32(n), 0
}

func (u *upload) Flush(ctx context.Context) syscall.Errno {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0
	}
	if !u.written || u.size == 0 {
		return syscall.EINVAL // an empty image; Release records it
	}
	u.done = true
	ctx = applyCtx(ctx)
	if _, err := u.dir.kind.uploadAndRegister(ctx, u.name, u.tmp, u.size); err != nil {
		return u.dir.fail("upload", u.name, err)
	}
	u.dir.invalidate()
	return 0
}

// Release drops the spool file; an upload to which nothing was written
// is recorded in .last-error (its close() got EINVAL).
func (u *upload) Release(ctx context.Context) syscall.Errno {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.tmp.Close()
	if !u.done {
		u.done = true
		u.dir.fail("upload", u.name, invalid("empty file: nothing to upload"))
	}
	return 0
}
