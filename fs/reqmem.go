package fs

import (
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
)

// go-fuse's request buffers, inside the memory budget.
//
// Each goroutine go-fuse has waiting in read(2) on /dev/fuse holds a
// buffer of MaxWrite (1 MiB) plus a page or two, and a request whose input
// does not fit go-fuse's 128-byte inline buffer keeps it while it is
// handled: every WRITE, and SETATTR, long names (LOOKUP, CREATE, RENAME),
// SETXATTR. A READ gives its input buffer back at once but is handed an
// output buffer of its size (1 MiB) that it holds until the reply is
// written, even when the reply is the cache's own slices (readresult.go).
// Unbounded, under 16 writers and 16 readers these were 20–30 MB beyond
// the budget.
//
// So the first are capped and the cap is taken out of --cache-mem
// (RequestBytes: go-fuse's MaxInflightRequestBytes, which stops reading
// requests while the buffers it has out would pass it), and each READ
// charges its output buffer to the budget while it is handled
// (reqMemFS), evicting cached blocks as any reservation does; when the
// budget is all firm reservations (dirty blocks, loads) the READ goes
// ahead uncharged rather than wait.
//
// A cap stalls every request, READs included, while the requests that hold
// its buffers are handled, so it is safe only if no such request waits for
// something only another FUSE request can give. None does: a WRITE waits at
// most for its own file's early-upload rounds (roundWait each, then it
// spills to the journal, writeback.File.newBlock), for the file's locks,
// which commits hold only across server requests, never across FUSE ones,
// and never for budget room (dirty blocks are TryReserveDirty or spilled);
// READs wait for block loads (the network, the disk tier), which no FUSE
// request frees either; locks are the kernel's (EnableLocks is off: no
// SETLKW reaches the daemon); interrupts cancel nothing (interrupts.go);
// FORGETs wait for nothing; and no handler sends the kernel a notification
// (which could wait for the kernel's own requests). So the slowest a small
// cap makes a mount is one heavy request at a time
// (TestRequestCapManyWriters runs 16 writers and readers with a single
// one).

// requestSlot is what one request buffer counts against go-fuse's cap: the
// 1 MiB of MaxWrite plus its header room, page and bookkeeping (go-fuse's
// requestAccountingSizes: about 9 KiB), rounded up.
const requestSlot = maxWrite + 16<<10

// maxWrite is the mount's largest READ and WRITE (fuse.MountOptions.MaxWrite).
const maxWrite = 1 << 20

// RequestBytes is how much of a memory budget of mem bytes go-fuse's request
// buffers may hold (fuse.MountOptions.MaxInflightRequestBytes): one request
// slot per 24 MiB of budget, between 1 and 4 (4.06 MiB of the default
// 96 MiB). The caller gives the block cache mem minus this.
func RequestBytes(mem int64) int64 {
	return requestSlot * min(max(mem/(24<<20), 1), 4)
}

// reqMemFS charges each READ's output buffer to the budget while the READ
// is handled, and counts the WRITEs handled at once (stats.json's
// writes_in_flight_max: at most the cap's slots).
type reqMemFS struct {
	fuse.RawFileSystem
	budget *cache.Budget
	stats  *Stats
}

func (c reqMemFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	n := int64(cap(buf))
	if !c.budget.TryReserve(n) {
		n = 0
	}
	defer c.budget.Release(n)
	return c.RawFileSystem.Read(cancel, in, buf)
}

func (c reqMemFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	defer c.stats.writing()()
	return c.RawFileSystem.Write(cancel, in, data)
}

func (c reqMemFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	defer c.stats.writing()()
	return c.RawFileSystem.Writev(cancel, in, data)
}
