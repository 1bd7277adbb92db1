package fs

import (
	"context"
	"syscall"

	"go.uber.org/zap"
)

// Asynchronous close of small new files (Config.AsyncCloseMax).
//
// By default close() returns once the file's data is on the server, so a
// copy of many small files costs one PUT round trip per file, one after
// the other (cp, tar and rsync write one file at a time). With
// AsyncCloseMax set, close() of a file created by this mount and not yet
// committed, of at most that many bytes, returns once its commit is staged
// (written to the journal: a crash of the daemon loses nothing); the rest of
// the commit (one PUT) runs in the background, up to asyncCommits at a
// time. Until then the
// file is an unflushed file like any other: it shows in listings, reads
// back through the mount, a rename or fsync() commits it first, an unlink
// discards it, and unmount commits it. What is given up is close-to-open
// across clients (another client sees the file a few milliseconds later)
// and the error at close(): a commit that fails stays in the journal,
// retried, or lands in .pithosfs/uploads/failed/ (docs/semantics.md).

const (
	// asyncCommits is how many background commits run at once.
	asyncCommits = 16
	// asyncQueue bounds the background commits waiting or running; a
	// close() beyond it commits before returning.
	asyncQueue = 1024
)

// asyncCloser runs background commits.
type asyncCloser struct {
	run   chan struct{} // a slot per running commit
	queue chan struct{} // a slot per waiting or running commit
}

func newAsyncCloser() *asyncCloser {
	return &asyncCloser{run: make(chan struct{}, asyncCommits), queue: make(chan struct{}, asyncQueue)}
}

// closeAsync stages the commit of h's file (its changes written to the
// journal, so that a crash of the daemon loses nothing: the next mount
// completes it) and sends it in the background; it reports true when h
// qualifies: a new file (never committed) with unflushed changes, of at
// most AsyncCloseMax bytes, and room in the queue. errno is what close()
// returns: 0, or a journal error (the commit was then tried at once).
func (s *fsys) closeAsync(h *writeHandle) (errno syscall.Errno, ok bool) {
	if !s.asyncQualifies(h) {
		return 0, false
	}
	select {
	case s.async.queue <- struct{}{}:
	default:
		return 0, false
	}
	st, err := h.wf.Stage(context.Background())
	if st == nil {
		<-s.async.queue
		return 0, true // nothing to commit after all
	}
	if err != nil {
		// Not in the journal: the commit runs now and close() reports it.
		defer func() { <-s.async.queue }()
		if err := st.Send(context.Background()); err != nil {
			return s.commitErrno(h.path, err), true
		}
		h.f.committed(h.acct, h.wf)
		return 0, true
	}
	// The File stays registered while it has unflushed changes, after the
	// handle's release too; the commit unregisters it once done.
	go func() {
		defer func() { <-s.async.queue }()
		s.async.run <- struct{}{}
		defer func() { <-s.async.run }()
		if err := st.Send(context.Background()); err != nil {
			s.log.Warn("fs: background commit of a closed file failed; kept in the journal", zap.String("path", h.path), zap.Error(err))
			return
		}
		if h.wf.Base().ETag != "" && !h.wf.Orphaned() { // committed (not discarded by an unlink meanwhile)
			h.f.committed(h.acct, h.wf)
		}
	}()
	return 0, true
}

func (s *fsys) asyncQualifies(h *writeHandle) bool {
	return s.cfg.AsyncCloseMax > 0 && s.async != nil && h.wf.Dirty() && !h.wf.Orphaned() &&
		h.wf.Base().ETag == "" && h.wf.Size() <= s.cfg.AsyncCloseMax
}

// deferFlush reports whether a FLUSH of h may leave its commit to a later
// FLUSH or the RELEASE: with asynchronous close, a new file nothing was
// written to yet. Its first FLUSH is a descriptor closed while a dup() of it
// lives on (a shell's `echo x > f` opens f, moves it to fd 1 and closes the
// original before writing): committing the empty file there would make it
// two PUTs.
func (s *fsys) deferFlush(h *writeHandle) bool {
	return s.asyncQualifies(h) && h.wf.Empty()
}
