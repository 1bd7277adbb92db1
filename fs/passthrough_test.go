package fs

import (
	"crypto/rand"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestOpenKeepsPagesTheDaemonFilled: once an object read whole through the daemon has its object file, the
// next open keeps the kernel's pages that read filled (FOPEN_KEEP_CACHE, a handle served from the object
// file, not passthrough); an open whose READs reached the daemon (the pages were gone) passes that on to the
// next open; an open that needed none, or an O_DIRECT one (it fills no page cache), leaves passthrough to
// the next.
func TestOpenKeepsPagesTheDaemonFilled(t *testing.T) {
	h := newHarness(t, 0)
	data := make([]byte, objectFileMin+12345)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	h.put("big", string(data))
	n := h.node("big")
	readAll := func(fh uint64) {
		t.Helper()
		for off := 0; off < len(data); off += 1 << 20 {
			got, errno := h.read(n, fh, int64(off), 1<<20)
			if errno != 0 || got != string(data[off:min(off+1<<20, len(data))]) {
				t.Fatalf("read at %d: %v, %d bytes", off, errno, len(got))
			}
		}
	}
	fh, errno := h.open(n, syscall.O_RDONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	readAll(fh)
	h.release(n, fh)
	deadline := time.Now().Add(30 * time.Second)
	for st := h.sys.cache.Stats(); st.ObjectFiles < 1 || st.ObjectsAssembling > 0; st = h.sys.cache.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("no object file after a whole read: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// open opens n and reports whether it kept the page cache for the daemon's pages, was passthrough,
	// and was answered with FOPEN_KEEP_CACHE.
	open := func(flags uint32) (fh uint64, pagesFirst, passthrough, keep bool) {
		t.Helper()
		pf0, pt0 := h.sys.stats.pagesFirst.Load(), h.sys.stats.passthrough.Load()
		var out fuse.OpenOut
		if st := h.raw.Open(nil, &fuse.OpenIn{InHeader: h.in(n), Flags: flags}, &out); !st.Ok() {
			t.Fatalf("open: %v", st)
		}
		return out.Fh, h.sys.stats.pagesFirst.Load() > pf0, h.sys.stats.passthrough.Load() > pt0, out.OpenFlags&fuse.FOPEN_KEEP_CACHE != 0
	}
	for i, step := range []struct {
		flags                         uint32
		read                          bool // READs reach the daemon (the pages are gone, or O_DIRECT)
		pagesFirst, passthrough, keep bool
	}{
		{syscall.O_RDONLY, true, true, false, true},  // right after the cold read; its pages are gone after all
		{syscall.O_RDONLY, false, true, false, true}, // that open's READs filled them again
		{syscall.O_RDONLY, false, false, true, true}, // the previous open needed no READ
		{syscall.O_RDONLY | syscall.O_DIRECT, true, false, false, true},
		{syscall.O_RDONLY, false, false, true, true}, // O_DIRECT reads fill no page cache
	} {
		fh, pf, pt, keep := open(step.flags)
		if pf != step.pagesFirst || pt != step.passthrough || keep != step.keep {
			t.Errorf("open %d: kept the daemon's pages %v (want %v), passthrough %v (want %v), FOPEN_KEEP_CACHE %v (want %v)",
				i+2, pf, step.pagesFirst, pt, step.passthrough, keep, step.keep)
		}
		if step.read {
			readAll(fh)
		}
		h.release(n, fh)
	}
}
