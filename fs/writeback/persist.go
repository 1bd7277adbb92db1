// A commit's first step: its snapshot into the journal (blocks and record), hashed.

package writeback

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"golang.org/x/sync/errgroup"
)

// persist writes the snapshot's blocks (not fsynced: see below) and its record to the
// journal and returns the record.
func (f *File) persist(snap *snapshot, base Base, create bool) (*record, error) {
	bs := base.BlockSize
	f.mu.Lock()
	since := f.since
	f.mu.Unlock()
	if since.IsZero() {
		since = time.Now()
	}
	rec := &record{ID: f.id, Container: base.Container, Name: base.Name, ContentType: base.ContentType, Meta: base.Meta,
		Swift: base.Swift, BlockSize: bs, BlockHash: base.BlockHash, Size: snap.size, Blocks: map[int64]string{},
		Clip: snap.clip, BaseETag: base.ETag, BaseVersion: base.Version, BaseSize: base.Size, Created: since}
	if create {
		rec.IfNoneMatch = "*"
	} else {
		rec.IfMatch = base.ETag
	}
	// Write (or fsync) and hash the blocks in parallel: hashing and the
	// journal's disk writes bound the commit, and they overlap.
	var g errgroup.Group
	g.SetLimit(max(2, runtime.GOMAXPROCS(0)))
	var rmu sync.Mutex
	for i, b := range snap.blocks {
		g.Go(func() error { return f.persistBlock(rec, &rmu, snap, base, i, b) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if !base.Swift && snap.size > 0 {
		rec.Hashes = snapshotHashes(snap, base)
	}
	// Not fsynced yet: the commit runs now, inside close() or fsync(), and
	// the caller learns of success only once the data is on the server; a
	// process crash keeps the page cache, so the next mount recovers it.
	// Only a failed commit, whose data must outlive this call, is synced
	// (durable below). A file without block files has no directory: its
	// record is a line appended to the journal's segment (segment.go: no
	// file created, renamed or removed per small file).
	f.mu.Lock()
	flat := !f.hasDir
	f.mu.Unlock()
	var err error
	if flat {
		err = f.m.seg.put(rec)
		if errors.Is(err, errSegLineTooLong) {
			// A large hashmap: a flat record (fsynced), as before segments.
			if err = writeRecord(f.dir, rec); err == nil {
				f.m.seg.done(f.id) // an earlier put of the file is superseded
				f.mu.Lock()
				f.flatRec = true
				f.mu.Unlock()
			}
		}
	} else {
		err = writeRecordNoSync(f.dir, rec)
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	for _, n := range rec.Blocks {
		f.settleName(n) // named by the record on disk
	}
	f.gcLocked(rec)
	f.mu.Unlock()
	return rec, nil
}

// persistBlock puts one block of a commit's snapshot in the journal (in the
// record when small, else a block file, unless an early upload did) and
// hashes it, for persist's parallel group; rmu guards rec.
func (f *File) persistBlock(rec *record, rmu *sync.Mutex, snap *snapshot, base Base, i int64, b *block) error {
	bs := base.BlockSize
	f.mu.Lock()
	data, file, stored := b.data, b.file, b.stored
	f.mu.Unlock()
	if stored && file != "" {
		// Uploaded early: in the journal and hashed already.
		rmu.Lock()
		rec.Blocks[i] = file
		rmu.Unlock()
		return nil
	}
	if file == "" {
		// Only the bytes below the file's end: a 4 KiB file writes
		// 4 KiB, not its whole 4 MiB buffer (readers zero-extend).
		used := data[:min(int64(len(data)), max(0, snap.size-i*bs))]
		if int64(len(used)) <= inlineMax {
			// Into the record (a copy: after a failed commit the
			// block takes writes again).
			rmu.Lock()
			if rec.Inline == nil {
				rec.Inline = map[int64][]byte{}
			}
			rec.Inline[i] = bytes.Clone(used)
			rmu.Unlock()
		} else {
			name, err := f.newFileName()
			if err != nil {
				return err
			}
			if err := f.putNew(name, used); err != nil {
				return err
			}
			file = name
		}
	}
	h := ""
	if !base.Swift {
		// The bytes past the file's end are zeros (Truncate clears
		// them), which the hash strips: only the bytes below it are
		// hashed, not a small file's whole 4 MiB buffer.
		hash := func(data []byte) string {
			return hashmap.BlockHashHex(data[:min(int64(len(data)), max(0, snap.size-i*bs))])
		}
		if data != nil {
			h = hash(data)
		} else {
			// Read back only to be hashed (readback.go: bounded across
			// all commits, into a buffer of the cache's free list charged
			// to the budget, given back at once).
			var err error
			if h, err = f.hashSpilled(file, bs, hash); err != nil {
				return err
			}
		}
	}
	f.mu.Lock()
	b.file, b.hash = file, h
	f.mu.Unlock()
	if file != "" {
		rmu.Lock()
		rec.Blocks[i] = file
		rmu.Unlock()
	}
	return nil
}

// snapshotHashes is the hashmap of a commit's snapshot: the dirty blocks'
// hashes over the base's, empty past the clip or the base's end.
func snapshotHashes(snap *snapshot, base Base) []string {
	bs := base.BlockSize
	n := hashmap.NumBlocks(snap.size, bs)
	hashes := make([]string, n)
	for i := range n {
		switch b := snap.blocks[i]; {
		case b != nil:
			hashes[i] = b.hash
		case i*bs >= snap.clip || i*bs >= base.Size || i >= int64(len(base.Hashes)):
			hashes[i] = hashmap.EmptyHash
		default:
			hashes[i] = base.Hashes[i]
		}
	}
	return hashes
}
