package fs

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Dropping set-user-ID and set-group-ID bits on write (FUSE_HANDLE_KILLPRIV_V2).
//
// Without this capability the kernel asks, before every WRITE, whether the
// file carries privileges to drop: a GETXATTR of security.capability, one
// FUSE round trip per write (1 024 per GiB written with 1 MiB writes),
// because FUSE clears SB_NOSEC and so can never mark an inode as known to
// be free of them. With it the mount answers for dropping them instead,
// the kernel sets SB_NOSEC, and after its first check of a file (S_NOSEC)
// writes go straight through: the daemon's CPU for a 1 GiB write on Swift
// went from 2.2–3.0 to 1.9–2.1 s.
//
// The kernel's contract, which the methods below keep: a WRITE, a SETATTR
// (a truncate, a chown) or an OPEN with O_TRUNC by a caller without
// CAP_FSETID carries a kill flag (WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID,
// OPEN_KILL_SUIDGID); the file system then clears S_ISUID, and S_ISGID when
// the group may execute the file, as the VFS does for a local file.
// File capabilities (security.capability) need nothing: the mount stores
// no security.* attribute (xattrprobe.go).

// killPrivFS drops set-ID bits for the requests that carry the kernel's
// kill flag and passes every request on.
type killPrivFS struct {
	fuse.RawFileSystem
}

// killCapabilities are the FUSE capabilities the mount asks for beyond
// go-fuse's defaults.
const killCapabilities = fuse.CAP_HANDLE_KILLPRIV_V2

// killedMode is mode without the bits a write by an unprivileged caller
// drops; changed is false when it has none of them.
func killedMode(mode uint32) (uint32, bool) {
	kill := uint32(0)
	if mode&syscall.S_ISUID != 0 {
		kill |= syscall.S_ISUID
	}
	if mode&(syscall.S_ISGID|0o010) == syscall.S_ISGID|0o010 {
		kill |= syscall.S_ISGID
	}
	return mode &^ kill, kill != 0
}

// killPriv drops the set-ID bits of the node in header, if it has any, as
// a SETATTR of its mode.
func (x killPrivFS) killPriv(cancel <-chan struct{}, header fuse.InHeader) fuse.Status {
	var attr fuse.AttrOut
	if st := x.RawFileSystem.GetAttr(cancel, &fuse.GetAttrIn{InHeader: header}, &attr); !st.Ok() {
		return st
	}
	mode, changed := killedMode(attr.Mode)
	if !changed {
		return fuse.OK
	}
	in := &fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{InHeader: header, Valid: fuse.FATTR_MODE, Mode: mode & 0o7777}}
	return x.RawFileSystem.SetAttr(cancel, in, &attr)
}

func (x killPrivFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		if st := x.killPriv(cancel, in.InHeader); !st.Ok() {
			return 0, st
		}
	}
	return x.RawFileSystem.Write(cancel, in, data)
}

// Writev is what go-fuse's server calls (Write only when it is ENOSYS).
func (x killPrivFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		if st := x.killPriv(cancel, in.InHeader); !st.Ok() {
			return 0, st
		}
	}
	return x.RawFileSystem.Writev(cancel, in, data)
}

func (x killPrivFS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	if in.Valid&fuse.FATTR_KILL_SUIDGID != 0 {
		c := *in
		c.Valid &^= fuse.FATTR_KILL_SUIDGID
		mode := in.Mode
		if in.Valid&fuse.FATTR_MODE == 0 {
			var attr fuse.AttrOut
			if st := x.RawFileSystem.GetAttr(cancel, &fuse.GetAttrIn{InHeader: in.InHeader}, &attr); !st.Ok() {
				return st
			}
			mode = attr.Mode
		}
		if m, changed := killedMode(mode); changed || in.Valid&fuse.FATTR_MODE != 0 {
			c.Valid |= fuse.FATTR_MODE
			c.Mode = m & 0o7777
		}
		in = &c
	}
	return x.RawFileSystem.SetAttr(cancel, in, out)
}

func (x killPrivFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if in.Mode&fuse.OPEN_KILL_SUIDGID != 0 {
		if st := x.killPriv(cancel, in.InHeader); !st.Ok() {
			return st
		}
	}
	return x.RawFileSystem.Open(cancel, in, out)
}
