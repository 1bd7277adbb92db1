// Package fixed holds the building blocks of the mount's virtual nodes, the
// ones no object stands behind (the .pithosfs tree, the whole-cloud root,
// the cloud control trees): refusals of the namespace operations a node does
// not allow, and a read handle over a fixed byte slice. go-fuse takes an
// rmdir or unlink that a node does not implement as done (and drops the
// child from its tree) and answers ENOTSUP for the other operations, so a
// virtual directory embeds Dir or ReadOnlyDir and defines only what it
// allows. It knows go-fuse, nothing of the cloud.
package fixed

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Dir refuses every change to a virtual directory and its entries with
// EPERM: remove, rename, create (a file, directory, symlink or device
// node), hard links (link(2): the file system does not support them), and
// attribute changes. A directory that allows one of them (a control tree
// creates files; uploads/failed/ entries can be removed) defines its own
// method, which takes precedence over the embedded one.
type Dir struct{}

var (
	_ gofs.NodeRmdirer   = Dir{}
	_ gofs.NodeUnlinker  = Dir{}
	_ gofs.NodeRenamer   = Dir{}
	_ gofs.NodeMkdirer   = Dir{}
	_ gofs.NodeCreater   = Dir{}
	_ gofs.NodeSymlinker = Dir{}
	_ gofs.NodeMknoder   = Dir{}
	_ gofs.NodeLinker    = Dir{}
	_ gofs.NodeSetattrer = Dir{}
	_ gofs.NodeSetattrer = File{}
	_ gofs.FileReader    = (*BytesHandle)(nil)
)

func (Dir) Rmdir(ctx context.Context, name string) syscall.Errno  { return syscall.EPERM }
func (Dir) Unlink(ctx context.Context, name string) syscall.Errno { return syscall.EPERM }

func (Dir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EPERM
}

func (Dir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (Dir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EPERM
}

func (Dir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (Dir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (Dir) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (Dir) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// ReadOnlyDir is Dir for a directory that is read-only as a whole (mode
// 0555): creating an entry there is EACCES, as the kernel answers for a
// directory without write permission; the rest is Dir's EPERM.
type ReadOnlyDir struct{ Dir }

func (ReadOnlyDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EACCES
}

func (ReadOnlyDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EACCES
}

func (ReadOnlyDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EACCES
}

func (ReadOnlyDir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EACCES
}

// File refuses attribute changes (chmod, chown, touch, truncate) of a
// virtual file.
type File struct{}

func (File) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// BytesHandle reads a byte slice fixed when the file was opened.
type BytesHandle struct {
	Data []byte
}

func (h *BytesHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return ReadAt(h.Data, dest, off), 0
}

// ReadAt is the part of data a read of len(dest) bytes at off returns:
// empty at or past the end.
func ReadAt(data, dest []byte, off int64) fuse.ReadResult {
	if off < 0 || off >= int64(len(data)) {
		return fuse.ReadResultData(nil)
	}
	return fuse.ReadResultData(data[off:min(int64(len(data)), off+int64(len(dest)))])
}
