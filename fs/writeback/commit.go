package writeback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Commit makes the file's changes a new version on the server and returns nil
// once they are there. Otherwise it returns a *QuotaError (413) or a
// *CommitError — the data stays in the journal and, unless the server refused
// it outright, is retried in the background —, a *ConflictError when the
// object changed on the server (the user's version was saved beside it), or a
// journal error from the local disk. The commit ignores ctx's cancellation
// (a FUSE interrupt must not abort it); Config.CommitTimeout bounds it.
// Commit is also the fsync barrier: the journal record is written first.
func (f *File) Commit(ctx context.Context) error {
	return f.commit(context.WithoutCancel(ctx), nil)
}

func (f *File) commit(ctx context.Context, hook func(int64)) error {
	s, err := f.stage(ctx)
	if s == nil {
		return err
	}
	return s.send(ctx, hook)
}

// Staged is a commit whose snapshot is frozen and written to the journal:
// from here a crash of the process loses nothing (the next mount's Recover
// completes it). Send completes it. Until then the file's other commits
// wait (it holds the file's commit lock), while reads see the snapshot and
// writes go to a new layer.
type Staged struct {
	f      *File
	snap   *snapshot
	base   Base
	rec    *record
	st     *stream
	err    error // persist's
	closed bool
}

// Stage freezes the file's changes and writes them to the journal, the
// first half of Commit; it returns nil when there is nothing to commit.
// The caller must call Send on a non-nil result (in any goroutine), also
// when Stage returned a journal error: Send then returns it and puts the
// snapshot back.
func (f *File) Stage(ctx context.Context) (*Staged, error) {
	return f.stage(context.WithoutCancel(ctx))
}

// Send completes a staged commit; it returns what Commit would.
func (s *Staged) Send(ctx context.Context) error {
	return s.send(context.WithoutCancel(ctx), nil)
}

func (f *File) stage(ctx context.Context) (*Staged, error) {
	f.cmu.Lock()
	ctx, cancel := context.WithTimeout(ctx, f.m.cfg.CommitTimeout)
	defer cancel()
	if f.m.stopping.Load() {
		cancel() // the commit fails at once, its data kept in the journal
	}

	// A streamed upload stops taking blocks from the writer (it sends the
	// rest below); early uploads of this file finish first: their blocks
	// become stored ones, which the commit neither hashes nor sends.
	st := f.takeStream(ctx)
	f.waitRounds()
	// Freeze the dirty layer: writes from now on go to a new one.
	f.wmu.Lock()
	f.mu.Lock()
	if f.gone || !f.pendingLocked() {
		f.mu.Unlock()
		f.wmu.Unlock()
		if st != nil {
			st.abort(errStreamEnded)
		}
		f.cmu.Unlock()
		return nil, nil
	}
	snap := &snapshot{blocks: f.dirty, size: f.size, clip: f.clip}
	for _, b := range snap.blocks {
		b.frozen = true
	}
	f.dirty, f.clip, f.touched, f.filled = map[int64]*block{}, noClip, false, nil
	f.frozen, f.committing = snap, true
	base, create := f.base, f.create
	f.mu.Unlock()
	f.wmu.Unlock()

	rec, err := f.persist(snap, base, create)
	return &Staged{f: f, snap: snap, base: base, rec: rec, st: st, err: err}, err
}

func (s *Staged) send(ctx context.Context, hook func(int64)) error {
	f, snap, base, rec, st, err := s.f, s.snap, s.base, s.rec, s.st, s.err
	if s.closed {
		return errors.New("writeback: a staged commit sent twice")
	}
	s.closed = true
	defer f.cmu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, f.m.cfg.CommitTimeout)
	defer cancel()
	if f.m.stopping.Load() {
		cancel() // the commit fails at once, its data kept in the journal
	}
	var res *object.PutResult
	if err == nil && st != nil {
		var ok bool
		if res, ok = f.m.finishStream(ctx, st, rec, f.snapshotContent(snap, base)); ok {
			f.m.stats.commits.Add(1)
			f.m.stats.bytesUploaded.Add(rec.Size)
			if hook != nil {
				hook(rec.Size)
			}
		}
	} else if st != nil {
		st.abort(errStreamEnded)
	}
	if err == nil && res == nil {
		rctx, stop := f.m.stallBound(ctx)
		res, err = f.m.run(rctx, f.dir, rec, f.snapshotContent(snap, base), hook)
		err = stalledErr(rctx, ctx, rec.Container, rec.Name, err)
		stop()
	}

	f.settle(snap, base, rec, res, err)

	if err != nil {
		f.m.stats.failures.Add(1)
		f.m.log.Warn("writeback: commit failed; data kept in the journal", "container", base.Container,
			"name", base.Name, "error", err)
		if rec != nil {
			rec.Attempts++
			rec.LastError = err.Error()
			f.m.durable(f.dir, rec)
			f.mu.Lock()
			f.flatRec = true
			f.mu.Unlock()
		}
		if rec != nil && refusedForGood(err) && f.toFailed(snap, rec, err) {
			return err
		}
		// A commit its caller stopped (a second Ctrl-C at unmount,
		// StopCommits) stays in the journal for the next mount: a background
		// retry would send it after all.
		if retryable(err) && ctx.Err() != context.Canceled {
			f.m.scheduleRetry(f)
		}
		return err
	}
	if f.m.cfg.OnCommit != nil {
		f.m.cfg.OnCommit(rec.Container, rec.Name, f.Base())
	}
	if rec.ConflictOf != "" {
		f.m.retarget(f, rec.Container, rec.Name)
		f.m.maybeForget(f)
		return &ConflictError{Container: rec.Container, Name: rec.ConflictOf, ConflictName: rec.Name, ETag: res.ETag}
	}
	f.m.maybeForget(f)
	return nil
}

// settle ends a commit's layer swap under wmu and mu: on success the
// snapshot's blocks become the new base (their buffers go to the cache) and
// the journal directory goes; on failure the snapshot goes back under the
// writes made meanwhile, for the next try.
func (f *File) settle(snap *snapshot, base Base, rec *record, res *object.PutResult, err error) {
	var trash string // the journal directory set aside, removed once the locks are released
	defer func() {
		if trash != "" {
			f.m.removeLater(trash)
		}
	}()
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committing, f.frozen = false, nil
	if err == nil {
		// With no newer writes the whole journal directory goes: set aside
		// by one rename (its record with it, so nothing of it is recovered
		// from here on) and removed in the background, not a block file at
		// a time inside close() (0.5 s per GiB of block files on ext4).
		if f.hasDir && len(f.dirty) == 0 {
			trash = setAside(f.dir)
			f.hasDir = trash == "" // the rename failed: removed below as before
		}
		f.base.ETag, f.base.Version = res.ETag, res.Version
		f.base.Hashes = rec.Hashes // nil on Swift
		f.base.Size = snap.size
		f.create, f.failures, f.lastErr = false, 0, nil
		for i, b := range snap.blocks {
			if f.m.cfg.Cache != nil && b.data != nil && b.hash != "" {
				// Hashed by persist from these very bytes, and no one
				// holds them past this commit: the cache takes the buffer.
				// A small block (a small file's) stays out of the disk
				// tier: its file there would cost more CPU than the rest
				// of the file's commit (Cache.AdoptMemory).
				data := b.data[:min(int64(len(b.data)), max(0, snap.size-i*base.BlockSize))]
				if len(data) <= inlineMax {
					_ = f.m.cfg.Cache.AdoptMemory(cache.HashKey(b.hash), data)
				} else {
					_ = f.m.cfg.Cache.Adopt(cache.HashKey(b.hash), data)
				}
			}
			b.frozen = false
			if trash != "" {
				f.freeMem(b) // its file went with the directory
			} else {
				f.drop(b)
			}
		}
		// The record is a segment line, or in the directory when there
		// is one (journal.go); a flat one is left from a failed attempt
		// or a conflict retarget (an unlink of a name that is not there
		// was 3 % of the daemon's CPU in cp -r of small files).
		f.m.seg.done(f.id)
		if f.flatRec || rec.ConflictOf != "" {
			removeFlat(f.dir)
			f.flatRec = false
		}
		if f.hasDir {
			_ = os.Remove(filepath.Join(f.dir, recordName))
			if len(f.dirty) == 0 {
				_ = os.RemoveAll(f.dir)
				f.hasDir = false
			}
		}
		f.gcLocked(nil) // no record on disk any more
	} else {
		// Keep everything: the snapshot goes back under the newer writes.
		for i, b := range snap.blocks {
			if i*base.BlockSize >= f.clip || f.dirty[i] != nil {
				// Superseded: free its memory; its file may be named by a
				// record on disk, so the journal GC decides.
				f.freeMem(b)
				continue
			}
			f.dirty[i] = b
		}
		f.clip = min(f.clip, snap.clip)
		f.gcLocked(rec) // rec stays on disk for the retry
		f.touched = true
		f.failures++
		f.lastErr = err
	}
}

// durable fsyncs a pending commit's block files, then writes its record
// (fsynced, with the directory): its data now survives a power loss too.
// The record's segment line, if any, is complete from then on.
func (m *Manager) durable(dir string, rec *record) {
	synced := map[string]bool{}
	for _, name := range rec.Blocks {
		// One fsync of the slots file covers every slot.
		if p := refOf(dir, name, rec.BlockSize).path; !synced[p] {
			synced[p] = true
			_ = syncFile(p)
		}
	}
	if writeRecord(dir, rec) == nil {
		m.seg.done(rec.ID)
	}
}

// blockSource returns the content of block i of the version being
// committed: at least its bytes below the file's end (a whole block but
// for the last).
type blockSource func(ctx context.Context, i int64) ([]byte, error)

func (f *File) snapshotContent(snap *snapshot, base Base) blockSource {
	bs := base.BlockSize
	return func(ctx context.Context, i int64) ([]byte, error) {
		f.mu.Lock()
		b := snap.blocks[i]
		var data []byte
		var file string
		if b != nil {
			data, file = b.data, b.file
		}
		f.mu.Unlock()
		switch {
		case data != nil:
			// A small block's buffer may end before the file does: the
			// rest is zeros.
			if need := min(bs, max(0, snap.size-i*bs)); int64(len(data)) < need {
				data = append(bytes.Clone(data), make([]byte, need-int64(len(data)))...)
			}
			return data, nil
		case b != nil:
			ref := refOf(f.dir, file, bs)
			if s := uploadReadBacksFrom(ctx); s != nil {
				return s.read(ctx, ref)
			}
			return ref.readAll()
		case i*bs >= snap.clip || i*bs >= base.Size:
			return make([]byte, bs), nil
		}
		h := ""
		if i < int64(len(base.Hashes)) {
			h = base.Hashes[i]
		}
		got, err := f.read(ctx, i, h, int(min(bs, base.Size-i*bs)))
		if err != nil {
			return nil, err
		}
		buf := make([]byte, bs)
		copyZeroExtended(buf, got, 0)
		return buf, nil
	}
}

// run carries out the commit rec describes. When the precondition fails
// (the object changed on the server), the version is saved beside it as a
// conflict copy: rec is retargeted (and rewritten in dir) and run again.
func (m *Manager) run(ctx context.Context, dir string, rec *record, src blockSource, hook func(int64)) (*object.PutResult, error) {
	for {
		res, err := m.put(ctx, rec, src, hook)
		if err == nil {
			m.stats.commits.Add(1)
			if rec.ConflictOf != "" {
				m.stats.conflicts.Add(1)
			}
			return res, nil
		}
		if errors.Is(err, fault.ErrPrecondition) {
			if res, ok := m.alreadyCommitted(ctx, rec); ok {
				// A retried PUT whose first attempt succeeded but lost its
				// reply: the object already is this version.
				m.stats.commits.Add(1)
				return res, nil
			}
		}
		if errors.Is(err, fault.ErrPrecondition) && rec.ConflictOf == "" {
			rec.ConflictOf = rec.Name
			rec.Name = conflictName(rec.Name, m.cfg.Now())
			rec.IfMatch, rec.IfNoneMatch = "", "*"
			if err := writeRecord(dir, rec); err != nil {
				return nil, err
			}
			m.seg.done(rec.ID) // superseded by the record just written
			m.log.Warn("writeback: object changed on the server since it was opened; saving this version beside it",
				"container", rec.Container, "name", rec.ConflictOf, "conflict_copy", rec.Name)
			continue
		}
		return nil, classify(rec.Container, rec.Name, err)
	}
}

// alreadyCommitted reports whether the object already holds exactly the
// hashmap rec describes (HEAD, comparing its Merkle hash with rec's top
// hash), returning its ETag and version. Only hashmap commits can tell, and
// empty ones: an empty object is this version (a shell's ">" commits a new
// file empty before the command writes; with that reply lost, its retry's
// 412 made an empty conflict copy, and the data then went to a second one,
// leaving the file empty).
func (m *Manager) alreadyCommitted(ctx context.Context, rec *record) (*object.PutResult, bool) {
	if rec.Size > 0 && (rec.Swift || len(rec.Hashes) == 0) {
		return nil, false
	}
	info, err := m.cfg.Client.ObjectInfo(ctx, rec.Container, rec.Name, object.GetOptions{})
	if err != nil || info.Bytes != rec.Size {
		return nil, false
	}
	if rec.Size > 0 {
		want, err := hashmap.TopHash(rec.Hashes)
		got := info.Hash
		if got == "" {
			got = info.ETag
		}
		if err != nil || !strings.EqualFold(got, want) {
			return nil, false
		}
	}
	m.log.Info("writeback: precondition failed but the object already holds this version (a retried PUT whose reply was lost)",
		"container", rec.Container, "name", rec.Name)
	return &object.PutResult{ETag: info.ETag, Version: info.Version}, true
}

// conflictName is name.conflict-<UTC timestamp>.
func conflictName(name string, t time.Time) string {
	return name + ".conflict-" + t.UTC().Format("20060102T150405.000Z")
}

// put sends one commit: a hashmap PUT (missing blocks uploaded in between) on
// Pithos+, a streamed whole-object upload on Swift.
func (m *Manager) put(ctx context.Context, rec *record, src blockSource, hook func(int64)) (*object.PutResult, error) {
	bs, c := rec.BlockSize, m.cfg.Client
	logical := func(ctx context.Context, i int64) ([]byte, error) {
		data, err := src(ctx, i)
		if err != nil {
			return nil, err
		}
		return data[:min(bs, rec.Size-i*bs)], nil
	}
	opts := object.PutOptions{ContentType: rec.ContentType, Meta: rec.Meta,
		Conditions: object.Conditions{IfMatch: rec.IfMatch, IfNoneMatch: rec.IfNoneMatch}}
	if rec.Swift {
		return m.putSwift(ctx, rec, logical, opts, hook)
	}
	if rec.Size == 0 {
		return c.PutObject(ctx, rec.Container, rec.Name, nil, 0, opts)
	}
	first := map[string]int64{} // one entry per distinct hash: a sparse file's holes are one
	for i, h := range rec.Hashes {
		if _, ok := first[h]; !ok {
			first[h] = int64(i)
		}
	}
	source := func(ctx context.Context, h string) ([]byte, error) {
		i, ok := first[strings.ToLower(h)]
		if !ok {
			return nil, fmt.Errorf("writeback: server asked for block %s, not part of %s", h, rec.Name)
		}
		data, err := logical(ctx, i)
		if err != nil {
			return nil, err
		}
		m.sentBlock(len(data), hook)
		return data, nil
	}
	bh := rec.BlockHash
	if bh == "" {
		bh = hashmap.DefaultBlockHash
	}
	hm := &hashmap.Map{BlockSize: bs, BlockHash: bh, Bytes: rec.Size, Hashes: rec.Hashes}
	if rec.IfMatch == "" && rec.Size <= smallFile && len(rec.Hashes) == 1 {
		// A small new file: one data PUT (the server hashes it the same
		// way) instead of a hashmap PUT, its 409 and a block upload.
		data, err := logical(ctx, 0)
		if err != nil {
			return nil, err
		}
		res, err := c.PutObject(ctx, rec.Container, rec.Name, bytes.NewReader(data), int64(len(data)), opts)
		if err == nil {
			m.sentBlock(len(data), hook)
		}
		return res, err
	}
	if held := rec.held(); rec.IfMatch != "" && len(held) > 0 && len(held) <= smallEdit {
		// A small edit of an existing file: its few dirty blocks are new
		// content almost always, so send them first and save the hashmap
		// PUT's 409 round trip. (A new file may copy content the account
		// already has: it asks first.) Should one fail, the PUT's 409 still
		// lists it.
		for _, i := range held {
			if i*bs >= rec.Size {
				continue
			}
			data, err := logical(ctx, i)
			if err != nil {
				return nil, err
			}
			if err := c.UploadHashedBlock(ctx, rec.Container, rec.Hashes[i], data); err != nil {
				break
			}
			m.sentBlock(len(data), hook)
		}
	}
	// Spilled blocks read back for their uploads are bounded and given back
	// as each upload ends (readback.go).
	ctx, rbs := m.withUploadReadBacks(ctx, bs)
	defer rbs.releaseAll()
	return c.CommitHashmap(ctx, rec.Container, rec.Name, hm, source,
		object.CommitOptions{PutOptions: opts, Concurrency: m.cfg.Concurrency, Release: rbs.release})
}

// putSwift uploads a commit to plain Swift (no hashmaps): the whole content,
// in parallel segments when large. Swift ignores If-Match on PUT, so an
// update checks it first with a HEAD (a race window remains).
func (m *Manager) putSwift(ctx context.Context, rec *record, logical func(context.Context, int64) ([]byte, error), opts object.PutOptions, hook func(int64)) (*object.PutResult, error) {
	c := m.cfg.Client
	if rec.IfMatch != "" {
		if _, err := c.ObjectInfo(ctx, rec.Container, rec.Name, object.GetOptions{Conditions: object.Conditions{IfMatch: rec.IfMatch}}); err != nil {
			return nil, err
		}
		opts.IfMatch = ""
	}
	ra := &contentReader{ctx: ctx, src: logical, bs: rec.BlockSize, size: rec.Size}
	res, err := c.UploadObject(ctx, rec.Container, rec.Name, io.NewSectionReader(ra, 0, rec.Size),
		object.UploadOptions{PutOptions: opts, Size: rec.Size, Concurrency: m.cfg.Concurrency})
	if err == nil {
		m.stats.bytesUploaded.Add(rec.Size)
		if hook != nil {
			hook(rec.Size)
		}
	}
	return res, err
}

// sentBlock counts a block of n bytes sent to the server, and tells hook.
func (m *Manager) sentBlock(n int, hook func(int64)) {
	m.stats.blocksUploaded.Add(1)
	m.stats.bytesUploaded.Add(int64(n))
	if hook != nil {
		hook(int64(n))
	}
}

// smallFile is the largest one-block file a commit sends as plain data
// rather than as a hashmap: for such files the hashmap's 409 round trip
// costs more than the bytes dedup could save.
const smallFile = 256 << 10

// smallEdit is the most dirty blocks of an existing file uploaded before
// its hashmap PUT without asking the server which it lacks.
const smallEdit = 2

// contentReader is an io.ReaderAt over a version given block by block.
// The last block read is kept: a streamed upload reads each block in many
// small pieces, and a spilled block would otherwise be read from the
// journal once per piece.
type contentReader struct {
	ctx  context.Context
	src  func(ctx context.Context, i int64) ([]byte, error)
	bs   int64
	size int64

	mu      sync.Mutex
	lastIdx int64
	last    []byte
}

func (r *contentReader) block(i int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && r.lastIdx == i {
		return r.last, nil
	}
	data, err := r.src(r.ctx, i)
	if err != nil {
		return nil, err
	}
	r.lastIdx, r.last = i, data
	return data, nil
}

func (r *contentReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		data, err := r.block(pos / r.bs)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[pos%r.bs:])
	}
	return n, nil
}
