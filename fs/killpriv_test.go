package fs

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// With FUSE_HANDLE_KILLPRIV_V2 the mount drops set-ID bits itself: a
// WRITE, a truncate or an OPEN with O_TRUNC carrying the kernel's kill flag
// (a caller without CAP_FSETID) clears S_ISUID, and S_ISGID when the group
// may execute; without the flag (root writing) the mode stays.
func TestKillPriv(t *testing.T) {
	write := func(h *harness, node uint64, flags uint32) syscall.Errno {
		fh, errno := h.open(node, syscall.O_WRONLY)
		if errno != 0 {
			return errno
		}
		defer h.release(node, fh)
		// As go-fuse's server does: Writev, Write only when that is ENOSYS.
		_, st := h.raw.Writev(nil, &fuse.WriteIn{InHeader: h.in(node), Fh: fh, Size: 1, WriteFlags: flags}, [][]byte{[]byte("x")})
		if st.Ok() {
			return h.flush(node, fh)
		}
		return statusErrno(st)
	}
	truncate := func(h *harness, node uint64, flags uint32) syscall.Errno {
		in := fuse.SetAttrIn{}
		in.Valid, in.Size = fuse.FATTR_SIZE|flags, 1
		_, errno := h.setattr(node, in)
		return errno
	}
	openTrunc := func(h *harness, node uint64, flags uint32) syscall.Errno {
		var out fuse.OpenOut
		st := h.raw.Open(nil, &fuse.OpenIn{InHeader: h.in(node), Flags: syscall.O_WRONLY | syscall.O_TRUNC, Mode: flags}, &out)
		if st.Ok() {
			h.release(node, out.Fh)
		}
		return statusErrno(st)
	}
	cases := []struct {
		name       string
		op         func(*harness, uint64, uint32) syscall.Errno
		flag       uint32
		mode, want uint32
	}{
		{"write kills suid and sgid", write, fuse.WRITE_KILL_SUIDGID, 0o6775, 0o775},
		{"write keeps sgid without group exec", write, fuse.WRITE_KILL_SUIDGID, 0o6745, 0o2745},
		{"write without the flag keeps both", write, 0, 0o6775, 0o6775},
		{"write of a plain file", write, fuse.WRITE_KILL_SUIDGID, 0o644, 0o644},
		{"truncate kills", truncate, fuse.FATTR_KILL_SUIDGID, 0o4755, 0o755},
		{"truncate without the flag keeps", truncate, 0, 0o4755, 0o4755},
		{"open O_TRUNC kills", openTrunc, fuse.OPEN_KILL_SUIDGID, 0o2775, 0o775},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("f", "data")
			node := h.node("f")
			if _, errno := h.chmod(node, c.mode); errno != 0 {
				t.Fatalf("chmod %o: %v", c.mode, errno)
			}
			if errno := c.op(h, node, c.flag); errno != 0 {
				t.Fatalf("operation: %v", errno)
			}
			attr, errno := h.getattr(node)
			if errno != 0 || attr.Mode&0o7777 != c.want {
				t.Fatalf("mode after = %o (%v), want %o", attr.Mode&0o7777, errno, c.want)
			}
		})
	}
	if opts := Options(Config{}, "t", false); opts.ExtraCapabilities&fuse.CAP_HANDLE_KILLPRIV_V2 == 0 {
		t.Error("the mount does not ask for FUSE_HANDLE_KILLPRIV_V2")
	}
}
