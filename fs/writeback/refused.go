package writeback

import (
	"errors"
	"net/http"
	"path/filepath"

	"github.com/pithosfs/pithosfs/synnefo"
)

// refusedForGood reports whether err is a commit the server refused in a
// way no retry can fix: a 4xx other than 401 (the token may be renewed),
// 408 and 429 (try later), 412 (handled as a conflict) and 413 (quota: room
// may be freed, so it is retried as before). 400 (name too large, invalid
// data), 403 (no write access), 404 (container gone), 405, 409 (other than
// a hashmap's missing blocks), 411, 414, 422… qualify.
func refusedForGood(err error) bool {
	var ce *CommitError
	if !errors.As(err, &ce) || !ce.Permanent {
		return false
	}
	switch synnefo.StatusOf(err) {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge:
		return false
	}
	st := synnefo.StatusOf(err)
	return st >= 400 && st < 500
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
	f.dir = filepath.Join(m.cfg.JournalDir, f.id)
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
