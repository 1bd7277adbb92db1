// The account node: its containers as directories (create, remove, no rename), refusals for files.

package fs

import (
	"context"
	"errors"
	"sort"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// accountNode lists an account's containers (for another account: those
// holding objects shared with the user). mkdir and rmdir create and delete
// containers.
type accountNode struct {
	gofs.Inode
	sys  *fsys
	acct *account

	mu   sync.Mutex
	list map[string]pithos.ContainerEntry
	at   time.Time
	// staleWarned: the last list answered while the server was
	// unreachable, and that was logged (once until a list arrives).
	staleWarned bool
}

// OnAdd adds the .pithosfs directory when a is the root of an account mount.
func (a *accountNode) OnAdd(ctx context.Context) {
	if a.IsRoot() {
		addDotDir(ctx, &a.Inode, a.sys)
	}
}

func (a *accountNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
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
	cs, err := a.acct.client.ListContainers(pithos.FailFast(ctx))
	if err != nil && a.list != nil && errors.Is(err, fault.ErrUnreachable) {
		// The server is not there: the last list answers (stale-if-error,
		// logged once; asked again at the next call).
		if !a.staleWarned {
			a.staleWarned = true
			a.sys.log.Warn("fs: server unreachable: answering from the account's last list of containers",
				zap.String("path", a.acct.uuid), zap.Duration("age", time.Since(a.at).Round(time.Millisecond)), zap.Error(err))
		}
		return a.list, 0
	}
	if err != nil {
		return nil, a.sys.fail("list containers", a.acct.uuid, err)
	}
	a.staleWarned = false
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

func (a *accountNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if ch := dotDirChild(&a.Inode, a.sys, name, out); ch != nil {
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

func (a *accountNode) containerChild(ctx context.Context, name string, mtime time.Time, out *fuse.EntryOut) *gofs.Inode {
	ino := inoOf("container", a.acct.uuid, name)
	a.sys.dirAttr(&out.Attr, ino, mtime)
	return a.NewInode(ctx, &dirNode{sys: a.sys, top: &topDir{acct: a.acct, container: name}, mtime: mtime},
		gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino})
}

func (a *accountNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
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
		out = append(out, dotDirEntry())
	}
	for _, n := range names {
		shown := encodeName(n)
		if isDotDir(&a.Inode, shown) {
			continue // a container named .pithosfs is hidden at the root
		}
		out = append(out, fuse.DirEntry{Name: shown, Mode: fuse.S_IFDIR, Ino: inoOf("container", a.acct.uuid, n)})
	}
	return gofs.NewListDirStream(out), 0
}

// Mkdir creates a container.
func (a *accountNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if isDotDir(&a.Inode, name) {
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
	if isDotDir(&a.Inode, name) {
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
func (a *accountNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EXDEV
}

func (a *accountNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EPERM
}

func (a *accountNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (a *accountNode) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (a *accountNode) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (a *accountNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// An account holds containers only: mkdir creates one (accountNode.Mkdir);
// files, links and attribute changes are refused.
var (
	_ = (gofs.NodeCreater)((*accountNode)(nil))
	_ = (gofs.NodeSymlinker)((*accountNode)(nil))
	_ = (gofs.NodeMknoder)((*accountNode)(nil))
	_ = (gofs.NodeLinker)((*accountNode)(nil))
	_ = (gofs.NodeSetattrer)((*accountNode)(nil))
)
