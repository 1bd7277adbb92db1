// Lookup: a name in a directory from its cached listing, or one probe when the listing is stale; inode identity.

package fs

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// probeMinEntries is the size from which a lookup of a name missing from a
// directory's cached listing asks the server about that one name instead
// of listing the whole directory again.
const probeMinEntries = 1000

// lookupEntry finds name in the directory for a LOOKUP, as of at most the
// attribute TTL ago (close-to-open: a name created or changed behind the
// mount shows at the next lookup after the kernel's entry expired).
//
// A name missing from the cached listing (within the listing TTL) of a
// directory this mount changed within the attribute TTL is absent. Else a
// name in the cached listing, or any name in a small directory, is looked
// up in a listing no older than the attribute TTL, fetched again when
// older. A name missing from the cached listing (still within the listing
// TTL) of a large directory is asked about by itself: a HEAD of the object,
// then, when there is none, a one-entry listing of NAME/ for a directory.
// That is the pattern of every file creation (open with O_CREAT looks the
// new name up first, holding the directory's lock), which would otherwise
// list the whole directory again every second while files are being
// created in it, and make every other creator and reader of the directory
// wait for it.
func (d *dirNode) lookupEntry(ctx context.Context, name string) (*account, dirKey, pithos.DirEntry, bool, syscall.Errno) {
	ttl := d.sys.cfg.AttrTTL
	acct, k, l, errno := d.listingFor(ctx, max(ttl, d.sys.cfg.ListTTL), name)
	if errno != 0 {
		return nil, k, pithos.DirEntry{}, false, errno
	}
	e, ok := findEntry(l, name)
	if now := d.sys.lists.now(); now.Sub(l.at) < ttl || !ok && now.Sub(l.changed) < ttl {
		// Fresh, or a new name in a directory this mount is writing into
		// (cp -r, tar x, many writers): taken as absent from a listing up
		// to the listing TTL old, without a request. A file made behind
		// the mount meanwhile is never overwritten: the new file's commit
		// is conditional (If-None-Match: *) and keeps a conflict copy.
		return acct, k, e, ok, 0
	}
	if ok || len(l.base.entries) < probeMinEntries {
		if acct, k, l, errno = d.listingFor(ctx, ttl, name); errno != 0 {
			return nil, k, pithos.DirEntry{}, false, errno
		}
		e, ok = findEntry(l, name)
		return acct, k, e, ok, 0
	}
	raw, kind := decodeName(name)
	if kind != nameExact {
		return acct, k, e, ok, 0 // a shortened name is known from listings only
	}
	pe, pok, err := probeName(pithos.FailFast(ctx), acct, k, raw)
	switch {
	case err == nil:
		return acct, k, pe, pok, 0
	case errors.Is(err, fault.ErrUnreachable):
		// The server is not there: the listing (within the listing TTL)
		// answers, as for a directory this mount is writing into.
		d.sys.log.Debug("fs: lookup: server unreachable, answering from the listing",
			zap.String("path", k.String()+"/"+name), zap.Error(err))
		return acct, k, e, ok, 0
	}
	return nil, k, pithos.DirEntry{}, false, d.sys.fail("lookup", k.String()+"/"+name, err)
}

// probeName asks the server whether segment name exists in directory k:
// as an object (HEAD), else as a directory with something below it (a
// one-entry listing of NAME/). Both requests go at once: the caller may
// hold the directory's lock in the kernel.
func probeName(ctx context.Context, acct *account, k dirKey, name string) (pithos.DirEntry, bool, error) {
	path := k.under + name
	type dirResult struct {
		found bool
		err   error
	}
	dirc := make(chan dirResult, 1)
	go func() {
		for page, err := range acct.client.ObjectPages(ctx, k.container, pithos.ListOptions{Prefix: path + "/", Delimiter: "/", Limit: 1}) {
			dirc <- dirResult{found: err == nil && (len(page.Objects) > 0 || len(page.Subdirs) > 0), err: err}
			return
		}
		dirc <- dirResult{}
	}()
	info, err := acct.client.ObjectInfo(ctx, k.container, path, pithos.GetOptions{})
	dir := <-dirc
	switch {
	case err == nil:
		return pithos.DirEntry{Name: name, IsDir: info.IsDir() || dir.found, Object: info}, true, nil
	case !errors.Is(err, fault.ErrNotFound):
		return pithos.DirEntry{}, false, err
	case dir.err != nil:
		return pithos.DirEntry{}, false, dir.err
	case dir.found:
		return pithos.DirEntry{Name: name, IsDir: true}, true, nil
	}
	return pithos.DirEntry{}, false, nil
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
	l = hideDotDir(&d.Inode, withPending(l, files))
	n := l.subdirs()
	d.mu.Lock()
	d.subdirs = n
	d.mu.Unlock()
	return acct, k, l, 0
}

// listingFor is listing for a lookup of name: only name's registered file
// (and its rclone-link twin) is merged in, not every registered file of the
// directory, which cp -r with --async-close-max makes hundreds. A name
// known only by its shortened form is looked up in the whole merge.
func (d *dirNode) listingFor(ctx context.Context, maxAge time.Duration, name string) (*account, dirKey, *listing, syscall.Errno) {
	raw, kind := decodeName(name)
	if kind != nameExact {
		return d.listing(ctx, maxAge)
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, k, nil, syscall.ENOENT
	}
	var files map[string]*writeback.File
	if m := d.sys.managerIfAny(acct); m != nil {
		for _, n := range []string{raw, raw + rcloneLinkSuffix} {
			if wf := m.Lookup(k.container, k.under+n); wf != nil {
				if files == nil {
					files = map[string]*writeback.File{}
				}
				files[n] = wf
			}
		}
	}
	l, err := d.sys.lists.get(ctx, acct.client, k, maxAge)
	if err != nil {
		return nil, k, nil, d.sys.fail("list", k.String(), err)
	}
	return acct, k, hideDotDir(&d.Inode, withPending(l, files)), 0
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
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if ch := dotDirChild(&d.Inode, d.sys, name, out); ch != nil {
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
func (s *fsys) child(ctx context.Context, parent *gofs.Inode, acct *account, k dirKey, e pithos.DirEntry, out *fuse.EntryOut) *gofs.Inode {
	ino, mode := s.entryIdentity(parent, acct, k, e)
	return s.childAs(ctx, parent, e, ino, mode, out)
}

// childAs is child for an entry whose identity the caller has just
// computed (READDIRPLUS: Readdirent, then Lookup of the same entry).
func (s *fsys) childAs(ctx context.Context, parent *gofs.Inode, e pithos.DirEntry, ino uint64, mode uint32, out *fuse.EntryOut) *gofs.Inode {
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
		case *specialNode:
			n.refresh(e.Object)
			n.fillAttr(&out.Attr)
		}
		return ex
	}
	switch mode {
	case fuse.S_IFDIR:
		d := &dirNode{sys: s}
		d.fromEntry(e)
		ch := parent.NewInode(ctx, d, gofs.StableAttr{Mode: mode, Ino: ino})
		d.fillAttr(&out.Attr)
		return ch
	case fuse.S_IFLNK:
		l := &symlinkNode{sys: s, rclone: isRcloneLink(e)}
		l.refresh(e.Object)
		ch := parent.NewInode(ctx, l, gofs.StableAttr{Mode: mode, Ino: ino})
		l.fillAttr(&out.Attr)
		return ch
	case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR, syscall.S_IFBLK:
		n := &specialNode{sys: s}
		n.refresh(e.Object)
		ch := parent.NewInode(ctx, n, gofs.StableAttr{Mode: mode, Ino: ino})
		n.fillAttr(&out.Attr)
		return ch
	}
	f := &fileNode{sys: s}
	f.refresh(e.Object)
	f.fillAttr(&out.Attr)
	out.Attr.Ino = ino
	return parent.NewInode(ctx, f, gofs.StableAttr{Mode: mode, Ino: ino})
}

// entryIdentity is identity, except that a file created by this mount keeps
// the (path-based) inode number it got at create after its first commit
// gives it a uuid: the uuid is mapped to that number from then on.
func (s *fsys) entryIdentity(parent *gofs.Inode, acct *account, k dirKey, e pithos.DirEntry) (uint64, uint32) {
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
	if m := specialMode(e); m != 0 {
		if e.Object.UUID != "" {
			return inoOf("uuid", acct.uuid, e.Object.UUID), m
		}
		return inoOf("path", acct.uuid, k.container, k.under+e.Name), m
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
