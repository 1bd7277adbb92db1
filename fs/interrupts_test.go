package fs

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestInterruptedRequests: a request whose caller got a signal (the kernel's
// FUSE_INTERRUPT closes its cancel channel) still runs to its end: the
// store sees an uncancelled context and the caller gets the answer, not
// EINTR (the fake, as the HTTP client, fails a call on a cancelled
// context).
func TestInterruptedRequests(t *testing.T) {
	interrupted := make(chan struct{})
	close(interrupted)
	h := newHarness(t, 0)
	h.put("f", "hello")

	in := h.in(rootID)
	var entry fuse.EntryOut
	if st := h.raw.Lookup(interrupted, &in, "f", &entry); !st.Ok() || entry.NodeId == 0 {
		t.Fatalf("interrupted lookup: %v (node %d), want the entry", st, entry.NodeId)
	}
	f := entry.NodeId
	fin := h.in(f)
	if _, st := h.raw.GetXAttr(interrupted, &fin, "user.none", make([]byte, 64)); syscall.Errno(st) != syscall.ENODATA {
		t.Errorf("interrupted getxattr: %v, want ENODATA", st)
	}
	var oo fuse.OpenOut
	if st := h.raw.Open(interrupted, &fuse.OpenIn{InHeader: fin, Flags: syscall.O_RDONLY}, &oo); !st.Ok() {
		t.Fatalf("interrupted open: %v", st)
	}
	defer h.release(f, oo.Fh)
	buf := make([]byte, 64)
	res, st := h.raw.Read(interrupted, &fuse.ReadIn{InHeader: fin, Fh: oo.Fh, Size: uint32(len(buf))}, buf)
	if !st.Ok() {
		t.Fatalf("interrupted read: %v", st)
	}
	got, _ := res.Bytes(buf)
	res.Done()
	if string(got) != "hello" {
		t.Errorf("interrupted read: %q, want %q", got, "hello")
	}
	var mk fuse.EntryOut
	if st := h.raw.Mkdir(interrupted, &fuse.MkdirIn{InHeader: in, Mode: 0o755}, "d", &mk); !st.Ok() {
		t.Fatalf("interrupted mkdir: %v", st)
	}
	if _, info, ok := h.object("d"); !ok || info.ContentType != "application/directory" {
		t.Errorf("interrupted mkdir: no directory object d on the server (%v)", info)
	}
}
