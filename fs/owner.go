package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Ownership of new entries. A file, directory, symlink or special file
// belongs to the process that created it (the FUSE caller): its uid, and its
// gid or, in a set-group-ID directory, the directory's group (a directory
// created there keeps the bit), as on Linux file systems. The owner is
// stored in the POSIX token (fs/meta.go) when it differs from the mount's
// own identity (Config.UID/GID), which is the owner of every object that
// carries none. chown's rules (only root gives a file away; the owner may
// change the group to one of its own) are the kernel's, with
// default_permissions (--allow-other); the daemon stores what it is sent.

// newPosix returns the stored attributes of an entry the caller of ctx
// creates in d with permission bits mode (defMode: the kind's default,
// which is then not stored).
func (d *dirNode) newPosix(ctx context.Context, mode, defMode uint32, isDir bool) posix {
	var p posix
	uid, gid := d.sys.cfg.UID, d.sys.cfg.GID
	if c, ok := fuse.FromContext(ctx); ok {
		uid, gid = c.Uid, c.Gid
	}
	var parent fuse.Attr
	d.fillAttr(&parent)
	if parent.Mode&syscall.S_ISGID != 0 {
		gid = parent.Gid
		if isDir {
			mode |= syscall.S_ISGID
		}
	}
	if mode&0o7777 != defMode {
		p.mode, p.hasMode = mode&0o7777, true
	}
	if uid != d.sys.cfg.UID {
		p.uid, p.hasUID = uid, true
	}
	if gid != d.sys.cfg.GID {
		p.gid, p.hasGID = gid, true
	}
	return p
}
