// The directory node (a container or a prefix in it): attributes, statfs, and chmod/utimes on its marker.

package fs

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// topDir is where a container root (or the root of a mount of a prefix)
// sits in the object store. Directories below it find their own prefix by
// walking up the tree, so a renamed directory's descendants follow it.
type topDir struct {
	acct      *account
	container string
	under     string // "" or "PREFIX/" (dirKey)
}

// dirNode is a directory: a container root or a "/" level inside one,
// whether it exists as a marker object, only implicitly, or both.
type dirNode struct {
	gofs.Inode
	sys *fsys
	top *topDir // set on container roots and the root of a subtree mount

	mu    sync.Mutex
	mtime time.Time // the marker's Last-Modified: its last change (ctime)
	px    posix     // stored attributes of the marker (fs/meta.go)
	// changed is when this mount last created, removed or renamed an entry
	// in the directory: its mtime and ctime from then on, kept in the mount
	// only (docs/semantics.md), until an explicit utimes sets the mtime.
	changed time.Time
	// subdirs counts the subdirectories (nlink is 2 plus that), as of the
	// directory's last listing and this mount's mkdir, rmdir and rename
	// since; 0 until it was listed.
	subdirs int
}

var (
	_ = (gofs.NodeLookuper)((*dirNode)(nil))
	_ = (gofs.NodeOpendirHandler)((*dirNode)(nil))
	_ = (gofs.NodeGetattrer)((*dirNode)(nil))
	_ = (gofs.NodeStatfser)((*dirNode)(nil))
	_ = (gofs.FileReaddirenter)((*dirHandle)(nil))
	_ = (gofs.FileLookuper)((*dirHandle)(nil))
	_ = (gofs.FileSeekdirer)((*dirHandle)(nil))
)

// where returns the directory's account and location. ok is false when the
// node is no longer in the tree (removed meanwhile).
func (d *dirNode) where() (acct *account, k dirKey, ok bool) {
	if d.top != nil {
		return d.top.acct, dirKey{account: d.top.acct.uuid, container: d.top.container, under: d.top.under}, true
	}
	name, parent := d.Parent()
	if parent == nil {
		return nil, dirKey{}, false
	}
	pd, isDir := parent.Operations().(*dirNode)
	if !isDir {
		return nil, dirKey{}, false
	}
	acct, pk, ok := pd.where()
	if !ok {
		return nil, dirKey{}, false
	}
	raw, ok := d.sys.rawName(name)
	if !ok {
		return nil, dirKey{}, false
	}
	return acct, dirKey{account: pk.account, container: pk.container, under: pk.under + raw + "/"}, true
}

func (d *dirNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fillAttr(&out.Attr)
	return 0
}

func (d *dirNode) fillAttr(out *fuse.Attr) {
	d.mu.Lock()
	mt, px, changed, subdirs := d.mtime, d.px, d.changed, d.subdirs
	d.mu.Unlock()
	d.sys.dirAttr(out, d.StableAttr().Ino, mt)
	px.apply(out)
	if !changed.IsZero() && changed.After(time.Unix(int64(out.Mtime), int64(out.Mtimensec))) {
		out.SetTimes(nil, &changed, nil)
	}
	if changed.After(mt) {
		out.SetTimes(nil, nil, &changed)
	}
	out.Nlink = 2 + uint32(subdirs)
}

// entriesChanged records that an entry of the directory was created,
// removed or renamed: its mtime and ctime become now; subdirs moves by
// dirs (+1 for a mkdir, -1 for an rmdir) until the next listing counts.
func (d *dirNode) entriesChanged(dirs int) {
	d.mu.Lock()
	d.changed = time.Now()
	d.subdirs = max(0, d.subdirs+dirs)
	d.mu.Unlock()
}

// shownMtime is the mtime stat shows: the stored one, or a later change of
// the entries.
func (d *dirNode) shownMtime() time.Time {
	var a fuse.Attr
	d.fillAttr(&a)
	return time.Unix(int64(a.Mtime), int64(a.Mtimensec))
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.sys.statfs(ctx, out)
}

func (d *dirNode) fromEntry(e pithos.DirEntry) {
	if e.Object == nil {
		return
	}
	d.mu.Lock()
	d.mtime = e.Object.LastModified
	if e.Object.IsDir() {
		d.px = posixOf(e.Object)
	}
	d.mu.Unlock()
}

// Setattr stores a directory's mode, owner and mtime on its marker object
// (creating the marker for an implicit directory). A container root keeps
// them in memory only: containers have no place for them here.
func (d *dirNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	d.mu.Lock()
	cur := d.px
	d.mu.Unlock()
	np, changed := cur.update(in, d.shownMtime(), 0o755)
	if changed && np != cur && d.top == nil {
		acct, k, ok := d.where()
		if !ok {
			return syscall.ENOENT
		}
		dirPath := k.under[:len(k.under)-1] // not a container root: under is "PATH/"
		if err := storeDirAttrs(ctx, acct, k.container, dirPath, np); err != nil {
			return d.sys.fail("setattr", k.String(), err)
		}
		d.sys.lists.invalidate(dirKeyOf(acct, k.container, dirPath))
	}
	d.mu.Lock()
	d.px = np
	if changed {
		d.mtime = time.Now() // the ctime
	}
	if _, ok := in.GetMTime(); ok {
		d.changed = time.Time{} // an explicit mtime wins over the entries' changes
	}
	d.mu.Unlock()
	d.fillAttr(&out.Attr)
	return 0
}

// storeDirAttrs writes a directory's attributes on its marker "path": a
// copy-to-self of an existing marker, else a new marker.
func storeDirAttrs(ctx context.Context, acct *account, container, path string, p posix) error {
	for range 3 {
		info, err := acct.client.ObjectInfo(ctx, container, path, pithos.GetOptions{})
		switch {
		case err == nil && info.IsDir():
			_, err = storeAttrs(ctx, acct, container, path, info.ContentType, info.ETag, p, nil, pithos.DirectoryType)
			if err == syscall.EAGAIN {
				continue
			}
			return err
		case err == nil:
			return syscall.ENOTDIR // an object (not a marker) named like the directory
		case !errors.Is(err, fault.ErrNotFound):
			return err
		}
		_, err = acct.client.PutObject(ctx, container, path, nil, 0, pithos.PutOptions{ContentType: withPosix("", p, pithos.DirectoryType),
			Meta: withPosixMeta(nil, p), Conditions: pithos.Conditions{IfNoneMatch: "*"}})
		if errors.Is(err, fault.ErrPrecondition) {
			continue // created meanwhile
		}
		return err
	}
	return syscall.EAGAIN
}

// OnAdd adds the .pithosfs directory when d is the root of a container or
// prefix mount.
func (d *dirNode) OnAdd(ctx context.Context) {
	if d.IsRoot() {
		addDotDir(ctx, &d.Inode, d.sys)
	}
}
