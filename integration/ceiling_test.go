package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

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

// ceilingSink is a file that takes every write and keeps nothing: what go-fuse costs to take a write on
// this machine when the daemon does no work at all (BenchmarkMountWrite's write ceiling).
type ceilingSink struct {
	fs.Inode
}

var (
	_ = (fs.NodeOpener)((*ceilingSink)(nil))
	_ = (fs.NodeWriter)((*ceilingSink)(nil))
	_ = (fs.NodeGetattrer)((*ceilingSink)(nil))
	_ = (fs.NodeSetattrer)((*ceilingSink)(nil))
)

func (c *ceilingSink) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, 0, 0
}

func (c *ceilingSink) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o666
	out.Blksize = 1 << 20
	return 0
}

func (c *ceilingSink) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return c.Getattr(ctx, fh, out) // dd's O_TRUNC
}

func (c *ceilingSink) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	return uint32(len(data)), 0
}

// writeCeiling writes the local file at src into the ceiling's sink (dd bs=1M, as the write benchmark
// writes through the mount) and returns the wall time and the CPU this process spent taking the writes.
func writeCeiling(t testing.TB, ceiling, src string) (wall, cpu time.Duration) {
	t.Helper()
	sink := filepath.Join(filepath.Dir(ceiling), "sink")
	cpu0 := selfCPU(t)
	wall, _ = timedCmd(t, "dd", "if="+src, "of="+sink, "bs=1M", "status=none")
	return wall, selfCPU(t) - cpu0
}

// startCeiling mounts, in this process and with the mount's own go-fuse options and kernel readahead, a
// directory holding one ceilingFile of size bytes (and a ceilingSink beside it, "sink"), and returns the
// file's path; unmounted at cleanup.
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
		root.AddChild("sink", root.NewPersistentInode(ctx, &ceilingSink{}, fs.StableAttr{Ino: 3}), false)
	}
	srv, err := fs.Mount(dir, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	pfs.RaiseReadahead(dir, zap.NewNop())
	t.Cleanup(func() { _ = srv.Unmount() })
	return filepath.Join(dir, "big")
}

// selfCPU is the CPU time so far of this process (its children not included): with the ceiling's
// files served in-process, what go-fuse costs to deliver a read, or take a write, when the daemon does
// nothing else.
func selfCPU(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readBound is what a cold read through a verifying FUSE daemon must cost on this machine at the least,
// each part measured beside the mount's read in the same round: SHA-256 of the bytes (in-process), their
// receipt from the server (curl's CPU for one raw GET), their delivery through FUSE (the CPU of the
// in-process ceiling's server while cat reads it), the server's CPU for one raw GET, and the reader's
// (cat's CPU reading the ceiling: the kernel's FUSE side and the copy to cat). The first three are the
// least the daemon can cost; with the other two, the least the whole read costs, which on a machine of
// runtime.NumCPU() cores caps its throughput however well the stages overlap.
type readBound struct {
	sha, curl, fuse, server, reader time.Duration
}

// describe prints the bound beside the mount's own total (daemon + server + cat) for the cold read that
// took cold, and the best ratio the bound allows against ref (the goal's reference time).
func (r readBound) describe(perGiB func(time.Duration) float64, mountTotal, ref, cold time.Duration) string {
	daemon := r.sha + r.curl + r.fuse
	total := daemon + r.server + r.reader
	cores := float64(runtime.NumCPU())
	best := time.Duration(float64(total) / cores) // every core busy on the read, no stage ever waiting
	return fmt.Sprintf("CPU bound, s/GiB: a verifying FUSE daemon at least SHA-256 %.2f + curl %.2f + FUSE ceiling's server %.2f = %.2f; "+
		"whole read at least %.2f (+ server %.2f + cat %.2f), the mount's %.2f | on %d cores: ≥ %v, ratio to the lower ≤ %.2f (mount %.2f)",
		perGiB(r.sha), perGiB(r.curl), perGiB(r.fuse), perGiB(daemon), perGiB(total), perGiB(r.server), perGiB(r.reader),
		perGiB(mountTotal), int(cores), best.Round(time.Millisecond), ref.Seconds()/best.Seconds(), ref.Seconds()/cold.Seconds())
}
