// A File's dirty blocks: their buffers (sized to what was written, charged to the budget) and journal files.

package writeback

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// newBlock makes a dirty block holding buf (nil: zeros): in memory, with a
// buffer of capacity want, when the budget has room, else in a new journal
// file. While early-upload rounds of the file are in flight it first waits
// for them (up to roundWait each), since each frees the memory of the blocks
// it uploaded: a sequential writer then runs at the upload's pace instead of
// spilling to disk. The wait does not end with the FUSE request's context:
// an interrupt must not fail a write.
func (f *File) newBlock(buf []byte, want int64) (*block, error) {
	f.waitStreamAhead()
	for {
		if f.m.reserve(want) {
			if int64(cap(buf)) < want {
				buf = f.regrow(buf, 0, want)
			}
			return &block{data: buf, mem: want}, nil
		}
		f.mu.Lock()
		rounds, wake := f.rounds, f.roundWake
		f.mu.Unlock()
		if rounds == 0 {
			break
		}
		t := time.NewTimer(roundWait)
		select {
		case <-wake:
			t.Stop()
			continue
		case <-t.C:
		}
		break // the uploads are slow: spill
	}
	name, err := f.newFileName()
	if err != nil {
		return nil, err
	}
	// A block about to be overwritten whole starts empty: a slot reads
	// as zeros past what was put.
	if err := f.putNew(name, buf); err != nil {
		return nil, err
	}
	f.m.stats.spilled.Add(1)
	return &block{file: name}, nil
}

// streamAhead is how many blocks a streaming writer may have handed to its
// stream and not yet sent before it waits to start another: a few blocks
// absorb the server's pauses, and the blocks sent are still in the CPU's
// cache when the request copies them to the socket (a writer tens of MiB
// ahead makes that copy read memory) and their buffers, recycled at once,
// are the next blocks' (fewer buffers touched for the first time: fewer
// page faults).
const streamAhead = 4

// waitStreamAhead waits, while f streams, until fewer than streamAhead of
// its blocks are handed and not yet sent (up to roundWait each time, as
// newBlock waits for memory): a streaming writer keeps a small lead on the
// request instead of filling the dirty budget ahead of it.
func (f *File) waitStreamAhead() {
	for {
		f.mu.Lock()
		ahead, wake := f.stream != nil && f.rounds >= streamAhead, f.roundWake
		f.mu.Unlock()
		if !ahead {
			return
		}
		t := time.NewTimer(roundWait)
		select {
		case <-wake:
			t.Stop()
		case <-t.C:
			return // the request is slow: go on, within the budget
		}
	}
}

// blockCap is the capacity a buffer of block i holding cur bytes of
// capacity needs to hold end bytes: small first blocks double from 4 KiB, so
// that a 4 KiB file holds 4 KiB, not a 4 MiB block.
func (f *File) blockCap(i, cur, end int64) int64 {
	bs := f.bs()
	if i > 0 || end > smallBlock {
		return bs
	}
	c := max(cur, 4<<10)
	for c < end {
		c *= 2
	}
	return min(c, bs)
}

// fit makes the in-memory dirty block i ready for a write of [start, end):
// it holds at least start bytes (the bytes past its old end read as zeros)
// and has room for end, growing its buffer (the budget permitting) or moving
// it to a journal file. The caller extends it to end as it copies the write
// in, under f.mu: the bytes in [start, end) of a recycled buffer are another
// block's until then. f.wmu held: no one else changes a writable block's
// buffer.
func (f *File) fit(b *block, i, start, end int64) error {
	data := b.data
	if data == nil || int64(len(data)) >= end {
		return nil
	}
	if int64(cap(data)) >= end {
		if int64(len(data)) < start {
			f.mu.Lock()
			b.data = data[:start]
			clear(b.data[len(data):]) // Truncate or a recycled buffer left bytes there
			f.mu.Unlock()
		}
		return nil
	}
	want := f.blockCap(i, int64(cap(data)), end)
	if f.m.reserve(want - b.mem) {
		grown := f.regrow(data, start, want)
		f.mu.Lock()
		b.data, b.mem = grown, want
		f.mu.Unlock()
		return nil
	}
	name, err := f.newFileName()
	if err != nil {
		return err
	}
	if err := f.putNew(name, data); err != nil {
		return err
	}
	f.m.stats.spilled.Add(1)
	f.mu.Lock()
	b.file = name
	f.settleName(name)
	f.freeMem(b)
	f.mu.Unlock()
	return nil
}

// regrow returns a buffer of capacity want holding data, then zeros up to n
// bytes. A whole block's buffer comes from the cache's free list (its bytes
// past data are garbage until written: fit and WriteAt never expose them).
func (f *File) regrow(data []byte, n, want int64) []byte {
	grown := f.m.buffer(want)[:max(n, int64(len(data)))]
	copy(grown, data)
	clear(grown[len(data):])
	return grown
}

// buffer returns a buffer of capacity n (its bytes garbage): a whole block's
// from the cache's free list when the dirty blocks share the cache's budget.
func (m *Manager) buffer(n int64) []byte {
	if c := m.cfg.Cache; c != nil && m.budget == c.Budget() {
		return c.Buffer(int(n))[:0]
	}
	return make([]byte, 0, n)
}

// recycleMem is freeMem for a block whose buffer nothing else holds any
// more (uploaded early, or sent by a stream, and kept in a journal file):
// the buffer goes back to the cache's free list for the next block instead
// of to the collector (f.mu held).
func (f *File) recycleMem(b *block) {
	data := b.data
	f.freeMem(b)
	f.m.recycle(data)
}

// recycle gives a buffer nothing references any more back to the cache's
// free list (nil: nothing to give).
func (m *Manager) recycle(buf []byte) {
	if c := m.cfg.Cache; c != nil && buf != nil && m.budget == c.Budget() {
		c.Recycle(buf[:cap(buf)])
	}
}

// freeMem returns an in-memory block's buffer to the budget (f.mu held).
func (f *File) freeMem(b *block) {
	if b.data != nil {
		f.m.release(b.mem)
		b.data, b.mem = nil, 0
	}
}

// drop releases a block leaving every layer (f.mu held). Files of frozen
// blocks may be referenced by a record: the journal GC removes them.
func (f *File) drop(b *block) {
	f.freeMem(b)
	if b.file != "" && !b.frozen {
		f.release(b.file)
	}
}

// newFileName issues a journal block slot (slots.go) and returns its name,
// creating the file's journal directory if needed.
func (f *File) newFileName() (string, error) {
	if _, err := f.makeDir(); err != nil {
		return "", err
	}
	f.mu.Lock()
	n := slotName(f.slots.take())
	if f.fresh == nil {
		f.fresh = map[string]bool{}
	}
	f.fresh[n] = true
	f.mu.Unlock()
	return n, nil
}

// putNew puts data as the block named name (just issued by newFileName):
// on failure the name is given up and released.
func (f *File) putNew(name string, data []byte) error {
	err := f.ref(name).put(data)
	if err != nil {
		f.mu.Lock()
		f.settleName(name)
		f.release(name)
		f.mu.Unlock()
	}
	return err
}

// settleName ends name's protection from the journal GC (newFileName): a block
// or a record names it now, or it was given up (f.mu held).
func (f *File) settleName(name string) {
	delete(f.fresh, name)
}

// keepLocked is what the journal GC of f's directory must keep besides the
// record on disk: the files of the dirty blocks and the names issued but
// not settled (f.mu held).
func (f *File) keepLocked() map[string]bool {
	keep := make(map[string]bool, len(f.dirty)+len(f.fresh))
	for _, b := range f.dirty {
		keep[b.file] = true
	}
	for n := range f.fresh {
		keep[n] = true
	}
	return keep
}

// makeDir creates the file's journal directory unless it exists; fresh
// says it was created now (it holds nothing yet). Only files with block
// files have one: a record alone is flat (journal.go).
func (f *File) makeDir() (fresh bool, err error) {
	f.mu.Lock()
	has := f.hasDir
	f.mu.Unlock()
	if has {
		return false, nil
	}
	err = os.Mkdir(f.dir, 0o700)
	if errors.Is(err, fs.ErrNotExist) {
		err = os.MkdirAll(f.dir, 0o700) // the journal's root went away
	}
	switch {
	case err == nil:
		fresh = true
	case errors.Is(err, fs.ErrExist):
	default:
		return false, fmt.Errorf("writeback: journal: %w", err)
	}
	f.mu.Lock()
	f.hasDir = true
	f.mu.Unlock()
	return fresh, nil
}
