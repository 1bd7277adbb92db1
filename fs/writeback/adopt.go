package writeback

import (
	"time"
)

// Adopt makes b, a version someone else committed over the file's object,
// the file's content: a server-side copy onto the file while it is open (a
// restore from the history views). It is refused (false) unless the file
// holds nothing of its own: new or truncated to zero, not written since,
// nothing being committed or uploaded early. Afterwards the file has
// nothing pending: the copy is its content, and later writes go over it.
// Hold the commit lock from before the copy (LockCommits) so that no
// commit of the file runs between the check, the copy and the adoption.
func (f *File) Adopt(b Base) bool {
	f.wmu.Lock()
	f.mu.Lock()
	if !f.emptyLocked() {
		f.mu.Unlock()
		f.wmu.Unlock()
		return false
	}
	f.abortStreamLocked("a copy replaced the content")
	b.Hashes = append([]string(nil), b.Hashes...)
	f.base = b
	f.create, f.size, f.clip, f.touched, f.filled = false, b.Size, noClip, false, nil
	f.failures, f.lastErr, f.since = 0, nil, time.Time{}
	if f.timer != nil {
		f.timer.Stop()
	}
	dir, id := f.dir, f.id
	f.hasDir = false
	f.gcLocked(nil) // the directory goes: its slots are free in the next one
	f.mu.Unlock()
	f.wmu.Unlock()
	removeJournal(dir) // no dirty block, no record: nothing of it is needed
	f.m.seg.done(id)
	if f.m.cfg.OnCommit != nil {
		f.m.cfg.OnCommit(b.Container, b.Name, f.Base())
	}
	return true
}

// Empty reports whether the file holds nothing of its own (see Adopt).
func (f *File) Empty() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.emptyLocked()
}

func (f *File) emptyLocked() bool {
	return !f.gone && f.size == 0 && len(f.dirty) == 0 && f.frozen == nil && !f.committing && f.rounds == 0
}

// LockCommits holds off the file's commits until the returned func is
// called (see Adopt).
func (f *File) LockCommits() (unlock func()) {
	f.cmu.Lock()
	return f.cmu.Unlock
}
