package fs

import (
	"context"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/pithos"
)

// controlName is the status directory at the root of every mount. At the
// root of a container or prefix mount it hides an object of that name.
const controlName = ".pithosfs"

// addControl adds the control directory under root, the mount's root.
func addControl(ctx context.Context, root *fs.Inode, s *fsys) {
	ctl := root.NewPersistentInode(ctx, &controlDir{sys: s}, fs.StableAttr{Mode: fuse.S_IFDIR, Ino: inoOf("control")})
	root.AddChild(controlName, ctl, true)
}

// isControl reports whether name in directory n is the control directory:
// n is the mount's root and name is controlName.
func isControl(n *fs.Inode, name string) bool {
	return name == controlName && n.IsRoot()
}

// controlChild returns the control directory when isControl(n, name),
// filling out; nil otherwise.
func controlChild(n *fs.Inode, s *fsys, name string, out *fuse.EntryOut) *fs.Inode {
	if !isControl(n, name) {
		return nil
	}
	ch := n.GetChild(controlName)
	if ch == nil {
		return nil
	}
	s.dirAttr(&out.Attr, ch.StableAttr().Ino, startTime)
	out.Mode = fuse.S_IFDIR | 0o555
	return ch
}

// controlEntry is the control directory's readdir entry.
func controlEntry() fuse.DirEntry {
	return fuse.DirEntry{Name: controlName, Mode: fuse.S_IFDIR, Ino: inoOf("control")}
}

// hideControl returns the listing of directory n without an object or
// directory named controlName when n is the mount's root (that name is the
// control directory there).
func hideControl(n *fs.Inode, l *listing) *listing {
	if !n.IsRoot() {
		return l
	}
	_, a := l.find(controlName)
	_, b := l.find(controlName + rcloneLinkSuffix)
	if !a && !b {
		return l
	}
	hide := map[string]*pithos.DirEntry{}
	for _, n := range []string{controlName, controlName + rcloneLinkSuffix} {
		if e, ok := l.find(n); ok && displayName(e) == controlName {
			hide[n] = nil
		}
	}
	return l.with(hide)
}

// OnAdd adds the control directory when d is the root of a container or
// prefix mount.
func (d *dirNode) OnAdd(ctx context.Context) {
	if d.IsRoot() {
		addControl(ctx, &d.Inode, d.sys)
	}
}

// OnAdd adds the control directory when a is the root of an account mount.
func (a *accountNode) OnAdd(ctx context.Context) {
	if a.IsRoot() {
		addControl(ctx, &a.Inode, a.sys)
	}
}

// rootNode is the root of a whole-cloud mount: the user's account, every
// account sharing objects with the user, and the control directory.
type rootNode struct {
	fs.Inode
	fixedDir // accounts, control trees and .pithosfs are not removed or renamed (fs/refuse.go)
	sys      *fsys

	mu   sync.Mutex
	list []*account
	at   time.Time
}

var (
	_ = (fs.NodeOnAdder)((*rootNode)(nil))
	_ = (fs.NodeLookuper)((*rootNode)(nil))
	_ = (fs.NodeReaddirer)((*rootNode)(nil))
	_ = (fs.NodeGetattrer)((*rootNode)(nil))
	_ = (fs.NodeStatfser)((*rootNode)(nil))
)

func (r *rootNode) OnAdd(ctx context.Context) {
	addControl(ctx, &r.Inode, r.sys)
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

func (r *rootNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
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
	shared, err := s.self.client.ListSharingAccounts(ctx)
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

func (r *rootNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if ch := controlChild(&r.Inode, r.sys, name, out); ch != nil {
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

func (r *rootNode) accountChild(ctx context.Context, a *account, out *fuse.EntryOut) *fs.Inode {
	ino := inoOf("account", a.uuid)
	r.sys.dirAttr(&out.Attr, ino, startTime)
	return r.NewInode(ctx, &accountNode{sys: r.sys, acct: a}, fs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino})
}

func (r *rootNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	list, errno := r.accountsList(ctx)
	if errno != 0 {
		return nil, errno
	}
	out := []fuse.DirEntry{controlEntry()}
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
	return fs.NewListDirStream(out), 0
}

// accountNode lists an account's containers (for another account: those
// holding objects shared with the user). mkdir and rmdir create and delete
// containers.
type accountNode struct {
	fs.Inode
	sys  *fsys
	acct *account

	mu   sync.Mutex
	list map[string]pithos.ContainerEntry
	at   time.Time
}

var (
	_ = (fs.NodeLookuper)((*accountNode)(nil))
	_ = (fs.NodeReaddirer)((*accountNode)(nil))
	_ = (fs.NodeGetattrer)((*accountNode)(nil))
	_ = (fs.NodeStatfser)((*accountNode)(nil))
	_ = (fs.NodeMkdirer)((*accountNode)(nil))
	_ = (fs.NodeRmdirer)((*accountNode)(nil))
	_ = (fs.NodeRenamer)((*accountNode)(nil))
)

func (a *accountNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a.sys.dirAttr(&out.Attr, a.StableAttr().Ino, startTime)
	return 0
}

func (a *accountNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return a.sys.statfs(ctx, out)
}

func (a *accountNode) containers(ctx context.Context) (map[string]pithos.ContainerEntry, syscall.Errno) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.list != nil && time.Since(a.at) < a.sys.cfg.ListTTL {
		return a.list, 0
	}
	cs, err := a.acct.client.ListContainers(ctx)
	if err != nil {
		return nil, a.sys.fail("list containers", a.acct.uuid, err)
	}
	m := make(map[string]pithos.ContainerEntry, len(cs))
	for _, c := range cs {
		m[c.Name] = c
	}
	a.list, a.at = m, time.Now()
	return m, 0
}

func (a *accountNode) invalidate() {
	a.mu.Lock()
	a.list = nil
	a.mu.Unlock()
}

func (a *accountNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if ch := controlChild(&a.Inode, a.sys, name, out); ch != nil {
		return ch, 0
	}
	c, errno := a.container(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	return a.containerChild(ctx, c.Name, c.LastModified, out), 0
}

// container returns the container shown as name (fs/names.go: ".", ".."
// and names over 255 bytes are shown escaped).
func (a *accountNode) container(ctx context.Context, name string) (pithos.ContainerEntry, syscall.Errno) {
	raw, kind := decodeName(name)
	if kind == nameTooLong {
		return pithos.ContainerEntry{}, syscall.ENAMETOOLONG
	}
	m, errno := a.containers(ctx)
	if errno != 0 {
		return pithos.ContainerEntry{}, errno
	}
	if kind == nameHashed {
		for n, c := range m {
			if encodeName(n) == name {
				return c, 0
			}
		}
	}
	if c, ok := m[raw]; ok && kind == nameExact {
		return c, 0
	}
	return pithos.ContainerEntry{}, syscall.ENOENT
}

func (a *accountNode) containerChild(ctx context.Context, name string, mtime time.Time, out *fuse.EntryOut) *fs.Inode {
	ino := inoOf("container", a.acct.uuid, name)
	a.sys.dirAttr(&out.Attr, ino, mtime)
	return a.NewInode(ctx, &dirNode{sys: a.sys, top: &topDir{acct: a.acct, container: name}, mtime: mtime},
		fs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino})
}

func (a *accountNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	m, errno := a.containers(ctx)
	if errno != 0 {
		return nil, errno
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fuse.DirEntry, 0, len(names)+1)
	if a.IsRoot() {
		out = append(out, controlEntry())
	}
	for _, n := range names {
		shown := encodeName(n)
		if isControl(&a.Inode, shown) {
			continue // a container named .pithosfs is hidden at the root
		}
		out = append(out, fuse.DirEntry{Name: shown, Mode: fuse.S_IFDIR, Ino: inoOf("container", a.acct.uuid, n)})
	}
	return fs.NewListDirStream(out), 0
}

// Mkdir creates a container.
func (a *accountNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if isControl(&a.Inode, name) {
		return nil, syscall.EEXIST
	}
	name, errno := newSegment(name)
	if errno != 0 {
		return nil, errno
	}
	created, err := a.acct.client.CreateContainer(ctx, name, pithos.CreateContainerOptions{})
	a.invalidate()
	if err != nil {
		return nil, a.sys.fail("mkdir container", a.acct.uuid+"/"+name, err)
	}
	if !created {
		return nil, syscall.EEXIST
	}
	return a.containerChild(ctx, name, time.Now(), out), 0
}

// Rmdir deletes an empty container (ENOTEMPTY otherwise).
func (a *accountNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if isControl(&a.Inode, name) {
		return syscall.EPERM
	}
	c, errno := a.container(ctx, name)
	if errno != 0 {
		return errno
	}
	name = c.Name
	err := a.acct.client.DeleteContainer(ctx, name, pithos.DeleteContainerOptions{})
	a.invalidate()
	if err != nil {
		return a.sys.fail("rmdir container", a.acct.uuid+"/"+name, err)
	}
	a.sys.lists.invalidateTree(dirKey{account: a.acct.uuid, container: name})
	return 0
}

// Rename of a container is refused: Pithos cannot rename containers, and
// delete plus create would not be a rename.
func (a *accountNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EXDEV
}
