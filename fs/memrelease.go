package fs

import (
	"runtime/debug"
	"sync"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
)

// memRelease returns memory to the OS after the mount dropped much of what
// it held: a huge listing that expired, or the nodes of its entries once
// the kernel forgot them (after an `ls -l` of 50 000 objects, ~100 MiB).
// Go's background scavenger would take minutes to give those pages back;
// debug.FreeOSMemory does it at once, so it runs once a burst of at least
// releaseMinItems dropped items has been quiet for releaseQuiet (the kernel
// sends its FORGETs in batches over seconds: a release in the middle of them
// left the rest, fewer than releaseMinItems, in the heap), and at the latest
// releaseMaxDelay after the burst began; drops still arriving after such a
// forced release arm one more release whatever their number.
type memRelease struct {
	mu    sync.Mutex
	n     int64
	first time.Time // when the pending release was armed
	last  time.Time // the last drop
	timer *time.Timer
	tail  bool // a release was forced while drops were still arriving
	// free returns the memory (debug.FreeOSMemory when nil; tests count).
	free func()
}

const (
	releaseMinItems = 20_000
	releaseQuiet    = time.Second
	releaseMaxDelay = 5 * time.Second
)

// dropped records that n items (listing entries, nodes) were freed.
func (r *memRelease) dropped(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n += n
	r.last = time.Now()
	if (r.n >= releaseMinItems || r.tail) && r.timer == nil {
		r.first = r.last
		r.timer = time.AfterFunc(releaseQuiet, r.release)
	}
}

// release frees the memory once the drops have been quiet for releaseQuiet
// (or releaseMaxDelay has passed), else waits for that.
func (r *memRelease) release() {
	r.mu.Lock()
	now := time.Now()
	quietAt := r.last.Add(releaseQuiet)
	if now.Before(quietAt) && now.Sub(r.first) < releaseMaxDelay {
		r.timer = time.AfterFunc(min(quietAt.Sub(now), r.first.Add(releaseMaxDelay).Sub(now)), r.release)
		r.mu.Unlock()
		return
	}
	r.tail = now.Before(quietAt)
	r.n, r.timer = 0, nil
	free := r.free
	r.mu.Unlock()
	if free == nil {
		free = debug.FreeOSMemory
	}
	free()
}

var (
	_ = (gofs.NodeOnForgetter)((*fileNode)(nil))
	_ = (gofs.NodeOnForgetter)((*dirNode)(nil))
	_ = (gofs.NodeOnForgetter)((*symlinkNode)(nil))
)

// OnForget counts the node as freed (the kernel forgot it).
func (f *fileNode) OnForget() { f.sys.mem.dropped(1) }

// OnForget counts the node as freed (the kernel forgot it).
func (d *dirNode) OnForget() { d.sys.mem.dropped(1) }

// OnForget counts the node as freed (the kernel forgot it).
func (l *symlinkNode) OnForget() { l.sys.mem.dropped(1) }
