// Rename within and across directories: server-side moves, atomic for files, per-object for trees.

package fs

import (
	"context"
	"errors"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
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
	op, errno := d.renameEnds(ctx, name, nd, newName)
	if errno != 0 || op == nil {
		return errno
	}
	if errno := op.check(flags); errno != 0 {
		return errno
	}
	m := d.sys.managerIfAny(op.acct)
	if m != nil && !op.src.IsDir {
		// Unflushed writes go to the server before the move.
		if wf := m.Lookup(op.k.container, op.srcPath); wf != nil && wf.Dirty() {
			if err := wf.Commit(ctx); err != nil {
				return d.sys.commitErrno(op.k.String()+"/"+name, err)
			}
		}
	}
	opts := pithos.CopyOptions{}
	if flags&renameNoReplace != 0 {
		opts.IfNoneMatch = "*"
		// Plain Swift applies a copy's conditions to the source (If-None-Match:
		// * then fails with 304): there the listing check stands alone (a
		// rename there is copy + delete anyway, not atomic).
		if caps, err := op.acct.client.Capabilities(ctx, op.k.container); err == nil && !caps.Hashmaps {
			opts.IfNoneMatch = ""
		}
	}
	if op.src.IsDir {
		if errno := d.prepareDirMove(ctx, op); errno != 0 {
			return errno
		}
		opts.Delimiter = "/"
	}
	_, err := op.acct.client.MoveObject(ctx, op.k.container, op.srcPath, op.k2.container, op.dstPath, opts)
	d.renameListings(op, err == nil)
	if err != nil {
		if errors.Is(err, fault.ErrPrecondition) {
			return syscall.EEXIST
		}
		return d.sys.fail("rename", op.full, err)
	}
	d.sys.remember(newName, op.dstBase) // the node's new name in the tree
	if op.exists && !op.dst.IsDir {
		// The file renamed over has no name left; its open handles keep it.
		if m != nil {
			if wf := m.Lookup(op.k2.container, op.dstPath); wf != nil {
				wf.Orphan()
			}
		}
		nd.unlinked(newName)
	}
	if m != nil && !op.src.IsDir {
		m.Rename(op.k.container, op.srcPath, op.k2.container, op.dstPath)
	}
	if m != nil && op.src.IsDir {
		// Unflushed files below the directory moved with it on the server.
		m.RenameTree(op.k.container, op.srcPath, op.k2.container, op.dstPath)
	}
	switch {
	case nd == d:
		d.entriesChanged(0)
	case op.src.IsDir && op.exists:
		d.entriesChanged(-1)
		nd.entriesChanged(0)
	case op.src.IsDir:
		d.entriesChanged(-1)
		nd.entriesChanged(1)
	default:
		d.entriesChanged(0)
		nd.entriesChanged(0)
	}
	return 0
}

// renameOp is one rename, resolved: both ends' directories, the source
// entry, the destination entry if any, and both object paths.
type renameOp struct {
	acct             *account
	k, k2            dirKey
	src, dst         pithos.DirEntry
	exists           bool // dst is an existing entry
	srcBase, dstBase string
	srcPath, dstPath string
	full             string // "src -> dst", for the log
}

// renameEnds resolves a rename's two ends from listings as fresh as the
// kernel's entries (the attribute TTL): the move itself fails on the server
// if the source vanished meanwhile, and RENAME_NOREPLACE is the server's
// If-None-Match. A nil op with errno 0 is a rename onto itself.
func (d *dirNode) renameEnds(ctx context.Context, name string, nd *dirNode, newName string) (*renameOp, syscall.Errno) {
	acct, k, l, errno := d.listing(ctx, d.sys.cfg.AttrTTL)
	if errno != 0 {
		return nil, errno
	}
	acct2, k2, l2, errno := nd.listing(ctx, d.sys.cfg.AttrTTL)
	if errno != 0 {
		return nil, errno
	}
	if acct != acct2 {
		return nil, syscall.EXDEV
	}
	src, ok := findEntry(l, name)
	if !ok {
		return nil, syscall.ENOENT
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
		return nil, errno
	}
	op := &renameOp{acct: acct, k: k, k2: k2, src: src, srcBase: srcBase, dstBase: dstBase,
		srcPath: k.under + objectName(src, srcBase), dstPath: k2.under + objectName(src, dstBase),
		full: k.String() + "/" + srcBase + " -> " + k2.String() + "/" + dstBase}
	if k.container == k2.container && op.srcPath == op.dstPath {
		return nil, 0
	}
	if op.srcPath == "" {
		// The names with a leading "/" (shown as ⧸ at the container's root)
		// cannot be moved in one request; mv copies them instead.
		return nil, syscall.EXDEV
	}
	op.dst, op.exists = l2.find(dstBase)
	return op, 0
}

// check refuses what rename(2) refuses before anything reaches the server.
func (op *renameOp) check(flags uint32) syscall.Errno {
	switch {
	case op.exists && flags&renameNoReplace != 0:
		return syscall.EEXIST
	case !op.src.IsDir && op.exists && op.dst.IsDir:
		return syscall.EISDIR
	case op.src.IsDir && op.k.container == op.k2.container && strings.HasPrefix(op.k2.under, op.srcPath+"/"):
		return syscall.EINVAL // into its own subtree
	case op.src.IsDir && op.exists && !op.dst.IsDir:
		return syscall.ENOTDIR
	}
	return 0
}

// prepareDirMove readies a directory move: an existing destination
// directory must be empty and loses its markers; the move with delimiter
// needs the source object itself, so an implicit directory (or one marked
// only by "path/") gets its marker.
func (d *dirNode) prepareDirMove(ctx context.Context, op *renameOp) syscall.Errno {
	if op.exists {
		empty, err := isEmptyDir(ctx, op.acct, op.k2.container, op.dstPath)
		if err != nil {
			return d.sys.fail("rename", op.full, err)
		}
		if !empty {
			return syscall.ENOTEMPTY
		}
		if err := removeMarkers(ctx, op.acct, op.k2.container, op.dstPath, op.dst); err != nil {
			return d.sys.fail("rename", op.full, err)
		}
	}
	if op.src.Object == nil || op.src.Object.Name != op.srcPath {
		_, err := op.acct.client.PutObject(ctx, op.k.container, op.srcPath, nil, 0, pithos.PutOptions{
			ContentType: pithos.DirectoryType, Conditions: pithos.Conditions{IfNoneMatch: "*"}})
		if err != nil && !errors.Is(err, fault.ErrPrecondition) {
			return d.sys.fail("rename", op.full, err)
		}
	}
	return 0
}

// renameListings brings the cached listings in line with a move. A plain
// file that moved keeps its object (same uuid) under the new name in both
// listings, so the next lookups need no new listing; anything else
// invalidates both directories (and, for a directory, both subtrees).
func (d *dirNode) renameListings(op *renameOp, movedOnServer bool) {
	lists := d.sys.lists
	moved := false
	if movedOnServer && !op.src.IsDir && op.src.Object != nil && !isRcloneLink(op.src) {
		if e, ok := lists.remove(op.k, op.srcBase); ok && e.Object != nil {
			o := *e.Object
			o.Name = op.dstPath
			lists.put(op.k2, op.dstBase, o, false)
			moved = true
		}
	}
	if !moved {
		lists.invalidate(op.k)
		lists.invalidate(op.k2)
	}
	if op.src.IsDir {
		lists.invalidateTree(dirKey{account: op.k.account, container: op.k.container, under: op.srcPath + "/"})
		lists.invalidateTree(dirKey{account: op.k2.account, container: op.k2.container, under: op.dstPath + "/"})
	}
}
