// The mount's root: the accounts (or one account's containers) and the cloud control trees beside them.

package fs

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// controlName is the status directory at the root of every mount. At the
// root of a container or prefix mount it hides an object of that name.
const controlName = ".pithosfs"

// rootNode is the root of a whole-cloud mount: the user's account, every
// account sharing objects with the user, and the .pithosfs directory.
type rootNode struct {
	gofs.Inode
	fixed.ReadOnlyDir // accounts, control trees and .pithosfs are not removed or renamed (fs/internal/fixed)
	sys               *fsys

	mu   sync.Mutex
	list []*account
	at   time.Time
}

var (
	_ = (gofs.NodeOnAdder)((*rootNode)(nil))
	_ = (gofs.NodeLookuper)((*rootNode)(nil))
	_ = (gofs.NodeReaddirer)((*rootNode)(nil))
	_ = (gofs.NodeGetattrer)((*rootNode)(nil))
	_ = (gofs.NodeStatfser)((*rootNode)(nil))
)

func (r *rootNode) OnAdd(ctx context.Context) {
	addDotDir(ctx, &r.Inode, r.sys)
	if c := r.sys.cfg.Control; c != nil {
		control.Add(ctx, &r.Inode, *c)
	}
}

// cloudDirs are the control trees shown beside the accounts.
func (r *rootNode) cloudDirs() []string {
	if c := r.sys.cfg.Control; c != nil {
		return control.Names(*c)
	}
	return nil
}

func (r *rootNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.sys.dirAttr(&out.Attr, 1, startTime)
	return 0
}

func (r *rootNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return r.sys.statfs(ctx, out)
}

// accountsList returns the user's account and the sharing accounts, named
// by user name, refreshed after the listing TTL.
func (r *rootNode) accountsList(ctx context.Context) ([]*account, syscall.Errno) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.list != nil && time.Since(r.at) < r.sys.cfg.ListTTL {
		return r.list, 0
	}
	s := r.sys
	ctx = pithos.FailFast(ctx)
	shared, err := s.self.client.ListSharingAccounts(ctx)
	if err != nil && r.list != nil && errors.Is(err, fault.ErrUnreachable) {
		// The server is not there: the last list answers (asked again
		// at the next call).
		s.log.Debug("fs: listing accounts that share with the user: server unreachable, answering from the last list", zapErr(err))
		return r.list, 0
	}
	if err != nil {
		// Plain Swift has no listing of sharing accounts: show the user's own.
		s.log.Debug("fs: listing accounts that share with the user", zapErr(err))
		shared = nil
	}
	uuids := make([]string, 0, len(shared))
	for _, a := range shared {
		if a.Name != s.self.uuid {
			uuids = append(uuids, a.Name)
		}
	}
	names := map[string]string{}
	if s.cfg.Names != nil && len(uuids) > 0 {
		if names, err = s.cfg.Names.UUIDsToNames(ctx, uuids); err != nil {
			s.log.Debug("fs: resolving account names", zapErr(err))
			names = map[string]string{}
		}
	}
	list := []*account{s.self}
	for _, u := range uuids {
		list = append(list, s.accountFor(u, names[u]))
	}
	r.list, r.at = list, time.Now()
	return list, 0
}

func (r *rootNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if ch := dotDirChild(&r.Inode, r.sys, name, out); ch != nil {
		return ch, 0
	}
	for _, d := range r.cloudDirs() {
		if d != name {
			continue
		}
		if ch := r.GetChild(name); ch != nil {
			r.sys.dirAttr(&out.Attr, ch.StableAttr().Ino, startTime)
			return ch, 0
		}
	}
	list, errno := r.accountsList(ctx)
	if errno != 0 {
		return nil, errno
	}
	for _, a := range list {
		if a.name == name || a.uuid == name {
			return r.accountChild(ctx, a, out), 0
		}
	}
	// A uuid or name not in the sharing list (nothing shared yet): accept
	// uuids and resolvable names, so pithos://OTHER/… paths work.
	if r.sys.cfg.Names != nil {
		if m, err := r.sys.cfg.Names.NamesToUUIDs(ctx, []string{name}); err == nil && m[name] != "" {
			return r.accountChild(ctx, r.sys.accountFor(m[name], name), out), 0
		}
	}
	return nil, syscall.ENOENT
}

func (r *rootNode) accountChild(ctx context.Context, a *account, out *fuse.EntryOut) *gofs.Inode {
	ino := inoOf("account", a.uuid)
	r.sys.dirAttr(&out.Attr, ino, startTime)
	return r.NewInode(ctx, &accountNode{sys: r.sys, acct: a}, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino})
}

func (r *rootNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	list, errno := r.accountsList(ctx)
	if errno != 0 {
		return nil, errno
	}
	out := []fuse.DirEntry{dotDirEntry()}
	for _, d := range r.cloudDirs() {
		// Control trees are persistent children that nothing removes
		// (rootNode refuses rmdir); a missing one is left out, never a panic.
		if ch := r.GetChild(d); ch != nil {
			out = append(out, fuse.DirEntry{Name: d, Mode: fuse.S_IFDIR, Ino: ch.StableAttr().Ino})
		}
	}
	for _, a := range list {
		out = append(out, fuse.DirEntry{Name: a.name, Mode: fuse.S_IFDIR, Ino: inoOf("account", a.uuid)})
	}
	return gofs.NewListDirStream(out), 0
}

var (
	_ = (gofs.NodeLookuper)((*accountNode)(nil))
	_ = (gofs.NodeReaddirer)((*accountNode)(nil))
	_ = (gofs.NodeGetattrer)((*accountNode)(nil))
	_ = (gofs.NodeStatfser)((*accountNode)(nil))
	_ = (gofs.NodeMkdirer)((*accountNode)(nil))
	_ = (gofs.NodeRmdirer)((*accountNode)(nil))
	_ = (gofs.NodeRenamer)((*accountNode)(nil))
)
