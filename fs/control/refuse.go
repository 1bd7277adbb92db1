package control

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fixedDir refuses what a control directory cannot do. go-fuse takes an
// rmdir a node does not implement as done (the child vanished from the
// tree until a remount) and answers ENOTSUP for the rest; here every one is
// refused: EPERM to remove, rename or create a directory or link, or to
// change the directory's attributes. Files are created (Create) and removed
// (Unlink) by dirNode itself.
type fixedDir struct{}

var (
	_ gofs.NodeRmdirer   = fixedDir{}
	_ gofs.NodeRenamer   = fixedDir{}
	_ gofs.NodeMkdirer   = fixedDir{}
	_ gofs.NodeSymlinker = fixedDir{}
	_ gofs.NodeMknoder   = fixedDir{}
	_ gofs.NodeLinker    = fixedDir{}
	_ gofs.NodeSetattrer = fixedDir{}
	_ gofs.NodeSetattrer = (*lastErrorNode)(nil)
)

func (fixedDir) Rmdir(ctx context.Context, name string) syscall.Errno { return syscall.EPERM }

func (fixedDir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EPERM
}

func (fixedDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (fixedDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (fixedDir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (fixedDir) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (fixedDir) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// Setattr of .last-error (chmod, touch, truncate) is refused: it is
// written by the mount only.
func (n *lastErrorNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// changesOwnerOrMode reports whether a setattr asks for a mode or owner
// change, which no control file stores.
func changesOwnerOrMode(in *fuse.SetAttrIn) bool {
	_, mode := in.GetMode()
	_, uid := in.GetUID()
	_, gid := in.GetGID()
	return mode || uid || gid
}
