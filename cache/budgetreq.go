package cache

import "time"

// Room kept for FUSE request buffers.
//
// Each READ go-fuse hands the mount holds a 1 MiB reply buffer while it is
// handled, and each WRITE its 1 MiB input buffer: memory that exists
// whether or not the budget has room, and that nothing can wait for without
// stalling the mount (fs/reqmem.go). Until session 11 they were charged as
// they came (Charge): when the budget was full of firm reservations (dirty
// blocks, loads) they went past its limit. Under 16 writers and 16 readers
// the budget was full at every peak, and up to 32 of them arrived at once:
// the budget's bytes reached its limit + 24 MiB, the live heap the
// GOMEMLIMIT, and the RSS its peaks above it.
//
// The budget now keeps room for them while dirty blocks (firm reservations
// nothing can evict) are held: the most request bytes held at once over the
// last one to two windows (reqWindow), at most a third of the limit, less
// those held now, counts as taken for every other reservation (Reserve,
// TryReserve*, Charge) and for the free block buffers the cache keeps.
// Requests themselves (ChargeRequest) take from that room first, so a
// burst like the last ones stays within the limit. With one reader or
// writer the room is one or two buffers; under many it is what they held,
// taken from the blocks (the dirty blocks' writers wait for their uploads
// or spill sooner, loads go over budget within overBudgetLoads).

// reqWindow is how long a peak of request bytes keeps its room: between one
// and two windows after it.
const reqWindow = 2 * time.Second

// reqRoomShare bounds the room kept for requests: at most limit/reqRoomShare
// (32 MiB of the default 96 MiB: 16 READ and 16 WRITE buffers), so that a
// small budget under many requests still has room for blocks.
const reqRoomShare = 3

// reqRoom is the request bytes held and their recent peaks; guarded by the
// Budget's mu.
type reqRoom struct {
	held  int64    // of the Budget's used, charged by ChargeRequest
	peak  [2]int64 // the most held in the current window and the one before
	start time.Time
}

// roll starts a new window when the current one is over.
func (r *reqRoom) roll(now time.Time) {
	switch d := now.Sub(r.start); {
	case d < reqWindow:
		return
	case d < 2*reqWindow:
		r.peak[1] = r.peak[0]
	default:
		r.peak[1] = 0
	}
	r.peak[0] = r.held
	r.start = now
}

// keptLocked is the room kept for request bytes not held now; b.mu held.
// None is kept while no dirty block is held: the budget is then cached
// blocks, loads, readahead and blocks queued for the disk, and a request's
// charge evicts cached blocks for its room as before. Kept then, the room
// cost a 1 GiB cold read (its READs, up to 14 MiB at once) 3–4× the
// dropped prefetches, evictions of blocks read ahead and skipped disk
// writes, and ~10 % of its speed in 5 of 6 alternated pairs.
func (b *Budget) keptLocked(now time.Time) int64 {
	r := &b.req
	r.roll(now)
	if b.dirty == 0 {
		return 0
	}
	room := min(max(r.peak[0], r.peak[1]), b.limit/reqRoomShare)
	return max(room-r.held, 0)
}

// ChargeRequest counts n bytes of a FUSE request's buffer, held while the
// request is handled, against the budget: in the room kept for requests
// when they fit there, else as Charge does (evicting cached blocks, and
// past the limit when firm reservations leave no room); the room kept grows
// to the most held at once. It never waits. Give the bytes back with
// ReleaseRequest.
func (b *Budget) ChargeRequest(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	r := &b.req
	r.roll(time.Now())
	r.held += n
	r.peak[0] = max(r.peak[0], r.held)
	b.mu.Unlock()
	// Held now, the bytes are no longer in the room kept (keptLocked): a
	// charge that fits there takes no more than the kept room did.
	b.Charge(n)
}

// ReleaseRequest gives back n bytes charged by ChargeRequest. Their room
// stays kept for the next requests (keptLocked).
func (b *Budget) ReleaseRequest(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.req.held -= n
	b.mu.Unlock()
	b.Release(n)
}

// RequestRoom is the room the budget keeps for request buffers now,
// those held included.
func (b *Budget) RequestRoom() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.keptLocked(time.Now()) + b.req.held
}
