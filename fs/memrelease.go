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
// debug.FreeOSMemory does it at once, so it runs one second after a burst
// of at least releaseMinItems dropped items, never more than once a second.
type memRelease struct {
	mu    sync.Mutex
	n     int64
	timer *time.Timer
}

const releaseMinItems = 20_000

// dropped records that n items (listing entries, nodes) were freed.
func (r *memRelease) dropped(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n += n
	if r.n >= releaseMinItems && r.timer == nil {
		r.timer = time.AfterFunc(time.Second, r.release)
	}
}

func (r *memRelease) release() {
	r.mu.Lock()
	r.n, r.timer = 0, nil
	r.mu.Unlock()
	debug.FreeOSMemory()
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
