package fs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// controlDir is /.pithosfs: read-only status files: stats.json (counters),
// uploads (a table of the commits not on the server yet: pending, retrying,
// left in the journal by a previous run, failed with the reason) and
// uploads.json (the same for scripts).
type controlDir struct {
	fs.Inode
	sys *fsys
}

var (
	_ = (fs.NodeOnAdder)((*controlDir)(nil))
	_ = (fs.NodeGetattrer)((*controlDir)(nil))
	_ = (fs.NodeGetattrer)((*statsFile)(nil))
	_ = (fs.NodeOpener)((*statsFile)(nil))
	_ = (fs.NodeGetattrer)((*renderFile)(nil))
	_ = (fs.NodeOpener)((*renderFile)(nil))
	_ = (fs.FileReader)((*bytesHandle)(nil))
)

func (c *controlDir) OnAdd(ctx context.Context) {
	f := c.NewPersistentInode(ctx, &statsFile{sys: c.sys}, fs.StableAttr{Mode: fuse.S_IFREG, Ino: inoOf("control", "stats.json")})
	c.AddChild("stats.json", f, true)
	for name, render := range map[string]func() []byte{
		"uploads":      func() []byte { return uploadsTable(c.sys.pending()) },
		"uploads.json": func() []byte { return uploadsJSON(c.sys.pending()) },
	} {
		n := c.NewPersistentInode(ctx, &renderFile{sys: c.sys, render: render}, fs.StableAttr{Mode: fuse.S_IFREG, Ino: inoOf("control", name)})
		c.AddChild(name, n, true)
	}
}

// renderFile is a read-only file whose content is rendered at each getattr
// and open, read with direct I/O.
type renderFile struct {
	fs.Inode
	sys    *fsys
	render func() []byte
}

func (f *renderFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(len(f.render()))
	out.Owner = fuse.Owner{Uid: f.sys.cfg.UID, Gid: f.sys.cfg.GID}
	setTimes(&out.Attr, startTime)
	return 0
}

func (f *renderFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	return &bytesHandle{data: f.render()}, fuse.FOPEN_DIRECT_IO, 0
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

// Pending lists the commits not on the server yet (what .pithosfs/uploads
// shows).
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
	fmt.Fprintln(w, "STATE\tSIZE\tDIRTY BLOCKS\tSINCE\tPATH\tERROR")
	for _, p := range ps {
		errText := p.Error
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s/%s\t%s\n", p.State, p.Size, p.Blocks, p.Since.UTC().Format(time.RFC3339), p.Container, p.Name, errText)
	}
	w.Flush()
	return b.Bytes()
}

func uploadsJSON(ps []writeback.PendingCommit) []byte {
	b, _ := json.MarshalIndent(ps, "", "  ")
	return append(b, '\n')
}

// permissionOptions are the kernel mount options that go with allow_other:
// other users then get the permissions the file modes say, not the
// mounting user's.
func permissionOptions(allowOther bool) []string {
	if allowOther {
		return []string{"default_permissions"}
	}
	return nil
}

func (c *controlDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	c.sys.dirAttr(&out.Attr, c.StableAttr().Ino, startTime)
	out.Mode = fuse.S_IFDIR | 0o555
	return 0
}

// statsFile is /.pithosfs/stats.json: the mount's counters, rendered at
// each open and read with direct I/O (no page cache).
type statsFile struct {
	fs.Inode
	sys *fsys
}

func (f *statsFile) render() []byte {
	return f.sys.stats.Snapshot(f.sys.cache).JSON()
}

func (f *statsFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(len(f.render()))
	out.Owner = fuse.Owner{Uid: f.sys.cfg.UID, Gid: f.sys.cfg.GID}
	setTimes(&out.Attr, startTime)
	return 0
}

func (f *statsFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	return &bytesHandle{data: f.render()}, fuse.FOPEN_DIRECT_IO, 0
}

// bytesHandle reads a fixed byte slice.
type bytesHandle struct {
	data []byte
}

func (h *bytesHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.data)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(h.data[off:min(int64(len(h.data)), off+int64(len(dest)))]), 0
}
