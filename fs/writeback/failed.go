package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
)

// FailedCommit is a commit the server refused at recovery, kept under the
// journal's failed/ directory until the user saves its data elsewhere and
// discards it (.pithosfs/uploads/failed/).
type FailedCommit struct {
	ID         string
	Container  string // empty when the record itself could not be read
	Name       string
	ConflictOf string // when it was to be saved as a conflict copy: the original name
	Size       int64  // bytes of the refused version
	Reason     string // why the server refused it
	Since      time.Time
	// Readable is false when only the reason survived (an unreadable
	// record): there is no data to read.
	Readable bool
}

// Failed lists the commits kept under failed/, sorted by container, name
// and ID.
func (m *Manager) Failed() []FailedCommit {
	fdir := filepath.Join(m.cfg.JournalDir, failedDir)
	entries, _ := os.ReadDir(fdir)
	out := []FailedCommit{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(fdir, e.Name())
		rec, err := readRecord(dir)
		if err != nil {
			fc := FailedCommit{ID: e.Name(), Reason: readReason(dir, err)}
			if st, err := os.Stat(dir); err == nil {
				fc.Since = st.ModTime()
			}
			out = append(out, fc)
			continue
		}
		reason := rec.Failed
		if reason == "" {
			reason = rec.LastError
		}
		since := rec.Created
		if st, err := os.Stat(filepath.Join(dir, recordName)); err == nil && since.IsZero() {
			since = st.ModTime() // when it was refused
		}
		out = append(out, FailedCommit{ID: rec.ID, Container: rec.Container, Name: rec.Name, ConflictOf: rec.ConflictOf,
			Size: rec.Size, Reason: reason, Since: since, Readable: true})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Container != b.Container {
			return a.Container < b.Container
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return out
}

// readReason returns the reason fail() wrote beside an unreadable record.
func readReason(dir string, recErr error) string {
	if b, err := os.ReadFile(filepath.Join(dir, "reason.txt")); err == nil {
		return strings.TrimSpace(string(b))
	}
	return recErr.Error()
}

// failedPath returns the directory of the failed commit id, refusing ids
// that are not a plain name.
func (m *Manager) failedPath(id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return "", fmt.Errorf("writeback: failed commit %q: %w", id, os.ErrNotExist)
	}
	return filepath.Join(m.cfg.JournalDir, failedDir, id), nil
}

// DiscardFailed removes the failed commit id from the journal: its data is
// gone for good (the user saved it elsewhere or gave up on it). An unknown
// id is an error wrapping os.ErrNotExist.
func (m *Manager) DiscardFailed(id string) error {
	dir, err := m.failedPath(id)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("writeback: failed commit %s: %w", id, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("writeback: discarding failed commit %s: %w", id, err)
	}
	m.log.Info("writeback: failed commit discarded", "id", id)
	return nil
}

// FailedReader returns the content of the version the server refused, as
// the record describes it: dirty blocks from the journal's block files,
// unchanged blocks by range reads of the base version on the server, zeros
// for holes and past the truncation point. Reading a base block fails when
// the base version is gone from the server (e.g. with its container); the
// blocks in the journal stay readable.
func (m *Manager) FailedReader(ctx context.Context, id string) (*FailedContent, error) {
	dir, err := m.failedPath(id)
	if err != nil {
		return nil, err
	}
	rec, err := readRecord(dir)
	if err != nil {
		return nil, fmt.Errorf("writeback: failed commit %s: %w", id, err)
	}
	return &FailedContent{ctx: ctx, m: m, dir: dir, rec: rec}, nil
}

// FailedContent reads a failed commit's data (an io.ReaderAt of Size
// bytes). Its reads use the context FailedReader was given.
type FailedContent struct {
	ctx context.Context
	m   *Manager
	dir string
	rec *record
}

var _ io.ReaderAt = (*FailedContent)(nil)

// Size is the length of the refused version.
func (c *FailedContent) Size() int64 { return c.rec.Size }

// ReadAt fills p from off, returning io.EOF when it reaches Size.
func (c *FailedContent) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("writeback: negative offset")
	}
	size := c.rec.Size
	if off >= size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), size-off)
	bs := c.rec.BlockSize
	n := int64(0)
	for n < want {
		pos := off + n
		i, in := pos/bs, pos%bs
		chunk := min(bs-in, want-n)
		if err := c.readBlock(i, in, p[n:n+chunk]); err != nil {
			return int(n), err
		}
		n += chunk
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// readBlock fills dst with block i's bytes from offset in within the block.
func (c *FailedContent) readBlock(i, in int64, dst []byte) error {
	rec, bs := c.rec, c.rec.BlockSize
	if ok, err := rec.readHeld(c.dir, i, in, dst); ok {
		return err
	}
	if i*bs >= rec.Clip || i*bs >= rec.BaseSize || (i < int64(len(rec.Hashes)) && rec.Hashes[i] == hashmap.EmptyHash) {
		clear(dst)
		return nil
	}
	baseName := rec.Name
	if rec.ConflictOf != "" {
		baseName = rec.ConflictOf
	}
	opts := object.GetOptions{Version: rec.BaseVersion}
	if rec.BaseVersion == 0 {
		opts.IfMatch = rec.BaseETag
	}
	// The range ends at the base's end; the rest of the block reads as zeros.
	data, err := c.m.cfg.Client.ReadRange(c.ctx, rec.Container, baseName, i*bs+in, int64(len(dst)), rec.BaseSize, opts)
	if err != nil {
		return fmt.Errorf("writeback: failed commit %s: reading block %d of the base version: %w", rec.ID, i, err)
	}
	copyZeroExtended(dst, data, 0)
	return nil
}
