package writeback

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"sync"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// Base is the committed version a File is written over.
type Base struct {
	Container, Name string
	// ETag is the ETag the file was opened at; "" for a file that does not
	// exist on the server yet (committed with If-None-Match: *).
	ETag string
	// Version is the version id the file was opened at (0 = unknown). When
	// set, clean blocks are read from that version, so they stay readable
	// after someone else replaces the object.
	Version   int64
	BlockSize int64    // the container's block size (on Swift: the staging block size)
	BlockHash string   // the container's block hash ("" = sha256)
	Hashes    []string // the version's hashmap (Pithos+); nil on Swift
	Size      int64
	// ContentType and Meta are re-sent with every commit (a hashmap PUT
	// replaces the object's metadata).
	ContentType string
	Meta        map[string]string
	// Swift selects whole-object uploads (plain Swift, no hashmaps).
	Swift bool
}

// BlockReader returns block index of the base version, whose hash is hash
// ("" on Swift) and whose logical size is size bytes. It may return the block
// short (trailing zeros stripped); the rest reads as zeros. The cache's Get
// with a fetch through the object store (pithos.Client.ReadBlock) is the usual implementation.
type BlockReader func(ctx context.Context, index int64, hash string, size int) ([]byte, error)

// block is one dirty block: in memory (data, BlockSize bytes, charged to the
// budget) or in a journal file (file), never both while it is writable.
// A frozen block belongs to a commit snapshot and is immutable: a write to it
// copies it first.
//
// A sealed block is being uploaded early (Manager.eagerUpload) and is
// immutable too; a write to it also copies it. A stored block's content is
// known to the server under hash (uploaded early): the commit needs neither
// to hash nor to send it. It is kept in a journal file, so it stays readable
// until the commit, and a write to it clears stored.
//
// An in-memory block's data may be shorter than BlockSize: the bytes past
// its end read as zeros, as a block file's do. A small file's block grows
// with its writes (File.fit) instead of taking a whole block's buffer; mem is
// what the block holds of the budget (its capacity).
type block struct {
	data   []byte
	mem    int64
	file   string // journal file name in the File's dir
	frozen bool
	sealed bool
	stored bool
	hash   string // set when stored, or when frozen and hashed
}

// snapshot is the layer being committed: the dirty blocks, size and clip of
// the moment Commit froze them.
type snapshot struct {
	blocks map[int64]*block
	size   int64
	clip   int64
}

// File is the dirty state of one file, shared by all its open handles.
// Reads see unflushed writes; Commit makes them a new version on the server.
// Its methods are safe for concurrent use.
//
// Lock order: cmu, then wmu, then the Manager's mu, then mu; a streamBody's
// mu is never held while taking any of them. Neither mu nor wmu is held
// across a request to the server or a wait for one (a commit freezes the
// dirty layer under both, uploads without them, and swaps the layers back
// under both); cmu is held for a whole commit, so commits of one file are
// serial.
type File struct {
	m    *Manager
	id   string
	dir  string
	read BlockReader

	cmu sync.Mutex // serialises commits
	wmu sync.Mutex // serialises writes, truncates and the commit's layer swaps
	mu  sync.Mutex // guards the fields below

	base    Base
	create  bool // the object does not exist yet
	size    int64
	dirty   map[int64]*block
	clip    int64 // blocks below dirty at or past this offset read as zeros
	frozen  *snapshot
	touched bool      // written or truncated since the last freeze
	slots   slotAlloc // the journal's block slots (slots.go)
	// fresh holds the journal names issued (newFileName) that no
	// block or record names yet: a write spilling a block, an early
	// upload's or a stream's copy being written. The journal GC (gcDir)
	// of a commit running meanwhile must not take them for stale.
	fresh  map[string]bool
	refs   int
	hasDir bool // the journal directory dir exists (made by makeDir)
	// flatRec: a flat record of the file may be on disk (written by a
	// failed commit or a conflict retarget): a commit's success removes it.
	flatRec bool

	committing bool
	failures   int
	lastErr    error
	since      time.Time // when the oldest unflushed change was made
	timer      *time.Timer
	gone       bool          // discarded or forgotten by the manager
	orphan     bool          // unlinked while open: never committed, dropped at the last Release (orphan.go)
	filled     []int64       // blocks filled by writes since the last early upload
	rounds     int           // early-upload rounds in flight (and blocks handed to a stream)
	roundWake  chan struct{} // closed and replaced when a round ends
	stream     *stream       // the streamed PUT being fed (stream.go)
	noStream   bool          // a stream of this version was abandoned
}

func (f *File) bs() int64 { return f.base.BlockSize }

// Size is the file's current size, unflushed writes and truncates included.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// Dirty reports whether the file has changes not yet on the server (being
// committed, failed or not yet flushed).
func (f *File) Dirty() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pendingLocked()
}

func (f *File) pendingLocked() bool {
	return f.touched || f.create || f.frozen != nil || len(f.dirty) > 0
}

// Base returns the committed version the file is written over: after a
// successful commit, the new version (its ETag, hashes and size).
func (f *File) Base() Base {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.base
	b.Hashes = append([]string(nil), b.Hashes...)
	return b
}

// SetMeta sets the content type and metadata the next commit sends (a
// commit replaces the object's metadata). It does not make the file dirty.
func (f *File) SetMeta(contentType string, meta map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.base.ContentType = contentType
	f.base.Meta = maps.Clone(meta)
}

// ReadAt reads len(p) bytes at off, seeing unflushed writes; clean blocks come
// from the BlockReader. It returns io.EOF when fewer bytes remain.
func (f *File) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("writeback: negative offset %d", off)
	}
	type fetch struct {
		index int64
		hash  string
		size  int
		boff  int64
		dst   []byte
	}
	var fetches []fetch
	f.mu.Lock()
	size, bs := f.size, f.bs()
	if off >= size {
		f.mu.Unlock()
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), size)
	for pos := off; pos < end; {
		i, boff := pos/bs, pos%bs
		n := min(bs-boff, end-pos)
		dst := p[pos-off : pos-off+n]
		pos += n
		if b := f.dirty[i]; b != nil {
			if err := f.readBlock(b, dst, boff); err != nil {
				f.mu.Unlock()
				return 0, err
			}
			continue
		}
		src := f.lower(i)
		switch {
		case src.blk != nil:
			if err := f.readBlock(src.blk, dst, boff); err != nil {
				f.mu.Unlock()
				return 0, err
			}
		case src.zero:
			clear(dst)
		default:
			fetches = append(fetches, fetch{i, src.hash, src.size, boff, dst})
		}
	}
	f.mu.Unlock()
	for _, fe := range fetches {
		data, err := f.read(ctx, fe.index, fe.hash, fe.size)
		if err != nil {
			return 0, fmt.Errorf("writeback: reading block %d of %s: %w", fe.index, f.base.Name, err)
		}
		copyZeroExtended(fe.dst, data, fe.boff)
	}
	n := int(end - off)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// copyZeroExtended fills dst with data[off:], zeros past data's end.
func copyZeroExtended(dst, data []byte, off int64) {
	n := 0
	if off < int64(len(data)) {
		n = copy(dst, data[off:])
	}
	clear(dst[n:])
}

// source says where block i's content comes from below the dirty layer.
type source struct {
	blk  *block // a frozen snapshot block
	zero bool
	hash string // a base block: its hash and logical size
	size int
}

// lower resolves block i below the dirty layer (f.mu held).
func (f *File) lower(i int64) source {
	bs := f.bs()
	start := i * bs
	if start >= f.clip {
		return source{zero: true}
	}
	if s := f.frozen; s != nil {
		if b := s.blocks[i]; b != nil {
			return source{blk: b}
		}
		if start >= s.clip {
			return source{zero: true}
		}
	}
	if start >= f.base.Size {
		return source{zero: true}
	}
	h := ""
	if i < int64(len(f.base.Hashes)) {
		h = f.base.Hashes[i]
	}
	if h == hashmap.EmptyHash {
		return source{zero: true}
	}
	return source{hash: h, size: int(min(bs, f.base.Size-start))}
}

// readBlock copies block b from boff into dst (f.mu held).
func (f *File) readBlock(b *block, dst []byte, boff int64) error {
	if b.data != nil {
		copyZeroExtended(dst, b.data, boff)
		return nil
	}
	return f.ref(b.file).read(dst, boff)
}

// load returns the content of block i below the dirty layer as resolved by
// src, for a new dirty block: nil for zeros, else a private copy that may be
// short (the rest reads as zeros).
func (f *File) load(ctx context.Context, i int64, src source) ([]byte, error) {
	switch {
	case src.blk != nil:
		f.mu.Lock()
		defer f.mu.Unlock()
		if d := src.blk.data; d != nil {
			return bytes.Clone(d), nil
		}
		buf := make([]byte, f.bs())
		return buf, f.readBlock(src.blk, buf, 0)
	case src.zero:
		return nil, nil
	}
	data, err := f.read(ctx, i, src.hash, src.size)
	if err != nil {
		return nil, fmt.Errorf("writeback: reading block %d of %s: %w", i, f.base.Name, err)
	}
	return bytes.Clone(data[:min(len(data), src.size)]), nil
}

// WriteAt writes p at off, at any offset: past the end the file grows and
// the gap reads as zeros. ctx is used only to read the clean part of a
// partially written block. Memory for dirty blocks is reserved from the
// budget; when it is short the block goes to the journal on disk instead,
// so a write fails only when the disk does (ENOSPC in the error chain).
func (f *File) WriteAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("writeback: negative offset %d", off)
	}
	if limit := f.maxSize(); off+int64(len(p)) > limit || off+int64(len(p)) < off {
		// As write(2) past RLIMIT_FSIZE: what fits is written, and a
		// write that starts at the limit fails.
		if off >= limit {
			return 0, f.tooLarge(off + int64(len(p)))
		}
		p = p[:limit-off]
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	bs := f.bs()
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		i, boff := pos/bs, pos%bs
		n := int(min(bs-boff, int64(len(p)-done)))
		b, err := f.writable(ctx, i, boff+int64(n), boff == 0 && int64(n) == bs)
		if err != nil {
			return done, err
		}
		if err := f.fit(b, i, boff, boff+int64(n)); err != nil {
			return done, err
		}
		f.mu.Lock()
		b.stored, b.hash = false, ""
		if b.data != nil {
			if int64(len(b.data)) < boff+int64(n) {
				b.data = b.data[:boff+int64(n)]
			}
			copy(b.data[boff:], p[done:done+n])
		} else if err := f.ref(b.file).writeAt(p[done:done+n], boff); err != nil {
			f.mu.Unlock()
			return done, err
		}
		done += n
		f.size = max(f.size, pos+int64(n))
		f.markTouched()
		var batch []int64
		if boff+int64(n) == bs && !f.base.Swift && f.m.eager != nil {
			// The write reached the end of block i: a sequential writer has
			// filled it. Every eagerBatch such blocks, upload those the
			// server lacks now, so that close() has little left to send.
			f.filled = append(f.filled, i)
			if len(f.filled) >= eagerBatch {
				batch, f.filled = f.filled, nil
			}
		}
		start := f.base.Swift && f.streamAfterWrite(i, boff+int64(n))
		f.mu.Unlock()
		if batch != nil {
			f.m.eagerUpload(f, batch)
		}
		if start {
			f.startStream()
		}
	}
	return done, nil
}

func (f *File) markTouched() {
	if !f.touched && f.frozen == nil && len(f.dirty) == 0 {
		f.since = time.Now()
	}
	f.touched = true
}

// writable returns block i of the dirty layer, creating it (a copy of what
// lies below, unless the caller overwrites it whole) when it is missing or
// frozen; end is where the caller's write in it ends. f.wmu held.
func (f *File) writable(ctx context.Context, i, end int64, whole bool) (*block, error) {
	f.mu.Lock()
	old := f.dirty[i]
	if old != nil && !old.frozen && !old.sealed {
		f.mu.Unlock()
		return old, nil
	}
	src := source{blk: old}
	if old == nil {
		src = f.lower(i)
	}
	f.mu.Unlock()
	var buf []byte
	if !whole {
		var err error
		if buf, err = f.load(ctx, i, src); err != nil {
			return nil, err
		}
	}
	b, err := f.newBlock(buf, f.blockCap(i, int64(cap(buf)), max(end, int64(len(buf)))))
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	// A sealed old block is dropped by the early-upload round that sealed
	// it, when it finds it replaced.
	f.dirty[i] = b
	f.settleName(b.file)
	f.mu.Unlock()
	return b, nil
}

// smallBlock is the largest buffer a file's first block grows to by
// doubling; past it, and for every later block (the file is large), a block
// takes BlockSize at once.
const smallBlock = 256 << 10

// Truncate sets the file's size: shrinking drops what lies past it (a later
// grow reads zeros there), growing adds zeros. ctx is used only to read the
// clean part of the block the new end falls into.
func (f *File) Truncate(ctx context.Context, size int64) error {
	if size < 0 {
		return fmt.Errorf("writeback: negative size %d", size)
	}
	if size > f.maxSize() {
		return f.tooLarge(size)
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	bs := f.bs()
	f.mu.Lock()
	cur := f.size
	f.mu.Unlock()
	if size < cur && size%bs != 0 {
		i := size / bs
		b, err := f.writable(ctx, i, size%bs, false)
		if err != nil {
			return err
		}
		f.mu.Lock()
		b.stored, b.hash = false, ""
		var err2 error
		if b.data != nil {
			// Past the end it reads as zeros; fit clears the bytes when the
			// block grows again.
			b.data = b.data[:min(int64(len(b.data)), size%bs)]
		} else {
			err2 = f.ref(b.file).writeAt(make([]byte, bs-size%bs), size%bs)
		}
		f.mu.Unlock()
		if err2 != nil {
			return err2
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if size != f.size {
		f.abortStreamLocked("truncate")
	}
	if size < f.size {
		edge := (size + bs - 1) / bs * bs // the end block, if any, is dirty now
		for i, b := range f.dirty {
			if i*bs >= size {
				f.drop(b)
				delete(f.dirty, i)
			}
		}
		f.clip = min(f.clip, edge)
	}
	f.size = size
	f.markTouched()
	return nil
}

// Release ends one handle's use of the file (see Manager.Open). A file with
// pending changes stays registered until they are committed.
func (f *File) Release() {
	f.m.release1(f)
}

// Discard drops every unflushed change and the file's journal (the file was
// unlinked). The File must not be used afterwards.
func (f *File) Discard() {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	f.wmu.Lock()
	f.mu.Lock()
	f.abortStreamLocked("discarded")
	for i, b := range f.dirty {
		b.frozen = false
		f.drop(b)
		delete(f.dirty, i)
	}
	f.touched, f.create = false, false
	if f.timer != nil {
		f.timer.Stop()
	}
	f.gone, f.hasDir = true, false
	f.mu.Unlock()
	f.wmu.Unlock()
	removeJournal(f.dir)
	f.m.seg.done(f.id)
	f.m.forget(f)
}

var noClip int64 = math.MaxInt64

// roundWait bounds how long a writer short of memory waits for one early-
// upload round to end before it spills the block to the journal.
const roundWait = 5 * time.Second
