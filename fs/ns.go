package fs

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
)

// Namespace operations of directories. Each maps to server-side requests
// (markers, deletes, moves) and drops the listings it changed; the kernel's
// view of the tree is updated by go-fuse after a successful call.

var (
	_ = (fs.NodeMkdirer)((*dirNode)(nil))
	_ = (fs.NodeRmdirer)((*dirNode)(nil))
	_ = (fs.NodeUnlinker)((*dirNode)(nil))
	_ = (fs.NodeRenamer)((*dirNode)(nil))
	_ = (fs.NodeCreater)((*dirNode)(nil))
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
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
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
	var px posix
	if mode&0o7777 != 0o755 {
		px.mode, px.hasMode = mode&0o7777, true
	}
	_, err := acct.client.PutObject(ctx, k.container, path, nil, 0, pithos.PutOptions{ContentType: withPosix("", px, pithos.DirectoryType),
		Meta: withPosixMeta(nil, px), Conditions: pithos.Conditions{IfNoneMatch: "*"}})
	d.sys.lists.invalidate(k)
	if err != nil {
		return nil, d.sys.fail("mkdir", full, err)
	}
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
		if err != nil && synnefo.StatusOf(err) != http.StatusNotFound {
			return err
		}
	}
	return nil
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if isControl(&d.Inode, name) {
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
			created := wf.Base().ETag == ""
			wf.Discard()
			discarded = created
		}
	}
	err := acct.client.DeleteObject(ctx, k.container, path, pithos.DeleteOptions{})
	if err == nil && !link {
		d.sys.lists.remove(k, obj)
	} else {
		d.sys.lists.invalidate(k)
	}
	if err != nil && discarded && synnefo.StatusOf(err) == http.StatusNotFound {
		return 0 // created here and never committed
	}
	if err != nil {
		return d.sys.fail("unlink", k.String()+"/"+obj, err)
	}
	return 0
}

// Rename moves a file, or a directory with its whole subtree, server-side
// in one request (X-Move-From, with delimiter=/ for a directory): atomic on
// Pithos+. On plain Swift, which has no move, it is a copy then a delete,
// object by object for a directory: NOT atomic there (a crash in between
// leaves both names; another client can see a half-moved directory), and
// RENAME_NOREPLACE is checked against a fresh listing only. RENAME_NOREPLACE is If-None-Match: *; RENAME_EXCHANGE cannot be
// expressed (EINVAL); a rename into another account or onto an account or
// root level is EXDEV.
func (d *dirNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags&(renameExchange|renameWhiteout) != 0 {
		return syscall.EINVAL
	}
	nd, ok := newParent.(*dirNode)
	if !ok {
		return syscall.EXDEV
	}
	if isControl(&d.Inode, name) || isControl(&nd.Inode, newName) {
		return syscall.EPERM
	}
	// Listings as fresh as the kernel's entries (the attribute TTL): the
	// move itself fails on the server if the source vanished meanwhile, and
	// RENAME_NOREPLACE is the server's If-None-Match.
	acct, k, l, errno := d.listing(ctx, d.sys.cfg.AttrTTL)
	if errno != 0 {
		return errno
	}
	acct2, k2, l2, errno := nd.listing(ctx, d.sys.cfg.AttrTTL)
	if errno != 0 {
		return errno
	}
	if acct != acct2 {
		return syscall.EXDEV
	}
	src, ok := findEntry(l, name)
	if !ok {
		return syscall.ENOENT
	}
	srcBase := baseName(src)
	dstBase, errno := newSegment(newName)
	if _, kind := decodeName(newName); kind == nameHashed {
		// A shortened name can only be an existing entry's (replaced).
		if e, ok := findEntry(l2, newName); ok {
			dstBase, errno = baseName(e), 0
		}
	}
	if errno != 0 {
		return errno
	}
	srcPath, dstPath := k.under+objectName(src, srcBase), k2.under+objectName(src, dstBase)
	if k.container == k2.container && srcPath == dstPath {
		return 0
	}
	if srcPath == "" {
		// The names with a leading "/" (shown as ⧸ at the container's root)
		// cannot be moved in one request; mv copies them instead.
		return syscall.EXDEV
	}
	full := k.String() + "/" + srcBase + " -> " + k2.String() + "/" + dstBase
	dst, exists := l2.find(dstBase)
	if exists && flags&renameNoReplace != 0 {
		return syscall.EEXIST
	}
	if !src.IsDir && exists && dst.IsDir {
		return syscall.EISDIR
	}
	if src.IsDir && strings.HasPrefix(k2.under, srcPath+"/") && k.container == k2.container {
		return syscall.EINVAL // into its own subtree
	}
	m := d.sys.managerIfAny(acct)
	if m != nil && !src.IsDir {
		// Unflushed writes go to the server before the move.
		if wf := m.Lookup(k.container, srcPath); wf != nil && wf.Dirty() {
			if err := wf.Commit(ctx); err != nil {
				return d.sys.commitErrno(k.String()+"/"+name, err)
			}
		}
	}
	opts := pithos.CopyOptions{}
	if flags&renameNoReplace != 0 {
		opts.IfNoneMatch = "*"
		// Plain Swift applies a copy's conditions to the source (If-None-Match:
		// * then fails with 304): there the listing check above stands alone
		// (a rename there is copy + delete anyway, not atomic).
		if caps, err := acct.client.Capabilities(ctx, k.container); err == nil && !caps.Hashmaps {
			opts.IfNoneMatch = ""
		}
	}
	if src.IsDir {
		if exists {
			if !dst.IsDir {
				return syscall.ENOTDIR
			}
			empty, err := isEmptyDir(ctx, acct, k2.container, dstPath)
			if err != nil {
				return d.sys.fail("rename", full, err)
			}
			if !empty {
				return syscall.ENOTEMPTY
			}
			if err := removeMarkers(ctx, acct, k2.container, dstPath, dst); err != nil {
				return d.sys.fail("rename", full, err)
			}
		}
		// The move with delimiter needs the source object itself: give an
		// implicit directory (or one marked only by "path/") its marker.
		if src.Object == nil || src.Object.Name != srcPath {
			_, err := acct.client.PutObject(ctx, k.container, srcPath, nil, 0, pithos.PutOptions{
				ContentType: pithos.DirectoryType, Conditions: pithos.Conditions{IfNoneMatch: "*"}})
			if err != nil && synnefo.StatusOf(err) != http.StatusPreconditionFailed {
				return d.sys.fail("rename", full, err)
			}
		}
		opts.Delimiter = "/"
	}
	_, err := acct.client.MoveObject(ctx, k.container, srcPath, k2.container, dstPath, opts)
	moved := false
	if err == nil && !src.IsDir && src.Object != nil && !isRcloneLink(src) {
		// A plain file: the object (same uuid) changes name in both cached
		// listings, so the next lookups need no new listing.
		if e, ok := d.sys.lists.remove(k, srcBase); ok && e.Object != nil {
			o := *e.Object
			o.Name = dstPath
			d.sys.lists.put(k2, dstBase, o, false)
			moved = true
		}
	}
	if !moved {
		d.sys.lists.invalidate(k)
		d.sys.lists.invalidate(k2)
	}
	if src.IsDir {
		d.sys.lists.invalidateTree(dirKey{account: k.account, container: k.container, under: srcPath + "/"})
		d.sys.lists.invalidateTree(dirKey{account: k2.account, container: k2.container, under: dstPath + "/"})
	}
	if err != nil {
		if synnefo.StatusOf(err) == http.StatusPreconditionFailed {
			return syscall.EEXIST
		}
		return d.sys.fail("rename", full, err)
	}
	d.sys.remember(newName, dstBase) // the node's new name in the tree
	if m != nil && !src.IsDir {
		m.Rename(k.container, srcPath, k2.container, dstPath)
	}
	if m != nil && src.IsDir {
		// Unflushed files below the directory moved with it on the server.
		m.RenameTree(k.container, srcPath, k2.container, dstPath)
	}
	if src.IsDir {
		d.touch()
	}
	return 0
}

func (d *dirNode) touch() {
	d.mu.Lock()
	d.mtime = time.Now()
	d.mu.Unlock()
}
