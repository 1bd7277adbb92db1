package integration

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	pfs "github.com/pithosfs/pithosfs/fs"
)

// ceilingFile is a file of size bytes served from memory (a 4 MiB pattern repeated): what go-fuse can
// deliver on this machine when the daemon does no work at all. Each open drops the kernel's cached pages,
// so every cat goes through FUSE.
type ceilingFile struct {
	fs.Inode
	size    int64
	pattern []byte
}

var (
	_ = (fs.NodeOpener)((*ceilingFile)(nil))
	_ = (fs.NodeReader)((*ceilingFile)(nil))
	_ = (fs.NodeGetattrer)((*ceilingFile)(nil))
)

func (c *ceilingFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, 0, 0
}

func (c *ceilingFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Size = uint64(c.size)
	out.Blksize = 1 << 20 // as the mount's files (fs/file.go): cat reads 1 MiB at a time
	return 0
}

func (c *ceilingFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	end := min(off+int64(len(dest)), c.size)
	if off >= end {
		return fuse.ReadResultData(nil), 0
	}
	n := int64(len(c.pattern))
	if off/n == (end-1)/n {
		return fuse.ReadResultData(c.pattern[off%n : off%n+end-off]), 0 // no copy, as the mount's cached blocks
	}
	for i := off; i < end; i++ {
		dest[i-off] = c.pattern[i%n]
	}
	return fuse.ReadResultData(dest[:end-off]), 0
}

// startCeiling mounts, in this process and with the mount's own go-fuse options and kernel readahead, a
// directory holding one ceilingFile of size bytes, and returns the file's path; unmounted at cleanup.
func startCeiling(t testing.TB, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ceiling")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pattern := make([]byte, 4<<20)
	for i := range pattern {
		pattern[i] = byte(i * 7)
	}
	root := &fs.Inode{}
	opts := pfs.Options(pfs.Config{}, "ceiling", false)
	opts.OnAdd = func(ctx context.Context) {
		root.AddChild("big", root.NewPersistentInode(ctx, &ceilingFile{size: size, pattern: pattern}, fs.StableAttr{Ino: 2}), false)
	}
	srv, err := fs.Mount(dir, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	pfs.RaiseReadahead(dir, zap.NewNop())
	t.Cleanup(func() { _ = srv.Unmount() })
	return filepath.Join(dir, "big")
}
