package fs

import (
	"strings"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
)

// The security label and POSIX ACL probes.
//
// `ls -l` asks every entry for its SELinux label (lgetxattr
// security.selinux) and its ACL (getxattr system.posix_acl_access, and
// _default on directories); the kernel forwards each to the daemon, so
// before this an `ls -l` of N files cost 2N GETXATTR round trips on top of
// its listing. pithosfs stores neither labels nor ACLs (FUSE_POSIX_ACL is
// off, the kernel checks plain modes), so every name outside user.* is
// answered here, before any node is consulted, with EOPNOTSUPP ("not
// supported by this filesystem"), not ENODATA ("this file has none").
// coreutils (ls, cp, mv) remember EOPNOTSUPP per device and stop asking for
// the rest of the run: an `ls -l` then costs 3 GETXATTRs in all, not 2 per
// entry. The kernel reads security.capability before a write that may need
// to drop privileges; EOPNOTSUPP there means "no capabilities", as ENODATA
// would.
//
// Only ENOSYS would make the kernel itself stop sending GETXATTR, and for
// every name: user.* xattrs (fs/xattr.go) must keep working, so that is not
// an option.

// xattrProbeFS answers GETXATTR of the security.*, system.* and trusted.*
// namespaces locally and passes everything else to the node tree.
type xattrProbeFS struct {
	fuse.RawFileSystem
	stats *Stats
}

// frontFS is the raw file system go-fuse's server talks to: nodes answers
// what the wrappers pass on. Outermost first: the security/ACL probes
// (this file), set-ID bits on write (killpriv.go), READ buffers charged to
// budget (reqmem.go), no request cancelled by a signal but SETLKW
// (interrupts.go).
func frontFS(nodes fuse.RawFileSystem, stats *Stats, budget *cache.Budget) fuse.RawFileSystem {
	return &xattrProbeFS{RawFileSystem: killPrivFS{reqMemFS{uninterruptedFS{nodes}, budget, stats}}, stats: stats}
}

// localXattr reports whether attr is in a namespace the mount does not
// store (everything but user.*).
func localXattr(attr string) bool {
	return !strings.HasPrefix(attr, "user.")
}

func (x *xattrProbeFS) GetXAttr(cancel <-chan struct{}, header *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	x.stats.getxattrs.Add(1)
	if localXattr(attr) {
		return 0, fuse.ENOTSUP
	}
	return x.RawFileSystem.GetXAttr(cancel, header, attr, dest)
}
