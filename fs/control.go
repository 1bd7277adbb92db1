package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// controlDir is /.pithosfs: read-only status files.
type controlDir struct {
	fs.Inode
	sys *fsys
}

var (
	_ = (fs.NodeOnAdder)((*controlDir)(nil))
	_ = (fs.NodeGetattrer)((*controlDir)(nil))
	_ = (fs.NodeGetattrer)((*statsFile)(nil))
	_ = (fs.NodeOpener)((*statsFile)(nil))
	_ = (fs.FileReader)((*bytesHandle)(nil))
)

func (c *controlDir) OnAdd(ctx context.Context) {
	f := c.NewPersistentInode(ctx, &statsFile{sys: c.sys}, fs.StableAttr{Mode: fuse.S_IFREG, Ino: inoOf("control", "stats.json")})
	c.AddChild("stats.json", f, true)
}

func (c *controlDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	c.sys.dirAttr(&out.Attr, c.StableAttr().Ino, startTime)
	out.Mode = fuse.S_IFDIR | 0o555
	return 0
}

// statsFile is /.pithosfs/stats.json: the mount's counters, rendered at
// each open and read with direct I/O (no page cache).
type statsFile struct {
	fs.Inode
	sys *fsys
}

func (f *statsFile) render() []byte {
	return f.sys.stats.Snapshot(f.sys.cache).JSON()
}

func (f *statsFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(len(f.render()))
	out.Owner = fuse.Owner{Uid: f.sys.cfg.UID, Gid: f.sys.cfg.GID}
	setTimes(&out.Attr, startTime)
	return 0
}

func (f *statsFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	return &bytesHandle{data: f.render()}, fuse.FOPEN_DIRECT_IO, 0
}

// bytesHandle reads a fixed byte slice.
type bytesHandle struct {
	data []byte
}

func (h *bytesHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.data)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(h.data[off:min(int64(len(h.data)), off+int64(len(dest)))]), 0
}
