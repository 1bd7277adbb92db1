// Rename within and across directories: server-side moves, atomic for files, per-object for trees.

package fs

import (
	"context"
	"net/http"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
)

// Rename moves a file, or a directory with its whole subtree, server-side
// in one request (X-Move-From, with delimiter=/ for a directory): atomic on
// Pithos+. On plain Swift, which has no move, it is a copy then a delete,
// object by object for a directory: NOT atomic there (a crash in between
// leaves both names; another client can see a half-moved directory), and
// RENAME_NOREPLACE is checked against a fresh listing only. RENAME_NOREPLACE is If-None-Match: *; RENAME_EXCHANGE cannot be
// expressed (EINVAL); a rename into another account or onto an account or
// root level is EXDEV.
func (d *dirNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags&(renameExchange|renameWhiteout) != 0 {
		return syscall.EINVAL
	}
	nd, ok := newParent.(*dirNode)
	if !ok {
		return syscall.EXDEV
	}
	if isDotDir(&d.Inode, name) || isDotDir(&nd.Inode, newName) {
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
