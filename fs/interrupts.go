package fs

import "github.com/hanwen/go-fuse/v2/fuse"

// Interrupts.
//
// The kernel sends FUSE_INTERRUPT for a request whose caller got a signal
// while it waited, and go-fuse cancels that request's context. Go programs
// get signals all the time (the runtime preempts goroutines with SIGURG),
// and a daemon that answers such a request with EINTR makes stat, open,
// getxattr or read fail in a caller that never asked to be interrupted:
// the kernel passes the daemon's EINTR on as is, it does not restart the
// call as it would SA_RESTART's. Under load go-fuse's own posixtest saw
// `open` and `getxattr` fail so. A change to the namespace could also have
// reached the server before the interrupt, and EINTR would misreport it.
//
// So every request runs to its end whatever signals its caller gets (as
// gcsfuse's default ignore-interrupts): the client's I/O timeout bounds
// each server request, and a fatal signal (SIGKILL, or one whose default
// action ends the process) still ends the caller's wait in the kernel
// without the daemon. The one request left interruptible is SETLKW, a
// lock wait POSIX says a signal ends with EINTR.

// uninterruptedFS hands every request but SETLKW to the node tree with no
// cancel channel, so its context is never cancelled.
type uninterruptedFS struct {
	fuse.RawFileSystem
}

func (u uninterruptedFS) Lookup(_ <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	return u.RawFileSystem.Lookup(nil, h, name, out)
}

func (u uninterruptedFS) GetAttr(_ <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	return u.RawFileSystem.GetAttr(nil, in, out)
}

func (u uninterruptedFS) SetAttr(_ <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	return u.RawFileSystem.SetAttr(nil, in, out)
}

func (u uninterruptedFS) Mknod(_ <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	return u.RawFileSystem.Mknod(nil, in, name, out)
}

func (u uninterruptedFS) Mkdir(_ <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	return u.RawFileSystem.Mkdir(nil, in, name, out)
}

func (u uninterruptedFS) Unlink(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return u.RawFileSystem.Unlink(nil, h, name)
}

func (u uninterruptedFS) Rmdir(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return u.RawFileSystem.Rmdir(nil, h, name)
}

func (u uninterruptedFS) Rename(_ <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	return u.RawFileSystem.Rename(nil, in, oldName, newName)
}

func (u uninterruptedFS) Link(_ <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	return u.RawFileSystem.Link(nil, in, name, out)
}

func (u uninterruptedFS) Symlink(_ <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	return u.RawFileSystem.Symlink(nil, h, target, name, out)
}

func (u uninterruptedFS) Readlink(_ <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	return u.RawFileSystem.Readlink(nil, h)
}

func (u uninterruptedFS) Access(_ <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	return u.RawFileSystem.Access(nil, in)
}

func (u uninterruptedFS) GetXAttr(_ <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	return u.RawFileSystem.GetXAttr(nil, h, attr, dest)
}

func (u uninterruptedFS) ListXAttr(_ <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	return u.RawFileSystem.ListXAttr(nil, h, dest)
}

func (u uninterruptedFS) SetXAttr(_ <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	return u.RawFileSystem.SetXAttr(nil, in, attr, data)
}

func (u uninterruptedFS) RemoveXAttr(_ <-chan struct{}, h *fuse.InHeader, attr string) fuse.Status {
	return u.RawFileSystem.RemoveXAttr(nil, h, attr)
}

func (u uninterruptedFS) Create(_ <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	return u.RawFileSystem.Create(nil, in, name, out)
}

func (u uninterruptedFS) Tmpfile(_ <-chan struct{}, in *fuse.CreateIn, out *fuse.CreateOut) fuse.Status {
	return u.RawFileSystem.Tmpfile(nil, in, out)
}

func (u uninterruptedFS) Open(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return u.RawFileSystem.Open(nil, in, out)
}

func (u uninterruptedFS) Read(_ <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	return u.RawFileSystem.Read(nil, in, buf)
}

func (u uninterruptedFS) Lseek(_ <-chan struct{}, in *fuse.LseekIn, out *fuse.LseekOut) fuse.Status {
	return u.RawFileSystem.Lseek(nil, in, out)
}

func (u uninterruptedFS) GetLk(_ <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	return u.RawFileSystem.GetLk(nil, in, out)
}

func (u uninterruptedFS) SetLk(_ <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return u.RawFileSystem.SetLk(nil, in)
}

func (u uninterruptedFS) Release(_ <-chan struct{}, in *fuse.ReleaseIn) {
	u.RawFileSystem.Release(nil, in)
}

func (u uninterruptedFS) Write(_ <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	return u.RawFileSystem.Write(nil, in, data)
}

func (u uninterruptedFS) Writev(_ <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	return u.RawFileSystem.Writev(nil, in, data)
}

func (u uninterruptedFS) CopyFileRange(_ <-chan struct{}, in *fuse.CopyFileRangeIn) (uint32, fuse.Status) {
	return u.RawFileSystem.CopyFileRange(nil, in)
}

func (u uninterruptedFS) Ioctl(_ <-chan struct{}, in *fuse.IoctlIn, inbuf []byte, out *fuse.IoctlOut, outbuf []byte) fuse.Status {
	return u.RawFileSystem.Ioctl(nil, in, inbuf, out, outbuf)
}

func (u uninterruptedFS) Flush(_ <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	return u.RawFileSystem.Flush(nil, in)
}

func (u uninterruptedFS) Fsync(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	return u.RawFileSystem.Fsync(nil, in)
}

func (u uninterruptedFS) Fallocate(_ <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	return u.RawFileSystem.Fallocate(nil, in)
}

func (u uninterruptedFS) OpenDir(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return u.RawFileSystem.OpenDir(nil, in, out)
}

func (u uninterruptedFS) ReadDir(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return u.RawFileSystem.ReadDir(nil, in, out)
}

func (u uninterruptedFS) ReadDirPlus(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return u.RawFileSystem.ReadDirPlus(nil, in, out)
}

func (u uninterruptedFS) FsyncDir(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	return u.RawFileSystem.FsyncDir(nil, in)
}

func (u uninterruptedFS) StatFs(_ <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	return u.RawFileSystem.StatFs(nil, h, out)
}

func (u uninterruptedFS) Statx(_ <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	return u.RawFileSystem.Statx(nil, in, out)
}
