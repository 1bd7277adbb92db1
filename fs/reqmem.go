package fs

import (
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
)

// go-fuse's buffers and the memory budget.
//
// Each goroutine go-fuse has waiting in read(2) on /dev/fuse holds a
// buffer of MaxWrite (1 MiB) plus a page or two, and a request whose input
// does not fit go-fuse's 128-byte inline buffer keeps it while it is
// handled: every WRITE, and SETATTR, long names (LOOKUP, CREATE, RENAME),
// SETXATTR. A READ gives its input buffer back at once but is handed an
// output buffer of its size (1 MiB) that it holds until the reply is
// written, even when the reply is the cache's own slices (readresult.go).
// Under 16 writers and 16 readers these were 20–30 MB beyond the budget.
//
// Each READ charges its output buffer to the budget while it is handled,
// and each WRITE its input buffer (reqMemFS), with Budget.ChargeRequest:
// nothing waits for it. Session 8 charged READs only when the budget had
// room: under 16 writers and 16 readers the budget was full at the peaks
// and go-fuse's buffers (16 READ replies, up to 16 WRITEs) were 25–30 MB
// beyond it, the live heap above GOMEMLIMIT (the collector running 20 times
// a second). Sessions 9–10 charged them past a full budget (Budget.Charge),
// the next dirty block or load finding that much less room; but they came
// in bursts onto a budget the dirty blocks had filled meanwhile, and it
// went 15–24 MiB past its limit. Since session 11 the budget keeps the room
// of the most request bytes held at once in the last seconds for them
// (cache/budgetreq.go): a burst like the last ones fits in it.
//
// The request buffers are not capped. go-fuse can (MaxInflightRequestBytes:
// it stops reading requests while the buffers it has out would pass the
// cap), and a cap of 4 MiB taken out of --cache-mem cut the mixed load's
// peak by ~10 MB, but a cap stalls every request while the ones holding
// its buffers are handled: WRITEs held back by a stalled server (an
// early-upload round's roundWait, a streaming writer's lead) then stalled
// a stat of .pithosfs/stats.json for 3.5–30 s, against 25 ms without it
// (TestMountStalledServerAnswers; docs/comparison.md "Session 8 — lead").
// A mount that answers while its server does not is worth more than those
// 10 MB.

// maxWrite is the mount's largest READ and WRITE (fuse.MountOptions.MaxWrite).
const maxWrite = 1 << 20

// reqMemFS charges each READ's output buffer to the budget while the READ
// is handled, and counts the WRITEs handled at once (stats.json's
// writes_in_flight_max).
type reqMemFS struct {
	fuse.RawFileSystem
	budget *cache.Budget
	stats  *Stats
}

// reqBufBytes is what a request whose input passes go-fuse's inline buffer
// holds while it is handled: a read buffer of MaxWrite plus the request's
// header and an alignment block.
const reqBufBytes = maxWrite + 8<<10

// inlineInput is the payload from which a WRITE no longer fits go-fuse's
// inline input buffer (128 bytes, the 80 of WriteIn included) and keeps a
// whole read buffer.
const inlineInput = 128 - 80

func (c reqMemFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	n := int64(cap(buf))
	c.budget.ChargeRequest(n)
	defer c.budget.ReleaseRequest(n)
	return c.RawFileSystem.Read(cancel, in, buf)
}

// writeCharge charges a WRITE of size bytes' input buffer and returns the
// bytes to release when it has been handled.
func (c reqMemFS) writeCharge(size int) int64 {
	if size < inlineInput {
		return 0
	}
	c.budget.ChargeRequest(reqBufBytes)
	return reqBufBytes
}

func (c reqMemFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	defer c.stats.writing()()
	n := c.writeCharge(len(data))
	defer c.budget.ReleaseRequest(n)
	return c.RawFileSystem.Write(cancel, in, data)
}

func (c reqMemFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	defer c.stats.writing()()
	size := 0
	for _, d := range data {
		size += len(d)
	}
	n := c.writeCharge(size)
	defer c.budget.ReleaseRequest(n)
	return c.RawFileSystem.Writev(cancel, in, data)
}
