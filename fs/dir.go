package fs

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
)

// topDir is where a container root (or the root of a mount of a prefix)
// sits in the object store. Directories below it find their own prefix by
// walking up the tree, so a renamed directory's descendants follow it.
type topDir struct {
	acct      *account
	container string
	under     string // "" or "PREFIX/" (dirKey)
}

// dirNode is a directory: a container root or a "/" level inside one,
// whether it exists as a marker object, only implicitly, or both.
type dirNode struct {
	fs.Inode
	sys *fsys
	top *topDir // set on container roots and the root of a subtree mount

	mu    sync.Mutex
	mtime time.Time
	px    posix // stored attributes of the marker (fs/meta.go)
}

var (
	_ = (fs.NodeLookuper)((*dirNode)(nil))
	_ = (fs.NodeOpendirHandler)((*dirNode)(nil))
	_ = (fs.NodeGetattrer)((*dirNode)(nil))
	_ = (fs.NodeStatfser)((*dirNode)(nil))
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
)

// where returns the directory's account and location. ok is false when the
// node is no longer in the tree (removed meanwhile).
func (d *dirNode) where() (acct *account, k dirKey, ok bool) {
	if d.top != nil {
		return d.top.acct, dirKey{account: d.top.acct.uuid, container: d.top.container, under: d.top.under}, true
	}
	name, parent := d.Parent()
	if parent == nil {
		return nil, dirKey{}, false
	}
	pd, isDir := parent.Operations().(*dirNode)
	if !isDir {
		return nil, dirKey{}, false
	}
	acct, pk, ok := pd.where()
	if !ok {
		return nil, dirKey{}, false
	}
	raw, ok := d.sys.rawName(name)
	if !ok {
		return nil, dirKey{}, false
	}
	return acct, dirKey{account: pk.account, container: pk.container, under: pk.under + raw + "/"}, true
}

func (d *dirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fillAttr(&out.Attr)
	return 0
}

func (d *dirNode) fillAttr(out *fuse.Attr) {
	d.mu.Lock()
	mt, px := d.mtime, d.px
	d.mu.Unlock()
	d.sys.dirAttr(out, d.StableAttr().Ino, mt)
	px.apply(out)
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.sys.statfs(ctx, out)
}

// listing returns the directory's listing, cached for at most maxAge.
func (d *dirNode) listing(ctx context.Context, maxAge time.Duration) (*account, dirKey, *listing, syscall.Errno) {
	acct, k, ok := d.where()
	if !ok {
		return nil, k, nil, syscall.ENOENT
	}
	// The registered files first, then the listing: a file whose commit
	// ends in between is in the listing by then (writeback.Config.OnCommit
	// runs before the file is unregistered).
	var files map[string]*writeback.File
	if m := d.sys.managerIfAny(acct); m != nil {
		files = m.FilesUnder(k.container, k.under)
	}
	l, err := d.sys.lists.get(ctx, acct.client, k, maxAge)
	if err != nil {
		return nil, k, nil, d.sys.fail("list", k.String(), err)
	}
	return acct, k, hideControl(&d.Inode, withPending(l, files)), 0
}

// withPending returns l with this mount's registered files of the directory
// (files) merged in: files created and not committed yet appear, files
// with unflushed writes show their current size, and a file just committed
// shows even when l predates the commit. It costs O(files), not
// O(entries): the result shares l's base.
func withPending(l *listing, files map[string]*writeback.File) *listing {
	if len(files) == 0 {
		return l
	}
	over := make(map[string]*pithos.DirEntry, len(files))
	for name, wf := range files {
		e, ok := l.find(name)
		switch {
		case ok && !e.IsDir && e.Object != nil:
			if wf.Dirty() {
				o := *e.Object
				o.Bytes = wf.Size()
				over[name] = &pithos.DirEntry{Name: name, Object: &o}
			}
		case !ok:
			b := wf.Base()
			if !wf.Dirty() && b.ETag == "" {
				continue // discarded
			}
			over[name] = &pithos.DirEntry{Name: name, Object: &pithos.ObjectInfo{Name: b.Name, Bytes: wf.Size(),
				ContentType: b.ContentType, ETag: b.ETag, Version: b.Version, Meta: b.Meta}}
		}
	}
	return l.with(over)
}

// Lookup answers as of at most the attribute TTL ago (lookupEntry): the
// kernel asks again when its entry expires, and must then learn of changes
// made behind the mount (close-to-open: the size it caches bounds the next
// read).
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if ch := controlChild(&d.Inode, d.sys, name, out); ch != nil {
		return ch, 0
	}
	if len(name) > nameMax {
		return nil, syscall.ENAMETOOLONG
	}
	acct, k, e, ok, errno := d.lookupEntry(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	return d.sys.child(ctx, &d.Inode, acct, k, e, out), 0
}

// child returns the inode for a listing entry of parent (the existing one
// when the kernel already knows it, with its attributes refreshed) and
// fills out.
func (s *fsys) child(ctx context.Context, parent *fs.Inode, acct *account, k dirKey, e pithos.DirEntry, out *fuse.EntryOut) *fs.Inode {
	ino, mode := s.entryIdentity(parent, acct, k, e)
	s.remember(displayName(e), baseName(e))
	if ex := parent.GetChild(displayName(e)); ex != nil && ex.StableAttr().Ino == ino && ex.StableAttr().Mode == mode {
		switch n := ex.Operations().(type) {
		case *fileNode:
			n.refresh(e.Object)
			n.fillAttr(&out.Attr)
		case *dirNode:
			n.fromEntry(e)
			n.fillAttr(&out.Attr)
		case *symlinkNode:
			n.refresh(e.Object)
			n.fillAttr(&out.Attr)
		}
		return ex
	}
	switch mode {
	case fuse.S_IFDIR:
		d := &dirNode{sys: s}
		d.fromEntry(e)
		ch := parent.NewInode(ctx, d, fs.StableAttr{Mode: mode, Ino: ino})
		d.fillAttr(&out.Attr)
		return ch
	case fuse.S_IFLNK:
		l := &symlinkNode{sys: s, rclone: isRcloneLink(e)}
		l.refresh(e.Object)
		ch := parent.NewInode(ctx, l, fs.StableAttr{Mode: mode, Ino: ino})
		l.fillAttr(&out.Attr)
		return ch
	}
	f := &fileNode{sys: s}
	f.refresh(e.Object)
	f.fillAttr(&out.Attr)
	out.Attr.Ino = ino
	return parent.NewInode(ctx, f, fs.StableAttr{Mode: mode, Ino: ino})
}

// entryIdentity is identity, except that a file created by this mount keeps
// the (path-based) inode number it got at create after its first commit
// gives it a uuid: the uuid is mapped to that number from then on.
func (s *fsys) entryIdentity(parent *fs.Inode, acct *account, k dirKey, e pithos.DirEntry) (uint64, uint32) {
	ino, mode := s.identity(acct, k, e)
	if mode != fuse.S_IFREG || e.Object == nil {
		return ino, mode
	}
	ex := parent.GetChild(displayName(e))
	if ex == nil || ex.StableAttr().Ino == ino || ex.StableAttr().Mode != fuse.S_IFREG {
		return ino, mode
	}
	if f, ok := ex.Operations().(*fileNode); ok && f.isCreated() {
		exIno := ex.StableAttr().Ino
		if e.Object.UUID != "" {
			s.adopt(acct.uuid, e.Object.UUID, exIno)
		}
		return exIno, mode
	}
	return ino, mode
}

// adopt maps an object uuid to an inode number (bounded: the map is
// dropped when it grows past 100 000 entries, which only costs renumbering).
func (s *fsys) adopt(acct, uuid string, ino uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adopted == nil || len(s.adopted) > 100_000 {
		s.adopted = map[string]uint64{}
	}
	s.adopted[acct+"/"+uuid] = ino
}

func (s *fsys) adoptedIno(acct, uuid string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ino, ok := s.adopted[acct+"/"+uuid]
	return ino, ok
}

// identity is an entry's inode number and type: from the object's uuid
// (stable across renames and remounts), or for an implicit directory from
// its path.
func (s *fsys) identity(acct *account, k dirKey, e pithos.DirEntry) (uint64, uint32) {
	if isSymlinkEntry(e) {
		if e.Object.UUID != "" {
			return inoOf("uuid", acct.uuid, e.Object.UUID), fuse.S_IFLNK
		}
		return inoOf("path", acct.uuid, k.container, k.under+e.Name), fuse.S_IFLNK
	}
	if e.IsDir {
		if o := e.Object; o != nil && o.UUID != "" && (o.IsDir() || strings.HasSuffix(o.Name, "/")) {
			return inoOf("uuid", acct.uuid, o.UUID), fuse.S_IFDIR
		}
		return inoOf("dir", acct.uuid, k.container, k.under+e.Name), fuse.S_IFDIR
	}
	if e.Object.UUID != "" {
		if ino, ok := s.adoptedIno(acct.uuid, e.Object.UUID); ok {
			return ino, fuse.S_IFREG
		}
		return inoOf("uuid", acct.uuid, e.Object.UUID), fuse.S_IFREG
	}
	return inoOf("path", acct.uuid, k.container, k.under+e.Name), fuse.S_IFREG
}

func (d *dirNode) fromEntry(e pithos.DirEntry) {
	if e.Object == nil {
		return
	}
	d.mu.Lock()
	d.mtime = e.Object.LastModified
	if e.Object.IsDir() {
		d.px = posixOf(e.Object)
	}
	d.mu.Unlock()
}

// OpendirHandle snapshots the directory's listing: the handle reads it in
// order and answers READDIRPLUS lookups from it (FileLookuper), so an
// `ls -l` costs one listing (one request per 10 000 entries) and no HEAD.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	acct, k, l, errno := d.listing(ctx, d.sys.cfg.ListTTL)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dirHandle{d: d, acct: acct, k: k, l: l, entries: l.all(), ctl: d.IsRoot()}, 0, 0
}

// dirHandle is an open directory over one listing snapshot.
type dirHandle struct {
	d    *dirNode
	acct *account
	k    dirKey
	l    *listing
	// entries is l's entries in name order.
	entries []pithos.DirEntry
	ctl     bool // the mount's root: .pithosfs comes after ".."
	mu      sync.Mutex
	pos     int // 0 ".", 1 "..", [2 .pithosfs,] then entries
}

// first is the position of the listing's first entry.
func (h *dirHandle) first() int {
	if h.ctl {
		return 3
	}
	return 2
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := h.pos
	switch {
	case i == 0:
		h.pos++
		return &fuse.DirEntry{Name: ".", Mode: fuse.S_IFDIR, Ino: h.d.StableAttr().Ino, Off: 1}, 0
	case i == 1:
		h.pos++
		return &fuse.DirEntry{Name: "..", Mode: fuse.S_IFDIR, Ino: 1, Off: 2}, 0
	case i == 2 && h.ctl:
		h.pos++
		e := controlEntry()
		e.Off = 3
		return &e, 0
	}
	for ; i-h.first() < len(h.entries); i++ {
		e := h.entries[i-h.first()]
		h.pos++
		name := displayName(e)
		if !h.d.sys.shown(h.l, h.k, e, name) {
			continue // logged once
		}
		ino, mode := h.d.sys.entryIdentity(&h.d.Inode, h.acct, h.k, e)
		return &fuse.DirEntry{Name: name, Mode: mode, Ino: ino, Off: uint64(i + 1)}, 0
	}
	return nil, 0
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pos = int(min(off, uint64(len(h.entries)+h.first())))
	return 0
}

// Lookup answers READDIRPLUS from the snapshot. Its entries and attributes
// stay valid in the kernel for the listing TTL (not the shorter attribute
// TTL), so the lstat calls of an `ls -l` of a large directory that takes
// longer than the attribute TTL do not turn into lookups and relistings.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if ch := controlChild(&h.d.Inode, h.d.sys, name, out); ch != nil {
		return ch, 0
	}
	if len(name) > nameMax {
		return nil, syscall.ENAMETOOLONG
	}
	e, ok := findEntry(h.l, name)
	if !ok {
		return nil, syscall.ENOENT
	}
	ttl := max(h.d.sys.cfg.ListTTL-time.Since(h.l.at), 0)
	out.SetEntryTimeout(ttl)
	out.SetAttrTimeout(ttl)
	return h.d.sys.child(ctx, &h.d.Inode, h.acct, h.k, e, out), 0
}
