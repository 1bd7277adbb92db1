package fixed

import (
	"context"
	"syscall"
	"testing"
)

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	var d Dir
	var r ReadOnlyDir
	if _, e := d.Mkdir(ctx, "x", 0o755, nil); e != syscall.EPERM {
		t.Errorf("Dir.Mkdir = %v, want EPERM", e)
	}
	if _, e := r.Mkdir(ctx, "x", 0o755, nil); e != syscall.EACCES {
		t.Errorf("ReadOnlyDir.Mkdir = %v, want EACCES", e)
	}
	if _, _, _, e := r.Create(ctx, "x", 0, 0o644, nil); e != syscall.EACCES {
		t.Errorf("ReadOnlyDir.Create = %v, want EACCES", e)
	}
	if e := r.Rmdir(ctx, "x"); e != syscall.EPERM {
		t.Errorf("ReadOnlyDir.Rmdir = %v, want EPERM", e)
	}
	if _, e := r.Link(ctx, nil, "x", nil); e != syscall.EPERM {
		t.Errorf("ReadOnlyDir.Link = %v, want EPERM", e)
	}
}

func TestReadAt(t *testing.T) {
	data := []byte("0123456789")
	cases := []struct {
		off  int64
		n    int
		want string
	}{{0, 4, "0123"}, {8, 4, "89"}, {10, 4, ""}, {11, 4, ""}, {-1, 4, ""}, {3, 0, ""}}
	for _, c := range cases {
		res := ReadAt(data, make([]byte, c.n), c.off)
		got, _ := res.Bytes(nil)
		if string(got) != c.want {
			t.Errorf("ReadAt(off %d, %d bytes) = %q, want %q", c.off, c.n, got, c.want)
		}
	}
}
