package fs

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
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
	_ = (fs.NodeReadlinker)((*symlinkNode)(nil))
	_ = (fs.NodeGetattrer)((*symlinkNode)(nil))
	_ = (fs.NodeSetattrer)((*symlinkNode)(nil))
	_ = (fs.NodeSymlinker)((*dirNode)(nil))
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
	fs.Inode
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

func (l *symlinkNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
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
func (l *symlinkNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
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
		l.px, l.ctype = np, withPosix(ctype, np, symlinkType)
		l.mu.Unlock()
		l.sys.lists.invalidate(dirKeyOf(acct, container, name))
	}
	l.fillAttr(&out.Attr)
	return 0
}

// Symlink creates a symlink object (If-None-Match: *: never over an
// existing name).
func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if len(target) > maxSymlinkTarget {
		return nil, syscall.ENAMETOOLONG
	}
	raw, errno := newSegment(name)
	if errno != 0 {
		return nil, errno
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, syscall.ENOENT
	}
	p := k.under + raw
	full := k.String() + "/" + raw
	opts := pithos.PutOptions{ContentType: symlinkType, Conditions: pithos.Conditions{IfNoneMatch: "*"}}
	if len(target) <= 256 && !strings.Contains(target, "~") {
		opts.Meta = map[string]string{symlinkMetaKey: target}
	}
	_, err := acct.client.PutObject(ctx, k.container, p, strings.NewReader(target), int64(len(target)), opts)
	d.sys.lists.invalidate(k)
	if err != nil {
		if synnefo.StatusOf(err) == http.StatusPreconditionFailed {
			return nil, syscall.EEXIST
		}
		return nil, d.sys.fail("symlink", full, err)
	}
	_, _, l, errno := d.listing(ctx, d.sys.cfg.ListTTL)
	if errno != 0 {
		return nil, errno
	}
	e, ok := l.find(raw)
	if !ok {
		return nil, syscall.ENOENT
	}
	ch := d.sys.child(ctx, &d.Inode, acct, k, e, out)
	if l, ok := ch.Operations().(*symlinkNode); ok {
		l.mu.Lock()
		l.target, l.known = target, true
		l.mu.Unlock()
	}
	return ch, 0
}
