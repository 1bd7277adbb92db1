// .pithosfs/uploads/failed/: the commits the server refused, readable and discardable.

package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"go.uber.org/zap"
)

// failedDir is .pithosfs/uploads/failed: one directory per commit the
// server refused at recovery (every account's), named after the file it was
// for (failedEntryName), holding reason and data. Removing an entry (rmdir,
// rm -r, or rm of one of its files) discards the commit from the journal.
type failedDir struct {
	gofs.Inode
	fixed.ReadOnlyDir
	sys *fsys
}

// failedItem is one refused commit with the account whose journal holds it
// and the name its entry has in failed/.
type failedItem struct {
	acct string // account uuid
	m    *writeback.Manager
	fc   writeback.FailedCommit
	name string
}

// failedEntryName is an entry's name: the object's path in its container
// with "%" and "/" escaped ("docs%2Freport.txt" for docs/report.txt in
// container docs), so it is one name yet recognisable. An unreadable record
// has only its id ("unreadable-ID").
func failedEntryName(fc writeback.FailedCommit) string {
	if fc.Container == "" {
		return "unreadable-" + fc.ID
	}
	r := strings.NewReplacer("%", "%25", "/", "%2F")
	return r.Replace(fc.Container + "/" + fc.Name)
}

// failedItems lists every account's refused commits, named by
// nameFailed and sorted by name.
func (s *fsys) failedItems() []failedItem {
	s.mu.Lock()
	type acctMgr struct {
		uuid string
		m    *writeback.Manager
	}
	ms := make([]acctMgr, 0, len(s.managers))
	for u, m := range s.managers {
		ms = append(ms, acctMgr{u, m})
	}
	s.mu.Unlock()
	var out []failedItem
	for _, am := range ms {
		for _, fc := range am.m.Failed() {
			out = append(out, failedItem{acct: am.uuid, m: am.m, fc: fc})
		}
	}
	nameFailed(out)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// nameFailed sets each item's name: failedEntryName, with "~ID" appended
// to every item of a name shared by several (the same file refused twice,
// or the same path in two accounts), so each name stays the same whichever
// is listed first. A name over 255 bytes is cut to end in "~ID".
func nameFailed(items []failedItem) {
	count := map[string]int{}
	for i := range items {
		items[i].name = failedEntryName(items[i].fc)
		count[items[i].name]++
	}
	for i := range items {
		it := &items[i]
		suffix := ""
		if count[it.name] > 1 {
			suffix = "~" + it.fc.ID
		}
		if len(it.name)+len(suffix) > 255 {
			it.name, suffix = it.name[:255-len(it.fc.ID)-1], "~"+it.fc.ID
		}
		it.name += suffix
	}
}

func (s *fsys) failedItem(name string) (failedItem, bool) {
	for _, it := range s.failedItems() {
		if it.name == name {
			return it, true
		}
	}
	return failedItem{}, false
}

func (d *failedDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.sys.dirAttr(&out.Attr, d.StableAttr().Ino, startTime)
	return 0
}

func (d *failedDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	it, ok := d.sys.failedItem(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	ino := inoOf("failed", it.acct, it.fc.ID)
	d.sys.dirAttr(&out.Attr, ino, it.fc.Since)
	return d.NewInode(ctx, &failedEntry{sys: d.sys, item: it}, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: ino}), 0
}

func (d *failedDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	items := d.sys.failedItems()
	out := make([]fuse.DirEntry, 0, len(items))
	for _, it := range items {
		out = append(out, fuse.DirEntry{Name: it.name, Mode: fuse.S_IFDIR, Ino: inoOf("failed", it.acct, it.fc.ID)})
	}
	return gofs.NewListDirStream(out), 0
}

// Rmdir discards the failed commit from the journal. An entry emptied by rm
// -r (whose first unlink discarded it) is removed without error.
func (d *failedDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	if ch := d.GetChild(name); ch != nil {
		if e, ok := ch.Operations().(*failedEntry); ok {
			return e.discard()
		}
	}
	it, ok := d.sys.failedItem(name)
	if !ok {
		return syscall.ENOENT
	}
	return (&failedEntry{sys: d.sys, item: it}).discard()
}

// Unlink of an entry (a directory) is EISDIR, as for any directory.
func (d *failedDir) Unlink(ctx context.Context, name string) syscall.Errno {
	if _, ok := d.sys.failedItem(name); ok {
		return syscall.EISDIR
	}
	return syscall.ENOENT
}

// failedEntry is one refused commit: reason (text) and data (the version
// the server refused).
type failedEntry struct {
	gofs.Inode
	fixed.ReadOnlyDir
	sys  *fsys
	item failedItem

	mu   sync.Mutex
	gone bool // discarded
}

func (e *failedEntry) discard() syscall.Errno {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return 0
	}
	err := e.item.m.DiscardFailed(e.item.fc.ID)
	if errors.Is(err, os.ErrNotExist) {
		e.gone = true
		return 0
	}
	if err != nil {
		return e.sys.fail("discard failed commit", e.item.fc.Container+"/"+e.item.fc.Name, err)
	}
	e.gone = true
	e.sys.log.Info("fs: failed commit discarded by the user", zap.String("path", e.item.fc.Container+"/"+e.item.fc.Name),
		zap.String("id", e.item.fc.ID))
	return 0
}

func (e *failedEntry) isGone() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gone
}

func (e *failedEntry) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e.sys.dirAttr(&out.Attr, e.StableAttr().Ino, e.item.fc.Since)
	return 0
}

// reason is the text of the entry's reason file.
func (e *failedEntry) reason() []byte {
	fc := e.item.fc
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n", fc.Reason)
	if fc.Container != "" {
		fmt.Fprintf(&b, "path:     %s/%s\n", fc.Container, fc.Name)
		if fc.ConflictOf != "" {
			fmt.Fprintf(&b, "conflict copy of: %s/%s\n", fc.Container, fc.ConflictOf)
		}
		fmt.Fprintf(&b, "size:     %d\n", fc.Size)
	}
	fmt.Fprintf(&b, "account:  %s\n", e.item.acct)
	fmt.Fprintf(&b, "since:    %s\n", fc.Since.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "journal:  failed/%s\n", fc.ID)
	if fc.Readable {
		b.WriteString("\nThe data file holds the version the server refused. Copy it elsewhere,\nthen remove this entry (rm -r) to discard it from the journal.\n")
	} else {
		b.WriteString("\nThe journal record is unreadable: there is no data to recover.\nRemove this entry (rm -r) to discard it.\n")
	}
	return b.Bytes()
}

func (e *failedEntry) names() []string {
	if e.isGone() {
		return nil
	}
	if e.item.fc.Readable {
		return []string{"data", "reason"}
	}
	return []string{"reason"}
}

func (e *failedEntry) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if !slices.Contains(e.names(), name) {
		return nil, syscall.ENOENT
	}
	ino := inoOf("failed", e.item.acct, e.item.fc.ID, name)
	var node gofs.InodeEmbedder
	switch name {
	case "data":
		node = &failedData{sys: e.sys, item: e.item}
		out.Size = uint64(e.item.fc.Size)
	default:
		node = &renderFile{sys: e.sys, render: e.reason}
		out.Size = uint64(len(e.reason()))
	}
	out.Mode = fuse.S_IFREG | 0o444
	out.Ino = ino
	out.Nlink = 1
	out.Owner = fuse.Owner{Uid: e.sys.cfg.UID, Gid: e.sys.cfg.GID}
	setTimes(&out.Attr, e.item.fc.Since)
	return e.NewInode(ctx, node, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: ino}), 0
}

func (e *failedEntry) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	var out []fuse.DirEntry
	for _, n := range e.names() {
		out = append(out, fuse.DirEntry{Name: n, Mode: fuse.S_IFREG, Ino: inoOf("failed", e.item.acct, e.item.fc.ID, n)})
	}
	return gofs.NewListDirStream(out), 0
}

// Unlink of data or reason discards the whole commit; the other file of an
// entry rm -r is emptying is then removed without error.
func (e *failedEntry) Unlink(ctx context.Context, name string) syscall.Errno {
	if name != "data" && name != "reason" {
		return syscall.ENOENT
	}
	return e.discard()
}

// failedData is an entry's data file: the refused version, read from the
// journal (and the base version on the server for unchanged blocks).
type failedData struct {
	gofs.Inode
	fixed.File
	sys  *fsys
	item failedItem
}

func (f *failedData) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(f.item.fc.Size)
	out.Owner = fuse.Owner{Uid: f.sys.cfg.UID, Gid: f.sys.cfg.GID}
	setTimes(&out.Attr, f.item.fc.Since)
	return 0
}

func (f *failedData) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	// Reads are not tied to one FUSE request: an interrupt must not fail
	// the range read of a base block half way.
	r, err := f.item.m.FailedReader(context.Background(), f.item.fc.ID)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, syscall.ENOENT
		}
		return nil, 0, f.sys.fail("open failed commit", f.item.fc.Container+"/"+f.item.fc.Name, err)
	}
	return &failedHandle{sys: f.sys, r: r, path: f.item.fc.Container + "/" + f.item.fc.Name}, fuse.FOPEN_DIRECT_IO, 0
}

// failedHandle reads a failed commit's data.
type failedHandle struct {
	sys  *fsys
	r    *writeback.FailedContent
	path string
}

func (h *failedHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.r.ReadAt(dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, h.sys.failAs("read failed commit", h.path, err, syscall.EIO)
	}
	return fuse.ReadResultData(dest[:n]), 0
}
