// .pithosfs at every mount's root (not the cloud trees of fs/control): stats.json, uploads/status, uploads.json.

package fs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"text/tabwriter"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
)

// dotDir is .pithosfs at a mount's root: stats.json (counters),
// uploads/ (status: a table of the commits not on the server yet; failed/:
// the commits the server refused, readable and removable) and uploads.json
// (the same list for scripts).
type dotDir struct {
	gofs.Inode
	fixed.ReadOnlyDir
	sys *fsys
}

var (
	_ = (gofs.NodeOnAdder)((*dotDir)(nil))
	_ = (gofs.NodeGetattrer)((*dotDir)(nil))
	_ = (gofs.NodeGetattrer)((*renderFile)(nil))
	_ = (gofs.NodeOpener)((*renderFile)(nil))
	_ = (gofs.NodeOnAdder)((*uploadsDir)(nil))
	_ = (gofs.NodeGetattrer)((*uploadsDir)(nil))
)

func (c *dotDir) OnAdd(ctx context.Context) {
	stats := &renderFile{sys: c.sys, render: func() []byte { return c.sys.stats.Snapshot(c.sys.cache).JSON() }}
	f := c.NewPersistentInode(ctx, stats, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inoOf("control", "stats.json")})
	c.AddChild("stats.json", f, true)
	u := c.NewPersistentInode(ctx, &uploadsDir{sys: c.sys}, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: inoOf("control", "uploads")})
	c.AddChild("uploads", u, true)
	n := c.NewPersistentInode(ctx, &renderFile{sys: c.sys, render: func() []byte { return uploadsJSON(c.sys.pending()) }},
		gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inoOf("control", "uploads.json")})
	c.AddChild("uploads.json", n, true)
	vs := c.NewPersistentInode(ctx, c.sys.hist.Versions(), gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: inoOf("control", "versions")})
	c.AddChild("versions", vs, true)
	del := c.NewPersistentInode(ctx, c.sys.hist.Deleted(), gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: inoOf("control", "deleted")})
	c.AddChild("deleted", del, true)
}

// uploadsDir is .pithosfs/uploads: status (the table of commits not on the
// server yet) and failed/ (the commits the server refused).
type uploadsDir struct {
	gofs.Inode
	fixed.ReadOnlyDir
	sys *fsys
}

func (u *uploadsDir) OnAdd(ctx context.Context) {
	st := u.NewPersistentInode(ctx, &renderFile{sys: u.sys, render: func() []byte { return uploadsTable(u.sys.pending()) }},
		gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inoOf("control", "uploads", "status")})
	u.AddChild("status", st, true)
	fd := u.NewPersistentInode(ctx, &failedDir{sys: u.sys}, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: inoOf("control", "uploads", "failed")})
	u.AddChild("failed", fd, true)
}

func (u *uploadsDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	u.sys.dirAttr(&out.Attr, u.StableAttr().Ino, startTime)
	out.Mode = fuse.S_IFDIR | 0o555
	return 0
}

// renderFile is a read-only file whose content is rendered at each getattr
// and open, read with direct I/O.
type renderFile struct {
	gofs.Inode
	fixed.File
	sys    *fsys
	render func() []byte
}

func (f *renderFile) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(len(f.render()))
	out.Owner = fuse.Owner{Uid: f.sys.cfg.UID, Gid: f.sys.cfg.GID}
	setTimes(&out.Attr, startTime)
	return 0
}

func (f *renderFile) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	return &fixed.BytesHandle{Data: f.render()}, fuse.FOPEN_DIRECT_IO, 0
}

// pending lists every account's commits not on the server yet.
func (s *fsys) pending() []writeback.PendingCommit {
	s.mu.Lock()
	ms := make([]*writeback.Manager, 0, len(s.managers))
	for _, m := range s.managers {
		ms = append(ms, m)
	}
	s.mu.Unlock()
	out := []writeback.PendingCommit{}
	for _, m := range ms {
		out = append(out, m.Pending()...)
	}
	return out
}

// Pending lists the commits not on the server yet (what
// .pithosfs/uploads/status shows).
func (m *Mounted) Pending() []writeback.PendingCommit { return m.sys.pending() }

// WritebackStats sums the write path's counters over every account.
func (m *Mounted) WritebackStats() writeback.Stats {
	m.sys.mu.Lock()
	defer m.sys.mu.Unlock()
	var t writeback.Stats
	for _, w := range m.sys.managers {
		s := w.Stats()
		t.Commits += s.Commits
		t.Conflicts += s.Conflicts
		t.Failures += s.Failures
		t.BlocksUploaded += s.BlocksUploaded
		t.BytesUploaded += s.BytesUploaded
		t.Spilled += s.Spilled
		t.Recovered += s.Recovered
		t.EarlyUploads += s.EarlyUploads
		t.Streamed += s.Streamed
		t.StreamFallbacks += s.StreamFallbacks
	}
	return t
}

// uploadsTable renders pending commits as an aligned text table, one line
// each, or a one-line note when there are none.
func uploadsTable(ps []writeback.PendingCommit) []byte {
	var b bytes.Buffer
	if len(ps) == 0 {
		b.WriteString("no pending uploads: every closed file is on the server\n")
		return b.Bytes()
	}
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STATE\tSIZE\tDIRTY BLOCKS\tDIRTY BYTES\tSINCE\tPATH\tERROR")
	for _, p := range ps {
		errText := p.Error
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s/%s\t%s\n", p.State, p.Size, p.Blocks, p.DirtyBytes, p.Since.UTC().Format(time.RFC3339), p.Container, p.Name, errText)
	}
	w.Flush()
	return b.Bytes()
}

func uploadsJSON(ps []writeback.PendingCommit) []byte {
	b, _ := json.MarshalIndent(ps, "", "  ")
	return append(b, '\n')
}

// mountFlags are the kernel mount options: ro for a read-only mount, and
// with allow_other default_permissions (other users then get the
// permissions the file modes say, not the mounting user's).
func mountFlags(cfg Config) []string {
	var out []string
	if cfg.ReadOnly {
		out = append(out, "ro")
	}
	if cfg.AllowOther {
		out = append(out, "default_permissions")
	}
	return out
}

func (c *dotDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	c.sys.dirAttr(&out.Attr, c.StableAttr().Ino, startTime)
	out.Mode = fuse.S_IFDIR | 0o555
	return 0
}

var (
	_ = (gofs.NodeGetattrer)((*failedDir)(nil))
	_ = (gofs.NodeLookuper)((*failedDir)(nil))
	_ = (gofs.NodeReaddirer)((*failedDir)(nil))
	_ = (gofs.NodeRmdirer)((*failedDir)(nil))
	_ = (gofs.NodeUnlinker)((*failedDir)(nil))
	_ = (gofs.NodeGetattrer)((*failedEntry)(nil))
	_ = (gofs.NodeLookuper)((*failedEntry)(nil))
	_ = (gofs.NodeReaddirer)((*failedEntry)(nil))
	_ = (gofs.NodeUnlinker)((*failedEntry)(nil))
	_ = (gofs.NodeGetattrer)((*failedData)(nil))
	_ = (gofs.NodeOpener)((*failedData)(nil))
	_ = (gofs.FileReader)((*failedHandle)(nil))
)

// addDotDir adds the .pithosfs directory under root, the mount's root.
func addDotDir(ctx context.Context, root *gofs.Inode, s *fsys) {
	ctl := root.NewPersistentInode(ctx, &dotDir{sys: s}, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: inoOf("control")})
	root.AddChild(controlName, ctl, true)
}

// isDotDir reports whether name in directory n is the .pithosfs directory:
// n is the mount's root and name is controlName.
func isDotDir(n *gofs.Inode, name string) bool {
	return name == controlName && n.IsRoot()
}

// dotDirChild returns the .pithosfs directory when isDotDir(n, name),
// filling out; nil otherwise.
func dotDirChild(n *gofs.Inode, s *fsys, name string, out *fuse.EntryOut) *gofs.Inode {
	if !isDotDir(n, name) {
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

// dotDirEntry is the .pithosfs directory's readdir entry.
func dotDirEntry() fuse.DirEntry {
	return fuse.DirEntry{Name: controlName, Mode: fuse.S_IFDIR, Ino: inoOf("control")}
}

// hideDotDir returns the listing of directory n without an object or
// directory named controlName when n is the mount's root (that name is the
// control directory there).
func hideDotDir(n *gofs.Inode, l *listing) *listing {
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
