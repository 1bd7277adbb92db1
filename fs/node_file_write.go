// A file's write path: the write-back manager per account, opening a file's pending state, truncate and chmod.

package fs

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/errmap"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/internal/zapslog"
	"github.com/pithosfs/pithosfs/pithos"
)

// The write path: file nodes delegate dirty state and commits to one
// writeback.Manager per account (journal under Config.JournalDir/<account>).
// FLUSH and FSYNC commit; their errors reach close() and fsync().

var (
	_ = (gofs.FileReader)((*writeHandle)(nil))
	_ = (gofs.FileWriter)((*writeHandle)(nil))
	_ = (gofs.FileFlusher)((*writeHandle)(nil))
	_ = (gofs.FileFsyncer)((*writeHandle)(nil))
	_ = (gofs.FileReleaser)((*writeHandle)(nil))
	_ = (gofs.NodeSetattrer)((*fileNode)(nil))
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
		Cache: s.cache, Logger: zapslog.New(s.log.Named("writeback")), IOTimeout: s.cfg.IOTimeout, OnCommit: func(container, name string, b writeback.Base) {
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

// commitErrno maps a failed commit to the errno close()/fsync() return
// (errmap.Commit: EDQUOT for quota, else EIO) and logs it.
func (s *fsys) commitErrno(p string, err error) syscall.Errno {
	return s.failAs("commit", p, err, errmap.Commit(err))
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
	s.hist.Changed()
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
func (f *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
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
			f.mu.Lock()
			openTrunc := size == 0 && f.writers > 0
			f.mu.Unlock()
			if openTrunc {
				// open(O_TRUNC): go-fuse does not offer ATOMIC_O_TRUNC, so
				// the kernel truncates by path right after the open. The
				// writer's close commits it with the new data: committing
				// here would make an empty version of every overwrite.
				return f.fillAttrOK(out)
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
	return f.fillAttrOK(out)
}

func (f *fileNode) fillAttrOK(out *fuse.AttrOut) syscall.Errno {
	f.fillAttr(&out.Attr)
	return 0
}

// setPosix stores new attributes: into the pending commit of a file with
// unflushed changes, else on the server now.
func (f *fileNode) setPosix(ctx context.Context, fh gofs.FileHandle, p posix) syscall.Errno {
	var wf *writeback.File
	if h, ok := fh.(*writeHandle); ok {
		wf = h.wf
	} else {
		wf = f.pending()
	}
	f.mu.Lock()
	gone := f.gone
	if gone || (wf != nil && wf.Dirty()) {
		// With the pending commit; a file with no name left keeps them
		// in memory until its last close.
		f.px, f.pxLocal, f.mtime = p, true, time.Now()
	}
	f.mu.Unlock()
	if gone {
		return 0
	}
	if wf != nil && wf.Dirty() {
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
	now := time.Now()
	f.mu.Lock()
	f.px, f.ctype, f.mtime = p, withPosix(ctype, p, defaultFileType), now // mtime: the ctime (fileNode)
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
		o.ContentType, o.LastModified = newType, now
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

// managerIfAny returns the account's writeback manager if one was created.
func (s *fsys) managerIfAny(acct *account) *writeback.Manager {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.managers[acct.uuid]
}
