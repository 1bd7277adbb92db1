package writeback

import (
	"path/filepath"
	"runtime"
)

// Read-backs: a commit hashes each dirty block the journal holds in a file
// (spilled for lack of memory) by reading it back into a block buffer. Each
// committing file hashes up to two blocks at once (persist), so 16 files
// committing together held up to 32 buffers (128 MiB) outside the memory
// budget: under 16 writers + 16 readers the largest holder of live memory
// beyond it (session 7). Hashing is CPU work, so more read-backs at once
// than the machine has cores gain nothing: the manager lets that many run
// across all files, and each one's buffer is charged to the budget (cached
// blocks make room for it) while it is held.

// readBackSlots is how many spilled blocks may be held read back at once
// across all commits.
func readBackSlots() int { return max(2, runtime.GOMAXPROCS(0)) }

// hashSpilled reads the spilled block file (in f's journal directory) back
// and returns hash(data): within the manager's read-back slots and, while the
// buffer is held, the memory budget.
func (f *File) hashSpilled(file string, bs int64, hash func([]byte) string) (string, error) {
	m := f.m
	m.readBacks <- struct{}{}
	defer func() { <-m.readBacks }()
	charged := m.reserveReadBack(bs)
	buf := m.buffer(bs)[:bs]
	defer func() {
		// Released first, so that the free list may keep the buffer in
		// the room it leaves.
		if charged {
			m.budget.Release(bs)
		}
		m.recycle(buf)
	}()
	if err := preadFile(filepath.Join(f.dir, file), buf, 0); err != nil {
		return "", err
	}
	return hash(buf), nil
}

// reserveReadBack charges n bytes of a read-back to the budget if it has
// room for them (evicting cached blocks); it never waits: the budget may be
// all dirty blocks (one of the write path's own has no dirty limit), which
// this commit may be the one to free. A read-back it cannot charge goes
// ahead uncharged, and the slots still bound those.
func (m *Manager) reserveReadBack(n int64) bool {
	return m.budget != nil && m.budget.TryReserve(n)
}

// newReadBacks returns the channel of the manager's read-back slots.
func newReadBacks() chan struct{} { return make(chan struct{}, readBackSlots()) }
