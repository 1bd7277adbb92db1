package writeback

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// Block files. A dirty block that leaves memory (spilled under memory
// pressure, kept after an early upload or a stream sent it, or written for
// a commit's record) goes into its file's journal directory, in a slot of
// one file, slotsFile: slot k holds the block's BlockSize bytes at offset
// k·BlockSize, and is named s<k> in block.file and in records. One file per
// written file, not one per block: on ext4 creating a file costs in
// proportion to the files deleted lately (a 1 GiB write created and deleted
// 256, and that was 2–10 % of the daemon's CPU; session 10), and a commit
// fsyncs one file instead of one per block.
//
// A slot is issued by the file's slotAlloc and given back when no block,
// record or write in flight names it (the same rule as the block files of
// earlier builds). A slot given back is reused as it is: a block shorter
// than a slot clears the rest of it when written (slotRef.put), so a slot
// always reads as its block's bytes, then zeros. A slot given back keeps
// its disk space until it is issued again or the directory goes (removed,
// with the slots file, when the file has nothing pending): the most blocks
// the file held on disk at once.
//
// Journals of earlier builds name a file per block (b<n>, the block at
// offset 0). Recovery still reads them; nothing writes them any more.
const slotsFile = "slots"

// slotName is the journal name of slot k.
func slotName(k int64) string { return "s" + strconv.FormatInt(k, 10) }

// parseSlot returns the slot a journal name names, if it names one.
func parseSlot(name string) (int64, bool) {
	if !strings.HasPrefix(name, "s") {
		return 0, false
	}
	k, err := strconv.ParseInt(name[1:], 10, 64)
	return k, err == nil && k >= 0
}

// slotRef locates a journal block's bytes: a slot of the slots file, or a
// block file of an earlier build (offset 0).
type slotRef struct {
	path string
	off  int64
	size int64 // the slot's size (BlockSize)
}

// refOf locates the block the journal name names in directory dir, for
// blocks of bs bytes.
func refOf(dir, name string, bs int64) slotRef {
	if k, ok := parseSlot(name); ok {
		return slotRef{path: filepath.Join(dir, slotsFile), off: k * bs, size: bs}
	}
	return slotRef{path: filepath.Join(dir, name), size: bs}
}

// read fills dst from the block's byte in on; bytes past what was written
// read as zeros.
func (r slotRef) read(dst []byte, in int64) error {
	return preadFile(r.path, dst, r.off+in)
}

// readAll reads the whole block into a new buffer.
func (r slotRef) readAll() ([]byte, error) {
	buf := make([]byte, r.size)
	return buf, r.read(buf, 0)
}

// writeAt writes p into the block from its byte in on (a write to a
// spilled block).
func (r slotRef) writeAt(p []byte, in int64) error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	_, err = f.WriteAt(p, r.off+in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	return nil
}

// put writes a whole block: data, then zeros to the end of the slot (data
// may be shorter, or empty). A whole block aligned in memory goes with
// O_DIRECT (diskfile.WriteAtDirect): from its buffer to the disk without a
// copy in the page cache, which costs about as much CPU as the upload of
// the same bytes. The rest, and file systems that refuse O_DIRECT, go
// through the page cache.
func (r slotRef) put(data []byte) error {
	if int64(len(data)) == r.size {
		err := diskfile.WriteAtDirect(r.path, data, r.off)
		if err == nil {
			return nil
		}
		if !errors.Is(err, diskfile.ErrNoDirect) {
			return fmt.Errorf("writeback: journal: %w", err)
		}
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	_, err = f.WriteAt(data, r.off)
	if err == nil && int64(len(data)) < r.size {
		err = clearTail(f, r.off+int64(len(data)), r.off+r.size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	return nil
}

// clearTail makes [from, to) of f read as zeros: a hole punched where the
// file system can, else zeros written, within the file's size (past it the
// file reads as zeros already).
func clearTail(f *os.File, from, to int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	to = min(to, st.Size())
	if from >= to {
		return nil
	}
	err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, from, to-from)
	if err == nil {
		return nil
	}
	zeros := make([]byte, min(to-from, 1<<20))
	for from < to {
		n := min(int64(len(zeros)), to-from)
		if _, err := f.WriteAt(zeros[:n], from); err != nil {
			return err
		}
		from += n
	}
	return nil
}

// slotAlloc issues the slots of one file's journal (f.mu held for every
// use). A slot is in use from take until give; give is called once per
// take, also after the directory was removed or moved (the slot is then
// free in the next one). A slot in use is never issued again, so a stale
// give never frees a slot someone else holds.
type slotAlloc struct {
	next int64          // slots below it have been issued
	free []int64        // issued and given back
	used map[int64]bool // issued, not given back
}

// take issues a slot.
func (a *slotAlloc) take() int64 {
	var k int64
	if n := len(a.free); n > 0 {
		k, a.free = a.free[n-1], a.free[:n-1]
	} else {
		k = a.next
		a.next++
	}
	if a.used == nil {
		a.used = map[int64]bool{}
	}
	a.used[k] = true
	return k
}

// give frees slot k, if it is in use.
func (a *slotAlloc) give(k int64) {
	if a.used[k] {
		delete(a.used, k)
		a.free = append(a.free, k)
	}
}

// release gives back the journal name a block, a record or a write in
// flight no longer needs (f.mu held): a slot is freed; a block file of an
// earlier build is removed.
func (f *File) release(name string) {
	if name == "" {
		return
	}
	if k, ok := parseSlot(name); ok {
		f.slots.give(k)
		return
	}
	_ = os.Remove(filepath.Join(f.dir, name))
}

// ref locates the block the journal name names in f's journal directory
// (f.mu held, or dir stable).
func (f *File) ref(name string) slotRef { return refOf(f.dir, name, f.bs()) }

// gcLocked frees the slots that neither a dirty block, a name in flight
// nor rec (the record on disk; nil when there is none) names (f.mu held).
// A slot of a directory removed or moved since is freed the same way: it
// is free in the next one.
func (f *File) gcLocked(rec *record) {
	keep := f.keepLocked()
	if rec != nil {
		for _, n := range rec.Blocks {
			keep[n] = true
		}
	}
	for k := range f.slots.used {
		if !keep[slotName(k)] {
			f.slots.give(k)
		}
	}
}
