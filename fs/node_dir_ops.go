// Directory operations that remove or add a directory entry: Mkdir, Rmdir, Unlink.

package fs

import (
	"context"
	"errors"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Namespace operations of directories. Each maps to server-side requests
// (markers, deletes, moves) and drops the listings it changed; the kernel's
// view of the tree is updated by go-fuse after a successful call.

var (
	_ = (gofs.NodeMkdirer)((*dirNode)(nil))
	_ = (gofs.NodeRmdirer)((*dirNode)(nil))
	_ = (gofs.NodeUnlinker)((*dirNode)(nil))
	_ = (gofs.NodeRenamer)((*dirNode)(nil))
	_ = (gofs.NodeCreater)((*dirNode)(nil))
)

// RENAME_* flags of renameat2(2).
const (
	renameNoReplace = 1 << 0
	renameExchange  = 1 << 1
	renameWhiteout  = 1 << 2
)

// fresh returns the directory's listing fetched now (not from the cache):
// namespace changes decide on the server's current state.
func (d *dirNode) fresh(ctx context.Context) (*account, dirKey, *listing, syscall.Errno) {
	if _, k, ok := d.where(); ok {
		d.sys.lists.invalidate(k)
	}
	return d.listing(ctx, d.sys.cfg.ListTTL)
}

// Mkdir writes an application/directory marker (If-None-Match: *, so an
// existing object is never replaced) and reads its uuid back for a stable
// inode number.
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	raw, errno := newSegment(name)
	if errno != 0 {
		return nil, errno
	}
	acct, k, l, errno := d.fresh(ctx)
	if errno != 0 {
		return nil, errno
	}
	if _, exists := l.find(raw); exists {
		return nil, syscall.EEXIST
	}
	path := k.under + raw
	full := k.String() + "/" + raw
	px := d.newPosix(ctx, mode, 0o755, true)
	_, err := acct.client.PutObject(ctx, k.container, path, nil, 0, pithos.PutOptions{ContentType: withPosix("", px, pithos.DirectoryType),
		Meta: withPosixMeta(nil, px), Conditions: pithos.Conditions{IfNoneMatch: "*"}})
	d.sys.lists.invalidate(k)
	if err != nil {
		return nil, d.sys.fail("mkdir", full, err)
	}
	d.entriesChanged(1)
	// The new listing gives the marker's uuid (a stable inode number) and
	// the same fine-grained mtime later listings show.
	_, _, l, errno = d.listing(ctx, d.sys.cfg.ListTTL)
	if errno != 0 {
		return nil, errno
	}
	e, ok := l.find(raw)
	if !ok {
		return nil, syscall.ENOENT
	}
	return d.sys.child(ctx, &d.Inode, acct, k, e, out), 0
}

// isEmptyDir reports whether nothing but the directory's own "path/"
// marker lies under path/.
func isEmptyDir(ctx context.Context, acct *account, container, path string) (bool, error) {
	for page, err := range acct.client.ObjectPages(ctx, container, pithos.ListOptions{Prefix: path + "/", Limit: 2}) {
		if err != nil {
			return false, err
		}
		for _, o := range page.Objects {
			if o.Name != path+"/" {
				return false, nil
			}
		}
		if len(page.Subdirs) > 0 {
			return false, nil
		}
		break
	}
	return true, nil
}

// removeMarkers deletes a directory's marker objects ("path" and/or
// "path/"); an implicit directory has none.
func removeMarkers(ctx context.Context, acct *account, container, path string, e pithos.DirEntry) error {
	for _, n := range []string{path, path + "/"} {
		if n == path && (e.Object == nil || e.Object.Name != path || !e.Object.IsDir()) {
			continue
		}
		err := acct.client.DeleteObject(ctx, container, n, pithos.DeleteOptions{})
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if isDotDir(&d.Inode, name) {
		return syscall.EPERM
	}
	acct, k, l, errno := d.fresh(ctx)
	if errno != 0 {
		return errno
	}
	e, ok := findEntry(l, name)
	switch {
	case !ok:
		if ch := d.GetChild(name); ch != nil {
			if _, isDir := ch.Operations().(*dirNode); isDir {
				// A directory without a marker, only implied by the names
				// below it, is gone with the last of them (rm -r, mv across
				// devices): it is as removed as rmdir would leave it.
				return 0
			}
		}
		return syscall.ENOENT
	case !e.IsDir:
		return syscall.ENOTDIR
	}
	path := k.under + e.Name
	full := k.String() + "/" + e.Name
	var empty bool
	var err error
	if path == "" {
		// The names with a leading "/": Pithos lists the whole container
		// for prefix "/" (it strips the "/"), ListDir keeps only them.
		var es []pithos.DirEntry
		es, err = acct.client.ListDir(ctx, k.container, "/")
		empty = len(es) == 0
	} else {
		empty, err = isEmptyDir(ctx, acct, k.container, path)
	}
	if err != nil {
		return d.sys.fail("rmdir", full, err)
	}
	if !empty {
		return syscall.ENOTEMPTY
	}
	err = removeMarkers(ctx, acct, k.container, path, e)
	d.sys.lists.invalidateTree(dirKey{account: k.account, container: k.container, under: path + "/"})
	d.sys.lists.invalidate(k)
	if err != nil {
		return d.sys.fail("rmdir", full, err)
	}
	d.entriesChanged(-1)
	return 0
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	acct, k, ok := d.where()
	if !ok {
		return syscall.ENOENT
	}
	obj, kind := decodeName(name)
	link := false
	if l, err := d.sys.lists.get(ctx, acct.client, k, d.sys.cfg.ListTTL); err == nil {
		if e, ok := findEntry(l, name); ok {
			if e.IsDir && (e.Object == nil || e.Object.IsDir()) {
				return syscall.EISDIR
			}
			obj, kind, link = e.Name, nameExact, isRcloneLink(e)
		}
	}
	if kind != nameExact {
		return syscall.ENOENT // a shortened name not in the listing, or no name at all
	}
	path := k.under + obj
	discarded := false
	if m := d.sys.managerIfAny(acct); m != nil {
		if wf := m.Lookup(k.container, path); wf != nil {
			// Open handles keep the file's data until the last close;
			// nothing of it reaches the server any more.
			created := wf.Base().ETag == ""
			wf.Orphan()
			discarded = created
		}
	}
	err := acct.client.DeleteObject(ctx, k.container, path, pithos.DeleteOptions{})
	if err == nil && !link {
		d.sys.lists.remove(k, obj)
	} else {
		d.sys.lists.invalidate(k)
	}
	if err != nil && !(discarded && errors.Is(err, fault.ErrNotFound)) { // else created here, never committed
		return d.sys.fail("unlink", k.String()+"/"+obj, err)
	}
	d.unlinked(name)
	d.entriesChanged(0)
	if acct == d.sys.histAccount() {
		d.sys.hist.NoteDeleted(k.container, path)
	}
	return 0
}

// unlinked marks the node of entry name, removed from the directory, as
// having no name left: nlink 0, and its open handles read the version they
// opened (fs/handle_read.go).
func (d *dirNode) unlinked(name string) {
	if ch := d.GetChild(name); ch != nil {
		if f, ok := ch.Operations().(*fileNode); ok {
			f.mu.Lock()
			f.gone = true
			f.mu.Unlock()
		}
	}
}
