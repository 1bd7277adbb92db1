package writeback

import (
	"errors"
	"path/filepath"

	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// refusedForGood reports whether err is a commit the server refused in a
// way no retry can fix (fault.Refused): invalid (name too long, bad data),
// forbidden (no write access), not found (container gone), a conflict other
// than a hashmap's missing blocks. An expired token (may be renewed), a busy
// server (try later), a failed precondition (handled as a conflict) and
// quota (room may be freed) do not qualify: they are retried as before.
func refusedForGood(err error) bool {
	var ce *CommitError
	if !errors.As(err, &ce) || !ce.Permanent {
		return false
	}
	return fault.Refused(err)
}

// toFailed moves a commit the server refused for good (refusedForGood)
// straight to the journal's failed/ directory, with the server's reason,
// as Recover does at the next mount: it is listed in Pending as "failed"
// and under .pithosfs/uploads/failed/, and nothing retries it. The File
// becomes clean (the server's version, under a new journal id) and may be
// written again. It does nothing and returns false when the file changed
// since the commit froze snap (those changes must be committed too: the
// next commit moves everything).
func (f *File) toFailed(snap *snapshot, rec *record, reason error) bool {
	m := f.m
	f.wmu.Lock()
	m.mu.Lock()
	f.mu.Lock()
	same := f.size == snap.size && len(f.dirty) <= len(snap.blocks) && !f.gone
	for i, b := range f.dirty {
		if snap.blocks[i] != b {
			same = false
		}
	}
	if !same {
		f.mu.Unlock()
		m.mu.Unlock()
		f.wmu.Unlock()
		return false
	}
	for _, b := range f.dirty {
		f.freeMem(b)
	}
	dir := f.dir
	f.dirty, f.clip, f.touched, f.filled = map[int64]*block{}, noClip, false, nil
	f.size, f.create, f.failures, f.lastErr = f.base.Size, false, 0, nil
	if f.timer != nil {
		f.timer.Stop()
	}
	delete(m.byID, f.id)
	f.id = newID()
	f.dir, f.hasDir = filepath.Join(m.cfg.JournalDir, f.id), false
	f.gcLocked(nil) // the slots went with the directory: free in the next one
	m.byID[f.id] = f
	f.mu.Unlock()
	m.mu.Unlock()
	f.wmu.Unlock()
	m.fail(dir, rec, reason)
	m.maybeForget(f)
	return true
}

// dirtyBytesLocked is how many bytes of f's dirty blocks (and of those of
// a commit in progress) lie within its size (f.mu held).
func (f *File) dirtyBytesLocked() int64 {
	bs := f.bs()
	n := int64(0)
	count := func(i int64) { n += max(0, min(bs, f.size-i*bs)) }
	for i := range f.dirty {
		count(i)
	}
	if f.frozen != nil {
		for i := range f.frozen.blocks {
			if f.dirty[i] == nil {
				count(i)
			}
		}
	}
	return n
}

// dirtyBytes is how many bytes of a journal record's blocks lie within its
// size.
func (r *record) dirtyBytes() int64 {
	n := int64(0)
	for _, i := range r.held() {
		n += max(0, min(r.BlockSize, r.Size-i*r.BlockSize))
	}
	return n
}
