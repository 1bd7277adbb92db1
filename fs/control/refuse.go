package control

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var _ gofs.NodeSetattrer = (*lastErrorNode)(nil)

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
