package history

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/pithos"
)

// pathNode is one path of a container in a view: a directory holding the
// view's children of that path (in versions/ every current name, in
// deleted/ the deleted names and the directories holding them), and, when
// an object of that name has versions, one read-only file per version,
// newest first.
type pathNode struct {
	gofs.Inode
	fixed.ReadOnlyDir
	v         *Views
	deleted   bool
	container string
	path      string // object path, no trailing "/"; "" = the container's root

	mu    sync.Mutex
	at    time.Time
	gen   int64 // Views.gen when snap was taken
	snap  *snapshot
	known map[int64]pithos.ObjectVersion // versions never change: sizes fetched once
}

var (
	_ = (gofs.NodeGetattrer)((*pathNode)(nil))
	_ = (gofs.NodeLookuper)((*pathNode)(nil))
	_ = (gofs.NodeReaddirer)((*pathNode)(nil))
)

// snapshot is what a pathNode lists, as of its last load.
type snapshot struct {
	hist     pithos.History
	children []string
	vers     []pithos.ObjectVersion
	names    []string // versionNames(vers)
}

func (p *pathNode) objectPath() string { return p.container + "/" + p.path }

func (p *pathNode) child(name string) string {
	if p.path == "" {
		return name
	}
	return p.path + "/" + name
}

// load returns the node's snapshot, fetched again once older than the TTL.
func (p *pathNode) load(ctx context.Context) (*snapshot, syscall.Errno) {
	now, gen := p.v.cfg.Now(), p.v.gen.Load()
	p.mu.Lock()
	if p.snap != nil && now.Sub(p.at) < p.v.cfg.TTL && p.gen == gen {
		s := p.snap
		p.mu.Unlock()
		return s, 0
	}
	known := p.known
	p.mu.Unlock()
	s, err := p.fetch(ctx, now, known)
	if err != nil {
		return nil, p.v.cfg.Errno("history", p.objectPath(), err)
	}
	p.mu.Lock()
	p.snap, p.at, p.gen = s, now, gen
	if p.known == nil {
		p.known = map[int64]pithos.ObjectVersion{}
	}
	for _, v := range s.vers {
		if v.ID > 0 {
			p.known[v.ID] = v
		}
	}
	p.mu.Unlock()
	return s, 0
}

func (p *pathNode) fetch(ctx context.Context, now time.Time, known map[int64]pithos.ObjectVersion) (*snapshot, error) {
	c := p.v.cfg.Client
	h, err := p.v.historyOf(ctx, p.container)
	if errors.Is(err, pithos.ErrNoHistory) {
		return &snapshot{}, nil
	}
	if err != nil {
		return nil, err
	}
	s := &snapshot{hist: h}
	prefix := ""
	if p.path != "" {
		prefix = p.path + "/"
	}
	if p.deleted {
		files, dirs, err := c.DeletedEntries(ctx, h, p.container, prefix, now, p.v.notedUnder(p.container))
		if err != nil {
			return nil, err
		}
		s.children = mergeNames(files, dirs)
	} else {
		es, err := c.ListDir(ctx, p.container, prefix)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if validName(e.Name) {
				s.children = append(s.children, e.Name)
			}
		}
	}
	if p.path != "" {
		if s.vers, err = c.ObjectVersions(ctx, h, p.container, p.path, known); err != nil {
			return nil, err
		}
		if p.deleted && len(s.vers) > 0 && s.vers[0].Current {
			s.vers = nil // it lives: not in the deleted view
		}
		s.names = versionNames(s.vers)
	}
	return s, nil
}

func mergeNames(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{a, b} {
		for _, n := range l {
			if validName(n) && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

func (p *pathNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	p.v.dirAttr(&out.Attr, p.StableAttr().Ino)
	return 0
}

func (p *pathNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	s, errno := p.load(ctx)
	if errno != 0 {
		return nil, errno
	}
	es := make([]fuse.DirEntry, 0, len(s.children)+len(s.vers))
	for _, n := range s.children {
		es = append(es, fuse.DirEntry{Name: n, Mode: fuse.S_IFDIR, Ino: ino(kind(p.deleted), p.container, p.child(n))})
	}
	for i, v := range s.vers {
		es = append(es, fuse.DirEntry{Name: s.names[i], Mode: fuse.S_IFREG, Ino: versionIno(p.deleted, p.container, v)})
	}
	return gofs.NewListDirStream(es), 0
}

func versionIno(deleted bool, container string, v pithos.ObjectVersion) uint64 {
	return ino(kind(deleted), "version", container, v.Container, v.Name, strconv.FormatInt(v.ID, 10))
}

func (p *pathNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	s, errno := p.load(ctx)
	if errno != 0 {
		return nil, errno
	}
	for i, n := range s.names {
		if n == name {
			vf := &versionFile{v: p.v, ver: s.vers[i], hist: s.hist, path: p.objectPath()}
			ch := p.NewInode(ctx, vf, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: versionIno(p.deleted, p.container, s.vers[i])})
			vf.fill(&out.Attr, ch.StableAttr().Ino)
			p.v.timeouts(out)
			return ch, 0
		}
	}
	found := false
	for _, n := range s.children {
		found = found || n == name
	}
	if !found && p.deleted && validName(name) && s.hist != (pithos.History{}) {
		// Pithos+ lists no deleted names: any name with a history can be
		// looked up.
		vs, err := p.v.cfg.Client.ObjectVersions(ctx, s.hist, p.container, p.child(name), nil)
		if err != nil {
			return nil, p.v.cfg.Errno("history", p.container+"/"+p.child(name), err)
		}
		found = len(vs) > 0 && !vs[0].Current
	}
	if !found {
		return nil, syscall.ENOENT
	}
	c := &pathNode{v: p.v, deleted: p.deleted, container: p.container, path: p.child(name)}
	ch := p.NewInode(ctx, c, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino(kind(p.deleted), p.container, c.path)})
	p.v.dirAttr(&out.Attr, ch.StableAttr().Ino)
	p.v.timeouts(out)
	return ch, 0
}
