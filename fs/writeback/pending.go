// What is not on the server yet: the list .pithosfs/uploads shows, and
// FlushAll, which commits it at unmount.

package writeback

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// PendingCommit describes one file whose changes are not on the server yet,
// for .pithosfs/uploads.
type PendingCommit struct {
	ID        string `json:"id"`
	Container string `json:"container"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	Blocks    int    `json:"dirty_blocks"`
	// DirtyBytes is how much of the file is not on the server yet (its
	// dirty blocks, within its size).
	DirtyBytes int64 `json:"dirty_bytes"`
	// State is "open" (open for writing, with changes), "dirty" (closed,
	// changes not committed yet), "committing", "retrying", "journal"
	// (left by a previous run) or "failed" (refused by the server, kept
	// under failed/).
	State string    `json:"state"`
	Error string    `json:"error,omitempty"`
	Since time.Time `json:"since"`
}

// Pending lists the files with changes not yet on the server, the records a
// previous run left in the journal, and the commits kept under failed/.
func (m *Manager) Pending() []PendingCommit {
	var out []PendingCommit
	live := map[string]bool{}
	m.mu.Lock()
	files := make([]*File, 0, len(m.byID))
	for id, f := range m.byID {
		live[id] = true
		files = append(files, f)
	}
	m.mu.Unlock()
	for _, f := range files {
		f.mu.Lock()
		if f.pendingLocked() {
			p := PendingCommit{ID: f.id, Container: f.base.Container, Name: f.base.Name, Size: f.size,
				Blocks: len(f.dirty), DirtyBytes: f.dirtyBytesLocked(), State: "dirty", Since: f.since}
			if f.frozen != nil {
				p.Blocks += len(f.frozen.blocks)
			}
			switch {
			case f.committing:
				p.State = "committing"
			case f.lastErr != nil:
				p.State = "retrying"
			case f.refs > 0:
				p.State = "open"
			}
			if f.lastErr != nil {
				p.Error = f.lastErr.Error()
			}
			out = append(out, p)
		}
		f.mu.Unlock()
	}
	add := func(dir, state string) {
		var ids []string
		if state == "failed" {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.IsDir() {
					ids = append(ids, e.Name())
				}
			}
		} else {
			ids, _ = journalIDs(dir)
		}
		for _, id := range ids {
			if live[id] {
				continue
			}
			r, err := readRecord(filepath.Join(dir, id))
			if err != nil {
				continue
			}
			p := PendingCommit{ID: r.ID, Container: r.Container, Name: r.Name, Size: r.Size, Blocks: len(r.held()),
				DirtyBytes: r.dirtyBytes(), State: state, Error: r.LastError, Since: r.Created}
			if state == "failed" {
				p.Error = r.Failed
			}
			out = append(out, p)
		}
	}
	add(m.cfg.JournalDir, "journal")
	add(filepath.Join(m.cfg.JournalDir, failedDir), "failed")
	sort.Slice(out, func(i, j int) bool {
		if out[i].Container != out[j].Container {
			return out[i].Container < out[j].Container
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// FlushProgress reports FlushAll's progress: one call when a file's commit
// starts (Done false), one per uploaded block, one when it ends (Done true,
// Err its result).
type FlushProgress struct {
	Container, Name string
	File, Files     int   // 1-based index of this file, and how many are flushed
	Size            int64 // file size
	BlocksUploaded  int
	BytesUploaded   int64
	Done            bool
	Err             error
}

// StopCommits makes every commit from now on stop short of the server, and
// ends the early uploads and background retries in flight: changes go
// durably to the journal instead, and the commits fail with a CommitError;
// the next mount's Recover completes them. For an unmount that must not
// wait for the server (a second Ctrl-C).
func (m *Manager) StopCommits() {
	m.stopping.Store(true)
	m.cancel()
}

// FlushAll commits every file with pending changes (for unmount), reporting
// progress when progress is not nil, and returns the joined errors of the
// commits that failed. When ctx ends (a second Ctrl-C) the commit in flight
// stops and so do the remaining ones, at once: each then fails like a commit
// that lost the server, so its data is written durably to the journal,
// where the next mount's Recover finds and completes it. Once one commit
// fails because the server is unreachable (network error or 5xx after the
// client's retries), the remaining files are not tried: they go to the
// journal the same way, so an unmount with the server down takes one
// commit's retries, not one per file.
func (m *Manager) FlushAll(ctx context.Context, progress func(FlushProgress)) error {
	m.mu.Lock()
	var files []*File
	for _, f := range m.byID {
		if f.Dirty() {
			files = append(files, f)
		}
	}
	m.mu.Unlock()
	sort.Slice(files, func(i, j int) bool { return files[i].Base().Name < files[j].Base().Name })
	var errs []error
	var down error // the failure that showed the server unreachable
	stopped, stop := context.WithCancel(ctx)
	stop()
	for i, f := range files {
		b := f.Base()
		p := FlushProgress{Container: b.Container, Name: b.Name, File: i + 1, Files: len(files), Size: f.Size()}
		var hook func(int64)
		if progress != nil {
			progress(p)
			var mu sync.Mutex
			hook = func(n int64) {
				mu.Lock()
				defer mu.Unlock()
				p.BlocksUploaded++
				p.BytesUploaded += n
				progress(p)
			}
		}
		cctx := ctx
		if down != nil {
			cctx = stopped
		}
		err := f.commit(cctx, hook)
		switch {
		case err != nil && down != nil:
			err = &CommitError{Container: b.Container, Name: b.Name,
				Err: fmt.Errorf("not tried, the server was unreachable (kept in the journal): %w", down)}
		case unreachable(err):
			down = err
		}
		if err != nil {
			errs = append(errs, err)
		}
		if progress != nil {
			p.Done, p.Err = true, err
			progress(p)
		}
	}
	return errors.Join(append(errs, m.leftInJournal(files)...)...)
}

// leftInJournal returns an error for each pending commit FlushAll had no
// file of its own to flush (flushed lists those it had): a record an
// earlier run left that Recover could not complete (the server was down
// at mount), or a file that became pending meanwhile. An unmount must not
// report every write committed while one waits in the journal. Commits
// the server refused (failed/) are not counted: they never will be.
func (m *Manager) leftInJournal(flushed []*File) []error {
	tried := make(map[string]bool, len(flushed))
	for _, f := range flushed {
		f.mu.Lock()
		tried[f.id] = true
		f.mu.Unlock()
	}
	var errs []error
	for _, p := range m.Pending() {
		if p.State == "failed" || tried[p.ID] {
			continue
		}
		errs = append(errs, &CommitError{Container: p.Container, Name: p.Name,
			Err: fmt.Errorf("left in the journal (%s), completed at the next mount", p.State)})
	}
	return errs
}
