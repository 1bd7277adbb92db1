package writeback

import (
	"os"
	"path/filepath"
)

// Orphan detaches f from its name: the file was unlinked (or renamed over)
// while open. f leaves the manager's registry at once, so a new file of that
// name is a File of its own; nothing of it is committed from then on
// (Commit, Release and the background retry send nothing, and the journal
// record of an earlier failed commit is removed so a restart does not bring
// the file back); and its handles keep reading and writing it — dirty blocks,
// and clean ones through its BlockReader from the base version — until the
// last Release drops its blocks and journal files. A commit in progress ends
// first.
func (f *File) Orphan() {
	f.cmu.Lock()
	f.mu.Lock()
	f.orphan = true
	f.abortStreamLocked("unlinked")
	f.mu.Unlock()
	_ = os.Remove(filepath.Join(f.dir, recordName))
	removeFlat(f.dir)
	f.m.seg.done(f.id)
	f.cmu.Unlock()
	f.m.forget(f)
	f.mu.Lock()
	idle := f.refs <= 0 // none can be added: f is no longer registered
	f.mu.Unlock()
	if idle {
		f.Discard() // no handle left (a file closed with its commit pending)
	}
}

// Orphaned reports whether f was detached from its name (Orphan).
func (f *File) Orphaned() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.orphan
}
