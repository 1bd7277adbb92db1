package fs

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
)

// Special files: fifos, sockets and character and block devices are empty
// objects whose content type names their kind (the freedesktop.org types
// inode/fifo, inode/socket, inode/chardevice, inode/blockdevice), with mode,
// owner, times and a device's number in the POSIX token (fs/meta.go), the
// way symlinks are objects of type inode/symlink. The kernel does what they
// do (a fifo's pipe, a socket's connections); the mount only keeps the node,
// so mkfifo, mknod and bind(2) work and the nodes survive a remount.

var specialTypes = []struct {
	ctype string
	mode  uint32
}{
	{"inode/fifo", syscall.S_IFIFO},
	{"inode/socket", syscall.S_IFSOCK},
	{"inode/chardevice", syscall.S_IFCHR},
	{"inode/blockdevice", syscall.S_IFBLK},
}

// specialMode is the file type (S_IFIFO…) of a listing entry that is a
// special file, else 0.
func specialMode(e pithos.DirEntry) uint32 {
	if e.IsDir || e.Object == nil {
		return 0
	}
	base, _ := splitType(e.Object.ContentType)
	for _, t := range specialTypes {
		if strings.EqualFold(base, t.ctype) {
			return t.mode
		}
	}
	return 0
}

func specialType(mode uint32) (string, bool) {
	for _, t := range specialTypes {
		if mode&syscall.S_IFMT == t.mode {
			return t.ctype, true
		}
	}
	return "", false
}

var (
	_ = (gofs.NodeGetattrer)((*specialNode)(nil))
	_ = (gofs.NodeSetattrer)((*specialNode)(nil))
	_ = (gofs.NodeMknoder)((*dirNode)(nil))
)

// specialNode is a fifo, socket or device node.
type specialNode struct {
	gofs.Inode
	sys *fsys

	mu    sync.Mutex
	mtime time.Time // Last-Modified: the ctime, and the mtime unless px has one
	etag  string
	ctype string
	px    posix
}

func (n *specialNode) refresh(o *pithos.ObjectInfo) {
	if o == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mtime, n.etag, n.ctype, n.px = o.LastModified, o.ETag, o.ContentType, posixOf(o)
}

func (n *specialNode) fillAttr(out *fuse.Attr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out.Mode = n.StableAttr().Mode | 0o644
	out.Ino = n.StableAttr().Ino
	out.Nlink = 1
	out.Size = 0
	out.Owner = fuse.Owner{Uid: n.sys.cfg.UID, Gid: n.sys.cfg.GID}
	setTimes(out, n.mtime)
	n.px.apply(out)
}

func (n *specialNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fillAttr(&out.Attr)
	return 0
}

// Setattr stores mode, owner and times (copy-to-self). A size is refused:
// a special file has no content here.
func (n *specialNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if _, ok := in.GetSize(); ok {
		return syscall.EINVAL
	}
	n.mu.Lock()
	cur, mt, ctype, etag := n.px, n.mtime, n.ctype, n.etag
	n.mu.Unlock()
	np, changed := cur.update(in, mt, 0o644)
	if changed && np != cur {
		acct, container, name, ok := childWhere(&n.Inode, "")
		if !ok {
			return syscall.ENOENT
		}
		base, _ := splitType(ctype)
		if _, err := storeAttrs(ctx, acct, container, name, ctype, etag, np, nil, base); err != nil {
			return n.sys.fail("setattr", acct.uuid+"/"+container+"/"+name, err)
		}
		n.mu.Lock()
		n.px, n.ctype, n.mtime = np, withPosix(ctype, np, base), time.Now()
		n.mu.Unlock()
		n.sys.lists.invalidate(dirKeyOf(acct, container, name))
	}
	n.fillAttr(&out.Attr)
	return 0
}

// Mknod creates a fifo, socket or device node as an empty object of its
// kind's type (If-None-Match: *), or an empty regular file.
func (d *dirNode) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctype, ok := specialType(mode)
	switch {
	case mode&syscall.S_IFMT == syscall.S_IFREG:
		ctype = defaultFileType
	case !ok:
		return nil, syscall.EINVAL
	}
	raw, errno := newSegment(name)
	if errno != 0 {
		return nil, errno
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, syscall.ENOENT
	}
	px := d.newPosix(ctx, mode, 0o644, false)
	if mode&syscall.S_IFMT == syscall.S_IFCHR || mode&syscall.S_IFMT == syscall.S_IFBLK {
		px.rdev = dev
	}
	e, errno := d.putNewEntry(ctx, acct, k, raw, "mknod", "", pithos.PutOptions{ContentType: withPosix(ctype, px, ctype),
		Meta: withPosixMeta(nil, px)})
	if errno != 0 {
		return nil, errno
	}
	return d.sys.child(ctx, &d.Inode, acct, k, e, out), 0
}
