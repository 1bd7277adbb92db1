// Directory handles: readdir with stable offsets over a listing snapshot, and READDIRPLUS lookups.

package fs

import (
	"context"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pithosfs/pithosfs/pithos"
)

// OpendirHandle snapshots the directory's listing: the handle reads it in
// order and answers READDIRPLUS lookups from it (FileLookuper), so an
// `ls -l` costs one listing (one request per 10 000 entries) and no HEAD.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
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
	// last is the entry Readdirent returned last, with its identity:
	// go-fuse's READDIRPLUS looks each entry up right after it (a SHA-256
	// and a parse of the content type each, twice per entry before).
	last struct {
		name string
		e    pithos.DirEntry
		ino  uint64
		mode uint32
	}
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
		e := dotDirEntry()
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
		h.last.name, h.last.e, h.last.ino, h.last.mode = name, e, ino, mode
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
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if ch := dotDirChild(&h.d.Inode, h.d.sys, name, out); ch != nil {
		return ch, 0
	}
	if len(name) > nameMax {
		return nil, syscall.ENAMETOOLONG
	}
	ttl := max(h.d.sys.cfg.ListTTL-h.d.sys.lists.now().Sub(h.l.at), 0)
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	if last.name == name && name != "" {
		out.SetEntryTimeout(ttl)
		out.SetAttrTimeout(ttl)
		return h.d.sys.childAs(ctx, &h.d.Inode, last.e, last.ino, last.mode, out), 0
	}
	e, ok := findEntry(h.l, name)
	if !ok {
		return nil, syscall.ENOENT
	}
	out.SetEntryTimeout(ttl)
	out.SetAttrTimeout(ttl)
	return h.d.sys.child(ctx, &h.d.Inode, h.acct, h.k, e, out), 0
}
