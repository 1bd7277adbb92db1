// Symlinks, stored as metadata objects (pithosfs' own and rclone's .rclonelink form).

package fs

import (
	"context"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
)

// Symbolic links. A symlink is an object of type inode/symlink whose content
// is the target (so any client can read it), with the target also in the
// user-meta key Symlink-Target when it fits a header value (≤ 256 bytes, no
// "~", which Pithos drops) — SVFS's convention. rclone's symlinks, objects
// named NAME.rclonelink holding the target, read as symlinks named NAME.

const (
	symlinkType      = "inode/symlink"
	rcloneLinkSuffix = ".rclonelink"
	symlinkMetaKey   = "Symlink-Target"
	maxSymlinkTarget = 4096
)

var (
	_ = (gofs.NodeReadlinker)((*symlinkNode)(nil))
	_ = (gofs.NodeGetattrer)((*symlinkNode)(nil))
	_ = (gofs.NodeSetattrer)((*symlinkNode)(nil))
	_ = (gofs.NodeSymlinker)((*dirNode)(nil))
)

func isRcloneLink(e pithos.DirEntry) bool {
	return !e.IsDir && e.Object != nil && len(e.Name) > len(rcloneLinkSuffix) && strings.HasSuffix(e.Name, rcloneLinkSuffix)
}

// isSymlinkEntry reports whether a listing entry is a symlink.
func isSymlinkEntry(e pithos.DirEntry) bool {
	if e.IsDir || e.Object == nil {
		return false
	}
	base, _ := splitType(e.Object.ContentType)
	return strings.EqualFold(base, symlinkType) || isRcloneLink(e)
}

// baseName is the segment an entry stands for: its name, without the
// suffix of an rclone symlink.
func baseName(e pithos.DirEntry) string {
	if isRcloneLink(e) {
		return strings.TrimSuffix(e.Name, rcloneLinkSuffix)
	}
	return e.Name
}

// displayName is the name an entry shows in the mount: its baseName,
// escaped where no file name can carry it (fs/names.go).
func displayName(e pithos.DirEntry) string {
	return encodeName(baseName(e))
}

// findEntry finds the entry a name the mount shows stands for: the object
// or directory of that name, else an rclone symlink NAME.rclonelink.
func findEntry(l *listing, name string) (pithos.DirEntry, bool) {
	raw, kind := decodeName(name)
	switch kind {
	case nameExact:
		if e, ok := l.find(raw); ok {
			return e, true
		}
		if e, ok := l.find(raw + rcloneLinkSuffix); ok && isRcloneLink(e) {
			return e, true
		}
	case nameHashed:
		for _, e := range l.all() {
			if len(escapeMark)+3*len(baseName(e)) > nameMax && displayName(e) == name { // else never shortened
				return e, true
			}
		}
	}
	return pithos.DirEntry{}, false
}

// objectName is the object an entry stands for under segment name.
func objectName(e pithos.DirEntry, name string) string {
	if isRcloneLink(e) {
		return name + rcloneLinkSuffix
	}
	return name
}

// symlinkNode is a symbolic link; its target is read once and cached.
type symlinkNode struct {
	gofs.Inode
	sys    *fsys
	rclone bool // stored as NAME.rclonelink

	mu      sync.Mutex
	target  string
	known   bool
	size    int64
	mtime   time.Time
	etag    string
	version int64
	ctype   string
	px      posix
}

func (l *symlinkNode) refresh(o *pithos.ObjectInfo) {
	if o == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if o.ETag != l.etag {
		l.known = false
	}
	l.size, l.mtime, l.etag, l.version, l.ctype = o.Bytes, o.LastModified, o.ETag, o.Version, o.ContentType
	l.px = posixOf(o)
}

func (l *symlinkNode) fillAttr(out *fuse.Attr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out.Mode = fuse.S_IFLNK | 0o777
	out.Ino = l.StableAttr().Ino
	out.Nlink = 1
	out.Size = uint64(l.size)
	if l.known {
		out.Size = uint64(len(l.target))
	}
	out.Owner = fuse.Owner{Uid: l.sys.cfg.UID, Gid: l.sys.cfg.GID}
	setTimes(out, l.mtime)
	p := l.px
	p.hasMode = false // a symlink's mode is always 0777
	p.apply(out)
}

// where returns the link's account, container and object name.
func (l *symlinkNode) where() (acct *account, container, name string, ok bool) {
	if l.rclone {
		return childWhere(&l.Inode, rcloneLinkSuffix)
	}
	return childWhere(&l.Inode, "")
}

func (l *symlinkNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	l.fillAttr(&out.Attr)
	return 0
}

// Readlink reads the target: the object's content (one GET, then cached
// until the object changes).
func (l *symlinkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	l.mu.Lock()
	if l.known {
		t := l.target
		l.mu.Unlock()
		return []byte(t), 0
	}
	l.mu.Unlock()
	acct, container, name, ok := l.where()
	if !ok {
		return nil, syscall.ENOENT
	}
	o, err := acct.client.GetObject(ctx, container, name, pithos.GetOptions{})
	if err != nil {
		return nil, l.sys.fail("readlink", acct.uuid+"/"+container+"/"+name, err)
	}
	defer o.Body.Close()
	data, err := io.ReadAll(io.LimitReader(o.Body, maxSymlinkTarget+1))
	if err != nil {
		return nil, l.sys.fail("readlink", acct.uuid+"/"+container+"/"+name, err)
	}
	target := string(data)
	if target == "" {
		if v, ok := metaKey(o.Info.Meta, symlinkMetaKey); ok {
			target = v
		}
	}
	if len(target) > maxSymlinkTarget {
		return nil, syscall.ENAMETOOLONG
	}
	l.mu.Lock()
	l.target, l.known = target, true
	l.mu.Unlock()
	return []byte(target), 0
}

// Setattr stores owner and mtime (a symlink's mode is fixed).
func (l *symlinkNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	l.mu.Lock()
	cur, mt, ctype, etag := l.px, l.mtime, l.ctype, l.etag
	l.mu.Unlock()
	np, changed := cur.update(in, mt, 0o777)
	np.hasMode = false
	if changed && np != cur {
		acct, container, name, ok := l.where()
		if !ok {
			return syscall.ENOENT
		}
		if _, err := storeAttrs(ctx, acct, container, name, ctype, etag, np, nil, symlinkType); err != nil {
			return l.sys.fail("setattr", acct.uuid+"/"+container+"/"+name, err)
		}
		l.mu.Lock()
		l.px, l.ctype, l.mtime = np, withPosix(ctype, np, symlinkType), time.Now() // mtime: the ctime (Last-Modified)
		l.mu.Unlock()
		l.sys.lists.invalidate(dirKeyOf(acct, container, name))
	}
	l.fillAttr(&out.Attr)
	return 0
}
