// The file node: attributes from the listing or a HEAD, and Open (read, write-back or passthrough handle).

package fs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos"
)

// swiftBlockSize is the block size used to cache plain Swift objects, which
// have no hashmaps: blocks are fetched by range and keyed by (object, ETag,
// index).
const swiftBlockSize = 4 << 20

// fileNode is an object. Its attributes come from listings (no HEAD per
// entry) and from the hashmap fetched at each open.
type fileNode struct {
	gofs.Inode
	sys *fsys

	mu   sync.Mutex
	size int64
	// mtime is Last-Modified, or the time of a change waiting for its
	// commit: the ctime, and the mtime unless px has one.
	mtime   time.Time
	etag    string
	version int64
	// hm is the hashmap of the last open (Pithos+), revalidated by ETag at
	// the next; pagesETag is the ETag the kernel page cache was filled from.
	hm        *pithos.Hashmap
	hmETag    string
	pagesETag string
	// writers counts the handles open for writing (see Setattr).
	writers int
	// wrote is set once the file was opened for writing by this mount: its
	// size may then come from an unflushed writeback file.
	wrote bool
	// Write side (fs/write.go, fs/meta.go): the stored POSIX attributes and
	// content type; pxLocal while a change of them waits for a commit (a
	// listing must not undo it); created for a file created by this mount
	// (its inode number is kept after its first commit).
	px      posix
	ctype   string
	pxLocal bool
	created bool
	// gone is set when the file lost its name (unlinked or renamed over)
	// while the kernel still knows it: nlink 0, its handles read the
	// version they opened, and attribute changes stay in memory.
	gone bool
	// ptOpen counts the open passthrough handles, all reading object file
	// ptID (fs/passthrough.go).
	ptOpen int
	ptID   string
	// pagesByDaemon is set while the kernel's page cache of this version
	// was last filled by READs the daemon served (not by passthrough, not
	// O_DIRECT): the next open keeps those pages instead of passthrough
	// (fileNode.openPassthrough).
	pagesByDaemon atomic.Bool
}

var (
	_ = (gofs.NodeGetattrer)((*fileNode)(nil))
	_ = (gofs.NodeOpener)((*fileNode)(nil))
	_ = (gofs.NodeStatfser)((*fileNode)(nil))
	_ = (gofs.FileReader)((*fileHandle)(nil))
	_ = (gofs.FileReleaser)((*fileHandle)(nil))
	_ = (gofs.FileFsyncer)((*fileHandle)(nil))
)

// refresh takes attributes from a listing entry unless the node already
// knows a newer version (from an open).
func (f *fileNode) refresh(o *pithos.ObjectInfo) {
	if o == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.Version != 0 && o.Version < f.version {
		return
	}
	prev := f.mtime
	f.size, f.mtime, f.etag, f.version = o.Bytes, o.LastModified, o.ETag, o.Version
	if o.LastModified.IsZero() && !prev.IsZero() {
		f.mtime = prev // an unflushed new file (fs/dir.go withPending)
	}
	if !f.pxLocal {
		f.px, f.ctype = posixOf(o), o.ContentType
	}
}

func (f *fileNode) isCreated() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created
}

func (f *fileNode) fillAttr(out *fuse.Attr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out.Mode = fuse.S_IFREG | 0o644
	out.Ino = f.StableAttr().Ino
	out.Nlink = 1
	if f.gone {
		out.Nlink = 0
	}
	out.Size = uint64(f.size)
	out.Blocks = (uint64(f.size) + 511) / 512
	out.Blksize = 1 << 20
	out.Owner = fuse.Owner{Uid: f.sys.cfg.UID, Gid: f.sys.cfg.GID}
	setTimes(out, f.mtime)
	f.px.apply(out)
}

func (f *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*writeHandle); ok {
		f.setSize(h.wf.Size())
	} else if wf := f.pending(); wf != nil {
		f.setSize(wf.Size())
	}
	f.fillAttr(&out.Attr)
	return 0
}

func (f *fileNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return f.sys.statfs(ctx, out)
}

// where returns the object's account, container and name.
func (f *fileNode) where() (acct *account, container, name string, ok bool) {
	return childWhere(&f.Inode, "")
}

// childWhere returns the account, container and object name of a node
// inside a directory: its name in the tree plus suffix, below the
// directory's prefix.
func childWhere(in *gofs.Inode, suffix string) (acct *account, container, name string, ok bool) {
	n, parent := in.Parent()
	if parent == nil {
		return nil, "", "", false
	}
	d, isDir := parent.Operations().(*dirNode)
	if !isDir {
		return nil, "", "", false
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, "", "", false
	}
	raw, ok := d.sys.rawName(n)
	if !ok {
		return nil, "", "", false
	}
	return acct, k.container, k.under + raw + suffix, true
}

// Open revalidates the object (close-to-open consistency): the hashmap is
// fetched again unless the server says it is unchanged (If-None-Match →
// 304). An unchanged file keeps the kernel's page cache (FOPEN_KEEP_CACHE);
// a changed one starts afresh.
func (f *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	acct, container, name, ok := f.where()
	if !ok {
		return nil, 0, syscall.ENOENT
	}
	path := acct.uuid + "/" + container + "/" + name
	f.sys.stats.opens.Add(1)
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 || f.pending() != nil {
		// Writers, and readers of a file with unflushed writes, share the
		// object's writeback file.
		wf, errno := f.openWriteback(ctx, acct, container, name)
		if errno != 0 {
			return nil, 0, errno
		}
		if flags&syscall.O_TRUNC != 0 && flags&syscall.O_ACCMODE != syscall.O_RDONLY {
			if err := wf.Truncate(ctx, 0); err != nil {
				wf.Release()
				return nil, 0, f.sys.fail("open", path, err)
			}
		}
		f.setSize(wf.Size())
		h := &writeHandle{f: f, wf: wf, acct: acct, path: path}
		if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
			h.writer = true
			f.mu.Lock()
			f.writers++
			f.mu.Unlock()
		}
		return h, 0, 0
	}
	caps, err := acct.client.Capabilities(ctx, container)
	if err != nil {
		return nil, 0, f.sys.fail("open", path, err)
	}
	h := &fileHandle{f: f, acct: acct, container: container, name: name, path: path, direct: flags&syscall.O_DIRECT != 0}
	if caps.Hashmaps {
		err = h.loadHashmap(ctx)
	} else {
		err = h.loadSwift(ctx)
	}
	if errors.Is(err, errNotRegular) {
		return nil, 0, syscall.ENOENT
	}
	if err != nil {
		return nil, 0, f.sys.fail("open", path, err)
	}
	f.mu.Lock()
	keep := f.pagesETag == h.etag
	f.pagesETag = h.etag
	if h.etag != f.etag && !h.mtime.IsZero() {
		// Changed behind the mount. (An unchanged object keeps the listing's
		// finer mtime: a changed mtime makes the kernel drop cached pages.)
		f.mtime = h.mtime
	}
	if !keep {
		f.pagesByDaemon.Store(false) // the kernel drops the pages of another version
	}
	f.size, f.etag = h.size, h.etag
	if h.version > f.version {
		f.version = h.version
	}
	f.mu.Unlock()
	h.ra = cache.NewReadahead(f.sys.cfg.Readahead)
	h.pf = f.sys.cache.NewPrefetcher(context.Background())
	var flagsOut uint32
	if keep {
		flagsOut |= fuse.FOPEN_KEEP_CACHE
		f.sys.stats.kept.Add(1)
	}
	if pt := f.openPassthrough(h, flags, keep); pt != nil {
		return pt, flagsOut, 0
	}
	return h, flagsOut, 0
}
