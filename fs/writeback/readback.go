package writeback

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
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
	if err := f.ref(file).read(buf, 0); err != nil {
		return "", err
	}
	return hash(buf), nil
}

// reserveReadBack charges n bytes of a read-back to the budget (evicting
// cached blocks for the room) and reports whether it did: always, with a
// budget. It never waits: the budget may be all dirty blocks (one of the
// write path's own has no dirty limit), which this commit may be the one to
// free; when no room can be made the charge is taken past the limit
// (Budget.Charge), and the next dirty blocks and loads find that much less
// room until it is given back. Session 8 let a read-back the budget had no
// room for go uncharged: under 16 writers and 16 readers the budget was
// full, and those (with READ and WRITE buffers, then charged the same way)
// were 30–40 MB beyond it at the peaks, room the dirty blocks and loads
// took again.
func (m *Manager) reserveReadBack(n int64) bool {
	if m.budget == nil {
		return false
	}
	m.budget.Charge(n)
	return true
}

// newReadBacks returns the channel of the manager's read-back slots.
func newReadBacks() chan struct{} { return make(chan struct{}, readBackSlots()) }

// uploadReadBackSlots is how many spilled blocks commits may hold read back
// for their uploads at once, across all commits. Each upload of a spilled
// block held a fresh 4 MiB copy for as long as it was sent, up to
// Concurrency per commit: under 16 writers up to 52 MB of them were live at
// the mixed load's peak (session 7).
const uploadReadBackSlots = 4

// uploadReadBacks are the spilled blocks one hashmap commit holds read back
// for its uploads: each is read into a buffer of the cache's free list
// within the manager's upload read-back slots, charged to the budget when it
// has room, and given back when the client reports the block's upload over
// (object.CommitOptions.Release), or at the latest when the commit ends.
type uploadReadBacks struct {
	m    *Manager
	bs   int64
	mu   sync.Mutex
	held map[*byte]heldReadBack // by the buffer's first byte
}

type heldReadBack struct {
	buf     []byte
	charged bool
}

type uploadReadBacksKey struct{}

// withUploadReadBacks returns ctx carrying a new set of upload read-backs
// for a commit of blocks of bs bytes; end it with releaseAll.
func (m *Manager) withUploadReadBacks(ctx context.Context, bs int64) (context.Context, *uploadReadBacks) {
	s := &uploadReadBacks{m: m, bs: bs, held: map[*byte]heldReadBack{}}
	return context.WithValue(ctx, uploadReadBacksKey{}, s), s
}

// uploadReadBacksFrom returns the commit's set of upload read-backs, nil
// when the blocks are not read for a hashmap commit's uploads.
func uploadReadBacksFrom(ctx context.Context) *uploadReadBacks {
	s, _ := ctx.Value(uploadReadBacksKey{}).(*uploadReadBacks)
	return s
}

// read reads the journal block at ref back (zero-extended to a block).
func (s *uploadReadBacks) read(ctx context.Context, ref slotRef) ([]byte, error) {
	select {
	case s.m.uploadBacks <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	h := heldReadBack{charged: s.m.reserveReadBack(s.bs), buf: s.m.buffer(s.bs)[:s.bs]}
	if err := ref.read(h.buf, 0); err != nil {
		s.free(h)
		return nil, err
	}
	s.mu.Lock()
	s.held[unsafe.SliceData(h.buf)] = h
	s.mu.Unlock()
	return h.buf, nil
}

// release gives back the read-back data lies in, if it is one of the set's.
func (s *uploadReadBacks) release(data []byte) {
	if cap(data) == 0 {
		return
	}
	p := unsafe.SliceData(data)
	s.mu.Lock()
	h, ok := s.held[p]
	delete(s.held, p)
	s.mu.Unlock()
	if ok {
		s.free(h)
	}
}

// releaseAll gives back every read-back still held (the commit is over).
func (s *uploadReadBacks) releaseAll() {
	s.mu.Lock()
	held := s.held
	s.held = map[*byte]heldReadBack{}
	s.mu.Unlock()
	for _, h := range held {
		s.free(h)
	}
}

func (s *uploadReadBacks) free(h heldReadBack) {
	s.m.giveBack(h, s.bs)
	<-s.m.uploadBacks
}

// giveBack releases a read-back of n bytes: its charge, then its buffer to
// the cache's free list (which may keep it in the room the charge leaves).
func (m *Manager) giveBack(h heldReadBack, n int64) {
	if h.charged {
		m.budget.Release(n)
	}
	m.recycle(h.buf)
}
