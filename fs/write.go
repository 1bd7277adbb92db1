package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
)

// The write path: file nodes delegate dirty state and commits to one
// writeback.Manager per account (journal under Config.JournalDir/<account>).
// FLUSH and FSYNC commit; their errors reach close() and fsync().

var (
	_ = (fs.FileReader)((*writeHandle)(nil))
	_ = (fs.FileWriter)((*writeHandle)(nil))
	_ = (fs.FileFlusher)((*writeHandle)(nil))
	_ = (fs.FileFsyncer)((*writeHandle)(nil))
	_ = (fs.FileReleaser)((*writeHandle)(nil))
	_ = (fs.NodeSetattrer)((*fileNode)(nil))
)

// manager returns the account's writeback manager, creating it (and
// completing the commits a previous run left in its journal) on first use.
// Without a journal directory writes are refused (EROFS).
func (s *fsys) manager(ctx context.Context, acct *account) (*writeback.Manager, syscall.Errno) {
	if s.cfg.JournalDir == "" {
		return nil, syscall.EROFS
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.managers[acct.uuid]; m != nil {
		return m, 0
	}
	m, err := writeback.New(writeback.Config{Client: acct.client, JournalDir: filepath.Join(s.cfg.JournalDir, acct.uuid), EagerUploads: 2, StreamUploads: true,
		Cache: s.cache, Logger: s.log.Named("writeback"), IOTimeout: s.cfg.IOTimeout, OnCommit: func(container, name string, b writeback.Base) {
			s.listCommitted(acct, container, name, b)
		}})
	if err != nil {
		return nil, s.fail("journal", acct.uuid, err)
	}
	recovered, err := m.Recover(context.WithoutCancel(ctx))
	if err != nil {
		s.log.Warn("fs: recovering pending commits", zap.String("account", acct.uuid), zap.Error(err))
	}
	for _, r := range recovered {
		s.log.Info("fs: completed a commit left by a previous run", zap.String("path", r.Container+"/"+r.Name),
			zap.Bool("failed", r.Failed), zap.Error(r.Err))
	}
	s.managers[acct.uuid] = m
	return m, 0
}

// commitErrno maps a failed commit to the errno close()/fsync() return.
func (s *fsys) commitErrno(p string, err error) syscall.Errno {
	var qe *writeback.QuotaError
	var ce *writeback.ConflictError
	switch {
	case errors.As(err, &qe):
		return s.failAs("commit", p, err, syscall.EDQUOT) // Pithos' 413: the account's or container's quota
	case errors.As(err, &ce):
		return s.failAs("commit", p, err, syscall.EIO)
	}
	return s.failAs("commit", p, err, syscall.EIO)
}

// base describes the current version of an object for the write path.
func (f *fileNode) base(ctx context.Context, acct *account, container, name string) (writeback.Base, error) {
	caps, err := acct.client.Capabilities(ctx, container)
	if err != nil {
		return writeback.Base{}, err
	}
	if !caps.Hashmaps {
		info, err := acct.client.ObjectInfo(ctx, container, name, pithos.GetOptions{})
		if err != nil {
			return writeback.Base{}, err
		}
		return writeback.Base{Container: container, Name: name, ETag: info.ETag, Size: info.Bytes, BlockSize: swiftBlockSize,
			Swift: true, ContentType: info.ContentType, Meta: info.Meta}, nil
	}
	hm, info, err := acct.client.GetHashmap(ctx, container, name, pithos.GetOptions{})
	if err != nil {
		return writeback.Base{}, err
	}
	return writeback.Base{Container: container, Name: name, ETag: info.ETag, Version: info.Version, BlockSize: hm.BlockSize,
		BlockHash: hm.BlockHash, Hashes: hm.Hashes, Size: hm.Bytes, ContentType: info.ContentType, Meta: info.Meta}, nil
}

// blockReader reads clean blocks of a writeback file's base version through
// the block cache (nil on Swift: the writeback package reads by range).
func (s *fsys) blockReader(acct *account, wf **writeback.File) writeback.BlockReader {
	return func(ctx context.Context, index int64, hash string, size int) ([]byte, error) {
		b := (*wf).Base()
		fetch := func(ctx context.Context) ([]byte, error) {
			opts := pithos.GetOptions{Version: b.Version}
			if b.Version == 0 {
				opts.IfMatch = b.ETag
			}
			return acct.client.ReadRange(ctx, b.Container, b.Name, index*b.BlockSize, int64(size), b.Size, opts)
		}
		if hash == "" {
			return fetch(ctx)
		}
		return s.cache.Get(ctx, cache.HashKey(hash), size, fetch)
	}
}

// openWriteback opens the node's writeback file: the registered one when
// the object has unflushed changes, else a new one over the current
// version. The caller releases it.
func (f *fileNode) openWriteback(ctx context.Context, acct *account, container, name string) (*writeback.File, syscall.Errno) {
	p := acct.uuid + "/" + container + "/" + name
	m, errno := f.sys.manager(ctx, acct)
	if errno != 0 {
		return nil, errno
	}
	// The registered File (unflushed changes, or other handles), taken
	// atomically: a Lookup-then-Open could lose the File to a concurrent
	// last Release and open a placeholder as a new, empty file.
	wf := m.Acquire(container, name)
	if wf == nil {
		base, err := f.base(ctx, acct, container, name)
		if err != nil {
			return nil, f.sys.fail("open for writing", p, err)
		}
		var read writeback.BlockReader
		if !base.Swift {
			read = f.sys.blockReader(acct, &wf)
		}
		if wf, err = m.Open(base, read); err != nil {
			return nil, f.sys.fail("open for writing", p, err)
		}
	}
	f.mu.Lock()
	f.wrote = true
	local := f.pxLocal
	f.mu.Unlock()
	if local {
		f.syncMeta(wf)
	}
	return wf, 0
}

// pending returns the object's registered writeback file (unflushed or
// being written), or nil.
func (f *fileNode) pending() *writeback.File {
	f.mu.Lock()
	wrote := f.wrote
	f.mu.Unlock()
	if !wrote {
		return nil
	}
	acct, container, name, ok := f.where()
	if !ok {
		return nil
	}
	f.sys.mu.Lock()
	m := f.sys.managers[acct.uuid]
	f.sys.mu.Unlock()
	if m == nil {
		return nil
	}
	return m.Lookup(container, name)
}

// writeHandle is an open file whose reads and writes go through the
// writeback file shared by every handle of the object.
type writeHandle struct {
	f    *fileNode
	wf   *writeback.File
	acct *account
	path string
}

func (h *writeHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.wf.ReadAt(ctx, dest, off)
	if err != nil && n == 0 && !errors.Is(err, io.EOF) {
		if ctx.Err() != nil {
			return nil, syscall.EINTR
		}
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
	if h.f.sys.closeAsync(h) {
		return 0
	}
	return h.commit(ctx)
}

func (h *writeHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return h.commit(ctx)
}

func (h *writeHandle) commit(ctx context.Context) syscall.Errno {
	if !h.wf.Dirty() {
		return 0
	}
	if err := h.wf.Commit(ctx); err != nil {
		return h.f.sys.commitErrno(h.path, err)
	}
	h.f.committed(h.acct, h.wf)
	return 0
}

func (h *writeHandle) Release(ctx context.Context) syscall.Errno {
	h.wf.Release()
	return 0
}

// modified records a data change through wf: the mtime becomes now, and a
// file with stored attributes stores the new mtime with its next commit.
func (f *fileNode) modified(wf *writeback.File) {
	now := time.Now()
	f.mu.Lock()
	f.mtime = now
	stored := !f.px.isZero()
	if stored {
		f.px.mtime, f.pxLocal = now.UnixNano(), true
	}
	f.mu.Unlock()
	if stored {
		f.syncMeta(wf)
	}
}

// syncMeta gives wf's next commit the node's attributes (a commit replaces
// the object's content type and metadata).
func (f *fileNode) syncMeta(wf *writeback.File) {
	f.mu.Lock()
	p := f.px
	f.mu.Unlock()
	b := wf.Base()
	wf.SetMeta(withPosix(b.ContentType, p, defaultFileType), withPosixMeta(b.Meta, p))
}

// defaultFileType is the content type of files created through the mount.
const defaultFileType = "application/octet-stream"

// committed records a new version written by this mount.
func (f *fileNode) committed(acct *account, wf *writeback.File) {
	b := wf.Base()
	f.mu.Lock()
	f.size, f.etag, f.pagesETag, f.hm = wf.Size(), b.ETag, b.ETag, nil
	if !b.Swift && b.Hashes != nil {
		// The hashmap just committed: a reader's revalidation then gets
		// 304 instead of the whole hashmap again (a sparse terabyte's is
		// 262144 hashes; these share the commit's strings).
		f.hm = &pithos.Hashmap{BlockSize: b.BlockSize, BlockHash: b.BlockHash, Bytes: b.Size, Hashes: b.Hashes}
		f.hmETag = b.ETag
	}
	f.ctype, f.pxLocal = b.ContentType, false
	if b.Version > f.version {
		f.version = b.Version
	}
	f.mu.Unlock()
	f.sys.listCommitted(acct, b.Container, b.Name, b)
}

// listCommitted puts a version this mount committed into the cached
// listing: the next lookup in the directory (cp, tar and rsync create many
// files in a row) needs no new listing. Its uuid comes with the next real
// listing.
func (s *fsys) listCommitted(acct *account, container, name string, b writeback.Base) {
	s.lists.put(dirKeyOf(acct, container, name), lastSegment(name), pithos.ObjectInfo{
		Name: name, Bytes: b.Size, ContentType: b.ContentType, ETag: b.ETag, Hash: b.ETag,
		Version: b.Version, LastModified: time.Now(), Meta: b.Meta}, true)
}

func (f *fileNode) setSize(n int64) {
	f.mu.Lock()
	f.size = n
	f.mu.Unlock()
}

// Setattr truncates (through the handle's writeback file, or a commit of
// its own for truncate(2) on a path) and stores mode, owner and mtime
// (fs/meta.go): with the pending commit when the file has unflushed
// changes, else at once by a copy-to-self.
func (f *fileNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	cur, curMtime := f.px, f.mtime
	f.mu.Unlock()
	np, attrs := cur.update(in, curMtime, 0o644)
	attrs = attrs && np != cur // chmod to the mode it has: no new version
	if size, ok := in.GetSize(); ok {
		if h, isW := fh.(*writeHandle); isW {
			if err := h.wf.Truncate(ctx, int64(size)); err != nil {
				return f.sys.fail("truncate", h.path, err)
			}
			f.setSize(h.wf.Size())
			f.modified(h.wf)
		} else {
			acct, container, name, ok := f.where()
			if !ok {
				return syscall.ENOENT
			}
			wf, errno := f.openWriteback(ctx, acct, container, name)
			if errno != 0 {
				return errno
			}
			defer wf.Release()
			p := acct.uuid + "/" + container + "/" + name
			if err := wf.Truncate(ctx, int64(size)); err != nil {
				return f.sys.fail("truncate", p, err)
			}
			f.modified(wf)
			if attrs {
				f.mu.Lock()
				f.px, f.pxLocal, attrs = np, true, false
				f.mu.Unlock()
				f.syncMeta(wf)
			}
			if err := wf.Commit(ctx); err != nil {
				return f.sys.commitErrno(p, err)
			}
			f.committed(acct, wf)
		}
	}
	if attrs {
		if errno := f.setPosix(ctx, fh, np); errno != 0 {
			return errno
		}
	}
	f.fillAttr(&out.Attr)
	return 0
}

// setPosix stores new attributes: into the pending commit of a file with
// unflushed changes, else on the server now.
func (f *fileNode) setPosix(ctx context.Context, fh fs.FileHandle, p posix) syscall.Errno {
	var wf *writeback.File
	if h, ok := fh.(*writeHandle); ok {
		wf = h.wf
	} else {
		wf = f.pending()
	}
	if wf != nil && wf.Dirty() {
		f.mu.Lock()
		f.px, f.pxLocal = p, true
		f.mu.Unlock()
		f.syncMeta(wf)
		return 0
	}
	acct, container, name, ok := f.where()
	if !ok {
		return syscall.ENOENT
	}
	full := acct.uuid + "/" + container + "/" + name
	f.mu.Lock()
	ctype, etag := f.ctype, f.etag
	f.mu.Unlock()
	res, err := storeAttrs(ctx, acct, container, name, ctype, etag, p, nil, defaultFileType)
	if err == syscall.EAGAIN {
		// Changed behind the mount since it was listed: store over the
		// current version.
		info, herr := acct.client.ObjectInfo(ctx, container, name, pithos.GetOptions{})
		if herr != nil {
			return f.sys.fail("setattr", full, herr)
		}
		ctype, etag = info.ContentType, info.ETag
		res, err = storeAttrs(ctx, acct, container, name, ctype, etag, p, nil, defaultFileType)
	}
	if err != nil {
		return f.sys.fail("setattr", full, err)
	}
	f.mu.Lock()
	f.px, f.ctype = p, withPosix(ctype, p, defaultFileType)
	if res != nil && res.Version > f.version {
		f.version = res.Version
	}
	f.mu.Unlock()
	if wf != nil {
		f.syncMeta(wf)
	}
	// The listing learns the new attributes (they live in the content type)
	// without being fetched again.
	newType := withPosix(ctype, p, defaultFileType)
	base := lastSegment(name)
	f.sys.lists.update(dirKeyOf(acct, container, name), base, func(o *pithos.ObjectInfo) {
		o.ContentType = newType
		if res != nil && res.Version > o.Version {
			o.Version = res.Version
		}
	})
	return 0
}

// dirKeyOf is the directory holding object name.
func dirKeyOf(acct *account, container, name string) dirKey {
	return dirKey{account: acct.uuid, container: container, under: name[:strings.LastIndexByte(name, '/')+1]}
}

// lastSegment is an object name's last segment: its name in its directory.
func lastSegment(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// Create makes a new file: nothing reaches the server until its first
// FLUSH commits it (If-None-Match: *).
func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	raw, errno := newSegment(name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, nil, 0, syscall.ENOENT
	}
	m, errno := d.sys.manager(ctx, acct)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	p := k.under + raw
	full := k.String() + "/" + raw
	caps, err := acct.client.Capabilities(ctx, k.container)
	if err != nil {
		return nil, nil, 0, d.sys.fail("create", full, err)
	}
	var px posix
	if mode&0o7777 != 0o644 {
		px.mode, px.hasMode = mode&0o7777, true
	}
	base := writeback.Base{Container: k.container, Name: p, BlockSize: caps.BlockSize, BlockHash: caps.BlockHash,
		Swift: !caps.Hashmaps, ContentType: withPosix("", px, defaultFileType), Meta: withPosixMeta(nil, px)}
	if base.Swift || base.BlockSize <= 0 {
		base.BlockSize = swiftBlockSize
	}
	wf, err := m.Open(base, nil)
	if err != nil {
		return nil, nil, 0, d.sys.fail("create", full, err)
	}
	if wf.Size() > 0 || wf.Base().ETag != "" {
		// An object with unflushed changes under this name: O_CREAT opens it.
		if flags&syscall.O_EXCL != 0 {
			wf.Release()
			return nil, nil, 0, syscall.EEXIST
		}
		if flags&syscall.O_TRUNC != 0 {
			if err := wf.Truncate(ctx, 0); err != nil {
				wf.Release()
				return nil, nil, 0, d.sys.fail("create", full, err)
			}
		}
	}
	fn := &fileNode{sys: d.sys, wrote: true, size: wf.Size(), created: true, mtime: time.Now()}
	if b := wf.Base(); b.ETag == "" {
		fn.px, fn.ctype = px, b.ContentType
	}
	// A fresh number per creation: a path-based one would be the number of
	// an earlier file of that name, possibly still live under another name
	// after a rename (the kernel would then see one inode under two names
	// and skip a rename between them as a no-op).
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	ino := inoOf("created", acct.uuid, k.container, p, hex.EncodeToString(nonce[:]))
	ch := d.NewInode(ctx, fn, fs.StableAttr{Mode: fuse.S_IFREG, Ino: ino})
	fn.fillAttr(&out.Attr)
	out.Attr.Ino = ino
	// Nothing reached the server: the listing stays valid, and the pending
	// file shows in it through withPending until its commit puts it there.
	return ch, &writeHandle{f: fn, wf: wf, acct: acct, path: acct.uuid + "/" + full}, 0, 0
}

// managerIfAny returns the account's writeback manager if one was created.
func (s *fsys) managerIfAny(acct *account) *writeback.Manager {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.managers[acct.uuid]
}
