package writeback

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
)

// Recovered is the outcome of one journal record found by Recover.
type Recovered struct {
	ID, Container, Name string
	ConflictOf          string // when saved as a conflict copy: the original name
	ETag                string // the committed version's ETag
	Err                 error  // nil when committed
	Failed              bool   // moved under failed/ (the server refused it)
}

// Recover completes the commits a previous run left in the journal (after a
// crash, or failed commits not retried to the end). A commit the server
// refuses (quota, permissions, a missing container, …) is moved under
// failed/ with the reason, where Pending lists it; one that fails for a
// transient reason (network, 5xx) stays for the next Recover. Journal
// directories without a record hold only blocks of writes never flushed, and
// are removed. Call it before opening files.
func (m *Manager) Recover(ctx context.Context) ([]Recovered, error) {
	if err := m.replaySegments(); err != nil {
		// The segments stay for the next Recover; the flat records and
		// directories are recovered now.
		m.log.Error("writeback: replaying the journal's segments", "error", err)
	}
	ids, err := journalIDs(m.cfg.JournalDir)
	if err != nil {
		return nil, fmt.Errorf("writeback: journal: %w", err)
	}
	m.mu.Lock()
	live := map[string]bool{}
	for id := range m.byID {
		live[id] = true
	}
	m.mu.Unlock()
	if len(live) == 0 {
		removeTemps(m.cfg.JournalDir)
	}
	var out []Recovered
	for _, id := range ids {
		if live[id] {
			continue
		}
		dir := filepath.Join(m.cfg.JournalDir, id)
		rec, err := readRecord(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			m.log.Info("writeback: dropping unflushed blocks of a previous run", "id", id)
			removeJournal(dir)
			continue
		case err != nil:
			r := Recovered{ID: id, Err: err, Failed: true}
			m.fail(dir, &record{ID: id}, err)
			out = append(out, r)
			continue
		}
		out = append(out, m.recoverOne(ctx, dir, rec))
	}
	return out, nil
}

func (m *Manager) recoverOne(ctx context.Context, dir string, rec *record) Recovered {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.CommitTimeout)
	defer cancel()
	bs := rec.BlockSize
	baseName := rec.Name
	if rec.ConflictOf != "" {
		baseName = rec.ConflictOf
	}
	src := func(ctx context.Context, i int64) ([]byte, error) {
		buf := make([]byte, bs)
		if ok, err := rec.readHeld(dir, i, 0, buf); ok {
			return buf, err
		}
		if i*bs >= rec.Clip || i*bs >= rec.BaseSize || (i < int64(len(rec.Hashes)) && rec.Hashes[i] == hashmap.EmptyHash) {
			return buf, nil
		}
		opts := object.GetOptions{Version: rec.BaseVersion}
		if rec.BaseVersion == 0 {
			opts.IfMatch = rec.BaseETag
		}
		data, err := m.cfg.Client.ReadRange(ctx, rec.Container, baseName, i*bs, bs, rec.BaseSize, opts)
		if err != nil {
			return nil, err
		}
		copyZeroExtended(buf, data, 0)
		return buf, nil
	}
	r := Recovered{ID: rec.ID, Container: rec.Container}
	rctx, stop := m.stallBound(ctx)
	res, err := m.run(rctx, dir, rec, src, nil)
	err = stalledErr(rctx, ctx, rec.Container, rec.Name, err)
	stop()
	r.Name, r.ConflictOf = rec.Name, rec.ConflictOf
	if err == nil {
		r.ETag = res.ETag
		m.stats.recovered.Add(1)
		m.log.Info("writeback: completed a commit left in the journal", "container", rec.Container,
			"name", rec.Name, "bytes", rec.Size)
		removeJournal(dir)
		return r
	}
	r.Err = err
	var ce *CommitError
	if errors.As(err, &ce) && !ce.Permanent {
		rec.Attempts++
		rec.LastError = err.Error()
		_ = writeRecord(dir, rec)
		m.log.Warn("writeback: journal commit still failing; kept for later", "name", rec.Name, "error", err)
		return r
	}
	r.Failed = true
	m.fail(dir, rec, err)
	return r
}

// fail moves a file's journal under failed/<id>/ with the reason in its
// record: its directory, or a new one holding its flat record (failed/
// holds directories only).
func (m *Manager) fail(dir string, rec *record, reason error) {
	m.log.Error("writeback: commit refused; kept under failed/", "container", rec.Container,
		"name", rec.Name, "error", reason)
	fdir := filepath.Join(m.cfg.JournalDir, failedDir)
	if err := os.MkdirAll(fdir, 0o700); err != nil {
		return
	}
	dst := filepath.Join(fdir, filepath.Base(dir))
	if err := moveJournal(dir, dst); err != nil {
		m.log.Error("writeback: moving to failed/", "error", err)
		return
	}
	if rec.BlockSize > 0 {
		rec.Failed = reason.Error()
		_ = writeRecord(dst, rec)
	} else {
		_ = os.WriteFile(filepath.Join(dst, "reason.txt"), []byte(reason.Error()+"\n"), 0o600)
	}
}

// moveJournal moves the journal of dir's file to the directory dst: the
// directory itself when there is one (a flat record beside it is older,
// and goes), else the flat record as dst/record.json.
func moveJournal(dir, dst string) error {
	if err := os.Rename(dir, dst); err == nil {
		removeFlat(dir)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return err
	}
	return os.Rename(flatPath(dir), filepath.Join(dst, recordName))
}

// removeTemps removes the temporary files of flat records a crash left
// half-written in the journal root (".<id>.json.tmp…"): their record was
// never renamed into place, and no commit of this run is writing one; and
// the journal directories of committed files set aside for removal
// (setAside) that a previous run did not finish removing.
func removeTemps(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		switch n := e.Name(); {
		case !e.IsDir() && strings.HasPrefix(n, ".") && strings.Contains(n, flatExt+".tmp"):
			_ = os.Remove(filepath.Join(root, n))
		case e.IsDir() && isTrash(n):
			_ = os.RemoveAll(filepath.Join(root, n))
		}
	}
}
