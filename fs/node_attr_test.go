package fs

import (
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

func (h *harness) setattr(node uint64, in fuse.SetAttrIn) (fuse.Attr, syscall.Errno) {
	in.InHeader = h.in(node)
	var out fuse.AttrOut
	st := h.raw.SetAttr(nil, &in, &out)
	return out.Attr, statusErrno(st)
}

// chmod is a SETATTR of node's mode alone.
func (h *harness) chmod(node uint64, mode uint32) (fuse.Attr, syscall.Errno) {
	in := fuse.SetAttrIn{}
	in.Valid, in.Mode = fuse.FATTR_MODE, mode
	return h.setattr(node, in)
}

// TestTruncate: truncate(2) of a closed file commits the new size; the
// bytes below it stay, and growing reads zeros.
func TestTruncate(t *testing.T) {
	cases := []struct {
		name string
		size uint64
		want string
	}{
		{"shrink", 3, "012"},
		{"to zero", 0, ""},
		{"grow", 12, "0123456789\x00\x00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("f", "0123456789")
			node := h.node("f")
			in := fuse.SetAttrIn{}
			in.Valid, in.Size = fuse.FATTR_SIZE, c.size
			attr, errno := h.setattr(node, in)
			if errno != 0 || attr.Size != c.size {
				t.Fatalf("truncate: %v, size %d", errno, attr.Size)
			}
			if got, _, _ := h.object("f"); got != c.want {
				t.Fatalf("stored %q, want %q", got, c.want)
			}
			if got, errno := h.getattr(node); errno != 0 || got.Size != c.size {
				t.Fatalf("getattr: %v, size %d", errno, got.Size)
			}
		})
	}
}

// TestChmod: a mode change of a clean file is stored with the object (its
// POSIX token) without changing its data, and survives a fresh lookup.
func TestChmod(t *testing.T) {
	h := newHarness(t, 0)
	h.put("f", "data")
	node := h.node("f")
	if attr, errno := h.chmod(node, 0o600); errno != 0 || attr.Mode&0o777 != 0o600 {
		t.Fatalf("chmod: %v, mode %o", errno, attr.Mode)
	}
	got, info, _ := h.object("f")
	if got != "data" || !strings.Contains(info.ContentType, "m600") {
		t.Fatalf("stored %q, content type %q", got, info.ContentType)
	}
	h.forget()
	if out, errno := h.lookup(rootID, "f"); errno != 0 || out.Attr.Mode&0o777 != 0o600 {
		t.Fatalf("lookup after chmod: %v, mode %o", errno, out.Attr.Mode)
	}
}

// TestChmodFaults: a failed copy-to-self is chmod's errno and stores no
// mode. With err nil another writer replaces the object after the lookup
// (changes times): the copy's If-Match fails, so the other writer's data is
// never overwritten with the old; chmod applies to the new version once,
// and gives up with EAGAIN when that changed too.
func TestChmodFaults(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		changes int
		errno   syscall.Errno
	}{
		{"server error", fault.ErrUnavailable, 0, syscall.EIO},
		{"forbidden", fault.ErrForbidden, 0, syscall.EACCES},
		{"changed behind", nil, 1, 0},
		{"changed behind twice", nil, 2, syscall.EAGAIN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.put("f", "data")
			node := h.node("f")
			want := "data"
			if c.err != nil {
				h.store.Cloud().Faults.FailAll("CopyObject", c.err)
			} else {
				// Between the mount's look at the object and its copy.
				want = strings.Repeat("theirs", c.changes)
				n := 0
				h.store.Cloud().Faults.Add(fakestore.Rule{Op: "CopyObject", Times: c.changes, Do: func(fakestore.Call) {
					n++
					h.put("f", strings.Repeat("theirs", n))
				}})
			}
			if _, errno := h.chmod(node, 0o600); errno != c.errno {
				t.Fatalf("chmod: %v, want %v", errno, c.errno)
			}
			if got, info, _ := h.object("f"); got != want || strings.Contains(info.ContentType, "m600") != (c.errno == 0) {
				t.Fatalf("after chmod: %q, content type %q", got, info.ContentType)
			}
		})
	}
}
