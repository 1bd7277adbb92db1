package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Refusals of the virtual trees. go-fuse takes an rmdir or unlink that a
// node does not implement as done (and drops the child from its tree, which
// left the mount's root with a nil child), and answers ENOTSUP for the
// other namespace operations. So every virtual directory (the whole-cloud
// root, .pithosfs and its subtree) embeds fixedDir, which refuses them the
// way a read-only directory does: EPERM to remove, rename or change an
// entry (or its attributes), EACCES to create one, EPERM for a hard link
// (link(2): the file system does not support them). A node that allows one
// of them (uploads/failed/ entries can be removed) defines its own method.

// fixedDir refuses every change to a virtual directory and its entries.
type fixedDir struct{}

var (
	_ = (gofs.NodeRmdirer)(fixedDir{})
	_ = (gofs.NodeUnlinker)(fixedDir{})
	_ = (gofs.NodeRenamer)(fixedDir{})
	_ = (gofs.NodeMkdirer)(fixedDir{})
	_ = (gofs.NodeCreater)(fixedDir{})
	_ = (gofs.NodeSymlinker)(fixedDir{})
	_ = (gofs.NodeMknoder)(fixedDir{})
	_ = (gofs.NodeLinker)(fixedDir{})
	_ = (gofs.NodeSetattrer)(fixedDir{})
	_ = (gofs.NodeSetattrer)(fixedFile{})
	_ = (gofs.NodeLinker)((*dirNode)(nil))
)

func (fixedDir) Rmdir(ctx context.Context, name string) syscall.Errno  { return syscall.EPERM }
func (fixedDir) Unlink(ctx context.Context, name string) syscall.Errno { return syscall.EPERM }

func (fixedDir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EPERM
}

func (fixedDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EACCES
}

func (fixedDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EACCES
}

func (fixedDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EACCES
}

func (fixedDir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EACCES
}

func (fixedDir) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (fixedDir) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// fixedFile refuses attribute changes (chmod, chown, touch, truncate) of a
// read-only virtual file; opening one for writing is EACCES (Open).
type fixedFile struct{}

func (fixedFile) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// An account holds containers only: mkdir creates one (accountNode.Mkdir);
// files, links and attribute changes are refused.
var (
	_ = (gofs.NodeCreater)((*accountNode)(nil))
	_ = (gofs.NodeSymlinker)((*accountNode)(nil))
	_ = (gofs.NodeMknoder)((*accountNode)(nil))
	_ = (gofs.NodeLinker)((*accountNode)(nil))
	_ = (gofs.NodeSetattrer)((*accountNode)(nil))
)
