package history

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/pithos"
)

// RestoreFunc copies version src (whose hashmap is hm, nil on Swift) onto
// the file out, open for writing as fhOut, server-side. It returns the
// bytes now in out, or an errno; EXDEV makes the caller (cp) copy the bytes
// itself.
type RestoreFunc func(ctx context.Context, src pithos.ObjectVersion, hm *pithos.Hashmap, out *gofs.Inode, fhOut gofs.FileHandle) (int64, syscall.Errno)

// Config is what the views need from the mount.
type Config struct {
	Client Store // the mount's own account
	Cache  *cache.Cache
	// Container and Prefix are the mount's root: with no Container the
	// views' top level is the account's containers.
	Container, Prefix string
	UID, GID          uint32
	TTL               time.Duration // how long a listing or version list answers lookups (default 1s)
	Readahead         int           // largest readahead window, in blocks
	Log               *zap.Logger
	// Errno maps an error to the errno a FUSE call returns and logs it once
	// (op, object path).
	Errno   func(op, path string, err error) syscall.Errno
	Restore RestoreFunc
	Now     func() time.Time
}

// Views builds .pithosfs/versions and .pithosfs/deleted.
type Views struct {
	cfg Config

	// gen moves with every change this mount makes (Changed): snapshots
	// taken before are stale at once, not only after the TTL.
	gen atomic.Int64

	mu      sync.Mutex
	hist    map[string]histEntry // container → where its history is
	logged  map[string]bool      // containers whose missing history was logged
	deleted map[string]time.Time // "container\x00name" this mount deleted → when
}

type histEntry struct {
	h   pithos.History
	err error
	at  time.Time
}

// maxNoted bounds the names of deleted objects a mount remembers.
const maxNoted = 10_000

// New returns the views of cfg.
func New(cfg Config) *Views {
	if cfg.TTL <= 0 {
		cfg.TTL = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Views{cfg: cfg, hist: map[string]histEntry{}, logged: map[string]bool{}, deleted: map[string]time.Time{}}
}

// Versions returns the root node of .pithosfs/versions.
func (v *Views) Versions() gofs.InodeEmbedder { return v.top(false) }

// Deleted returns the root node of .pithosfs/deleted.
func (v *Views) Deleted() gofs.InodeEmbedder { return v.top(true) }

func (v *Views) top(deleted bool) gofs.InodeEmbedder {
	if v.cfg.Container == "" {
		return &accountNode{v: v, deleted: deleted}
	}
	return &pathNode{v: v, deleted: deleted, container: v.cfg.Container, path: v.cfg.Prefix}
}

// Changed tells the views that the mount changed an object: what they
// listed before is fetched again.
func (v *Views) Changed() { v.gen.Add(1) }

// NoteDeleted records that this mount deleted container/name: the
// deleted view lists it (Pithos+ has no listing of deleted names).
func (v *Views) NoteDeleted(container, name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.deleted) >= maxNoted {
		clear(v.deleted)
	}
	v.deleted[container+"\x00"+name] = v.cfg.Now()
	v.gen.Add(1)
}

func (v *Views) notedUnder(container string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for k := range v.deleted {
		if c, n, _ := cutNul(k); c == container {
			out = append(out, n)
		}
	}
	return out
}

func cutNul(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// historyOf is where container keeps its history, asked again after a
// minute; a container without one is logged once and has empty views.
func (v *Views) historyOf(ctx context.Context, container string) (pithos.History, error) {
	now := v.cfg.Now()
	v.mu.Lock()
	e, ok := v.hist[container]
	v.mu.Unlock()
	if ok && now.Sub(e.at) < time.Minute {
		return e.h, e.err
	}
	h, err := v.cfg.Client.HistoryOf(ctx, container)
	if err != nil && !errors.Is(err, pithos.ErrNoHistory) {
		return h, err // not cached: a failure may pass
	}
	v.mu.Lock()
	v.hist[container] = histEntry{h: h, err: err, at: now}
	first := err != nil && !v.logged[container]
	if first {
		v.logged[container] = true
	}
	v.mu.Unlock()
	if first {
		v.cfg.Log.Warn("history: container keeps no versions, its .pithosfs/versions and .pithosfs/deleted views are empty",
			zap.String("container", container), zap.Error(err))
	}
	return h, err
}

func (v *Views) dirAttr(out *fuse.Attr, ino uint64) {
	out.Mode = fuse.S_IFDIR | 0o555
	out.Ino = ino
	out.Nlink = 2
	out.Owner = fuse.Owner{Uid: v.cfg.UID, Gid: v.cfg.GID}
}

func (v *Views) timeouts(out *fuse.EntryOut) {
	out.SetEntryTimeout(v.cfg.TTL)
	out.SetAttrTimeout(v.cfg.TTL)
}

// accountNode is the views' top level on a whole-cloud mount: the
// account's containers.
type accountNode struct {
	gofs.Inode
	fixed.ReadOnlyDir
	v       *Views
	deleted bool
}

var (
	_ = (gofs.NodeGetattrer)((*accountNode)(nil))
	_ = (gofs.NodeLookuper)((*accountNode)(nil))
	_ = (gofs.NodeReaddirer)((*accountNode)(nil))
)

func (a *accountNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a.v.dirAttr(&out.Attr, a.StableAttr().Ino)
	return 0
}

func (a *accountNode) containers(ctx context.Context) ([]string, syscall.Errno) {
	cs, err := a.v.cfg.Client.ListContainers(ctx)
	if err != nil {
		return nil, a.v.cfg.Errno("list containers", a.v.cfg.Client.AccountID(), err)
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if validName(c.Name) {
			out = append(out, c.Name)
		}
	}
	return out, 0
}

func (a *accountNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	cs, errno := a.containers(ctx)
	if errno != 0 {
		return nil, errno
	}
	es := make([]fuse.DirEntry, 0, len(cs))
	for _, c := range cs {
		es = append(es, fuse.DirEntry{Name: c, Mode: fuse.S_IFDIR, Ino: ino(kind(a.deleted), c, "")})
	}
	return gofs.NewListDirStream(es), 0
}

func (a *accountNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	cs, errno := a.containers(ctx)
	if errno != 0 {
		return nil, errno
	}
	for _, c := range cs {
		if c == name {
			p := &pathNode{v: a.v, deleted: a.deleted, container: c}
			ch := a.NewInode(ctx, p, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino(kind(a.deleted), c, "")})
			a.v.dirAttr(&out.Attr, ch.StableAttr().Ino)
			a.v.timeouts(out)
			return ch, 0
		}
	}
	return nil, syscall.ENOENT
}

func kind(deleted bool) string {
	if deleted {
		return "deleted"
	}
	return "versions"
}
