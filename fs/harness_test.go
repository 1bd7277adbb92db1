package fs

import (
	"bytes"
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/internal/fakestore"
	"github.com/pithosfs/pithosfs/pithos"
)

// The harness drives a mount's node tree in process, without FUSE or HTTP:
// go-fuse's raw bridge (gofs.NewNodeFS) answers LOOKUP, CREATE, WRITE,
// FLUSH… as the kernel would send them, over the in-memory fakestore.
// Notifications to the kernel fail with ENOSYS there, which the tree
// ignores, as it does when the kernel refuses them.

// The fake's Store is a Store.
var _ Store = (*fakestore.Store)(nil)

const (
	rootID    = 1 // go-fuse's root node id
	testCont  = "c"
	testOwner = "alice"
)

type harness struct {
	t     *testing.T
	store *fakestore.Store
	raw   fuse.RawFileSystem
	sys   *fsys
}

// newHarness mounts container testCont of a new fake store (blockSize 0:
// the default 4 MiB), with a journal so files are writable.
func newHarness(t *testing.T, blockSize int64) *harness {
	t.Helper()
	return newHarnessAt(t, blockSize, Remote{Container: testCont})
}

// newHarnessAt is newHarness with the mount's root at remote (container
// testCont exists in the store either way).
func newHarnessAt(t *testing.T, blockSize int64, remote Remote) *harness {
	t.Helper()
	st := fakestore.New(testOwner)
	if blockSize > 0 {
		st.Cloud().BlockSize = blockSize
	}
	if _, err := st.CreateContainer(context.Background(), testCont, pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	bc, err := cache.Open(cache.Config{MemBytes: 32 << 20, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bc.Close() })
	cfg := Config{Client: st, Accounts: func(uuid string) Store { return st.WithAccount(uuid) }, Cache: bc,
		Remote: remote, JournalDir: t.TempDir(),
		// Listings and attributes are fresh for the whole test: each test
		// says when another writer changed the store (h.forget).
		AttrTTL: time.Hour, ListTTL: time.Hour}
	s, err := newFsys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		ms := s.managers
		s.mu.Unlock()
		for _, m := range ms {
			m.Close()
		}
	})
	raw := frontFS(gofs.NewNodeFS(s.root(), Options(cfg, "test", false)), s.stats, s.cache.Budget())
	return &harness{t: t, store: st, raw: raw, sys: s}
}

func (h *harness) in(node uint64) fuse.InHeader {
	return fuse.InHeader{NodeId: node, Caller: fuse.Caller{Owner: fuse.Owner{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}}}
}

func statusErrno(st fuse.Status) syscall.Errno { return syscall.Errno(st) }

// put stores an object as another writer would.
func (h *harness) put(name, data string) {
	h.t.Helper()
	if _, err := h.store.PutObject(context.Background(), testCont, name, bytes.NewReader([]byte(data)), int64(len(data)), pithos.PutOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// object returns an object's bytes and attributes from the store (ok
// false: there is none).
func (h *harness) object(name string) (string, *pithos.ObjectInfo, bool) {
	h.t.Helper()
	o, err := h.store.GetObject(context.Background(), testCont, name, pithos.GetOptions{})
	if err != nil {
		return "", nil, false
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b), o.Info, true
}

// forget drops the mount's cached listings (another writer changed the
// store; a test does not wait out the TTL).
func (h *harness) forget() {
	h.sys.lists.mu.Lock()
	defer h.sys.lists.mu.Unlock()
	h.sys.lists.lru.Purge()
}

// lookup resolves name in directory parent; a negative entry is ENOENT.
func (h *harness) lookup(parent uint64, name string) (fuse.EntryOut, syscall.Errno) {
	var out fuse.EntryOut
	in := h.in(parent)
	st := h.raw.Lookup(nil, &in, name, &out)
	if st.Ok() && out.NodeId == 0 {
		return out, syscall.ENOENT
	}
	return out, statusErrno(st)
}

// node resolves path (one name per level) from the root, failing the test
// on any error.
func (h *harness) node(path ...string) uint64 {
	h.t.Helper()
	id := uint64(rootID)
	for _, p := range path {
		out, errno := h.lookup(id, p)
		if errno != 0 {
			h.t.Fatalf("lookup %v: %v", path, errno)
		}
		id = out.NodeId
	}
	return id
}

func (h *harness) getattr(node uint64) (fuse.Attr, syscall.Errno) {
	var out fuse.AttrOut
	st := h.raw.GetAttr(nil, &fuse.GetAttrIn{InHeader: h.in(node)}, &out)
	return out.Attr, statusErrno(st)
}

// create creates name in parent and returns the node and handle.
func (h *harness) create(parent uint64, name string, flags uint32) (node, fh uint64, errno syscall.Errno) {
	var out fuse.CreateOut
	st := h.raw.Create(nil, &fuse.CreateIn{InHeader: h.in(parent), Flags: flags | syscall.O_CREAT, Mode: 0o644}, name, &out)
	return out.NodeId, out.Fh, statusErrno(st)
}

func (h *harness) open(node uint64, flags uint32) (uint64, syscall.Errno) {
	var out fuse.OpenOut
	st := h.raw.Open(nil, &fuse.OpenIn{InHeader: h.in(node), Flags: flags}, &out)
	return out.Fh, statusErrno(st)
}

func (h *harness) write(node, fh uint64, off int64, data string) syscall.Errno {
	n, st := h.raw.Write(nil, &fuse.WriteIn{InHeader: h.in(node), Fh: fh, Offset: uint64(off), Size: uint32(len(data))}, []byte(data))
	if st.Ok() && int(n) != len(data) {
		h.t.Fatalf("write: %d of %d bytes", n, len(data))
	}
	return statusErrno(st)
}

func (h *harness) read(node, fh uint64, off int64, size int) (string, syscall.Errno) {
	buf := make([]byte, size)
	res, st := h.raw.Read(nil, &fuse.ReadIn{InHeader: h.in(node), Fh: fh, Offset: uint64(off), Size: uint32(size)}, buf)
	if !st.Ok() {
		return "", statusErrno(st)
	}
	b, st := res.Bytes(buf)
	res.Done()
	return string(b), statusErrno(st)
}

// flush is close()'s FLUSH: its errno is what close() returns.
func (h *harness) flush(node, fh uint64) syscall.Errno {
	return statusErrno(h.raw.Flush(nil, &fuse.FlushIn{InHeader: h.in(node), Fh: fh}))
}

func (h *harness) release(node, fh uint64) {
	h.raw.Release(nil, &fuse.ReleaseIn{InHeader: h.in(node), Fh: fh})
}

// close is close(2) of the last descriptor: FLUSH then RELEASE.
func (h *harness) close(node, fh uint64) syscall.Errno {
	errno := h.flush(node, fh)
	h.release(node, fh)
	return errno
}

// writeFile writes name in parent whole, as `echo data > name`: the
// kernel looks the name up first, then opens it with O_TRUNC when it
// exists and creates it when it does not. It returns close()'s errno.
func (h *harness) writeFile(parent uint64, name, data string) syscall.Errno {
	h.t.Helper()
	var node, fh uint64
	out, errno := h.lookup(parent, name)
	switch errno {
	case 0:
		node = out.NodeId
		fh, errno = h.open(node, syscall.O_WRONLY|syscall.O_TRUNC)
	case syscall.ENOENT:
		node, fh, errno = h.create(parent, name, syscall.O_WRONLY|syscall.O_TRUNC)
	}
	if errno != 0 {
		return errno
	}
	if errno := h.write(node, fh, 0, data); errno != 0 {
		h.release(node, fh)
		return errno
	}
	return h.close(node, fh)
}

// readFile opens a node and reads it whole (up to 1 MiB).
func (h *harness) readFile(node uint64) (string, syscall.Errno) {
	fh, errno := h.open(node, syscall.O_RDONLY)
	if errno != 0 {
		return "", errno
	}
	defer h.release(node, fh)
	return h.read(node, fh, 0, 1<<20)
}

func (h *harness) readdir(node uint64) ([]string, syscall.Errno) {
	var oo fuse.OpenOut
	in := fuse.OpenIn{InHeader: h.in(node)}
	if st := h.raw.OpenDir(nil, &in, &oo); !st.Ok() {
		return nil, statusErrno(st)
	}
	defer h.raw.ReleaseDir(&fuse.ReleaseIn{InHeader: h.in(node), Fh: oo.Fh})
	var names []string
	for off := uint64(0); ; {
		buf := make([]byte, 64<<10)
		list := fuse.NewDirEntryList(buf, off)
		if st := h.raw.ReadDir(nil, &fuse.ReadIn{InHeader: h.in(node), Fh: oo.Fh, Offset: off, Size: uint32(len(buf))}, list); !st.Ok() {
			return nil, statusErrno(st)
		}
		es, err := fuse.ParseDirEntries(list.Bytes())
		if err != nil {
			h.t.Fatal(err)
		}
		if len(es) == 0 {
			return names, 0
		}
		for _, e := range es {
			if e.Name != "." && e.Name != ".." {
				names = append(names, e.Name)
			}
			off = e.Off
		}
	}
}

func (h *harness) mkdir(parent uint64, name string) (uint64, syscall.Errno) {
	var out fuse.EntryOut
	st := h.raw.Mkdir(nil, &fuse.MkdirIn{InHeader: h.in(parent), Mode: 0o755}, name, &out)
	return out.NodeId, statusErrno(st)
}

func (h *harness) unlink(parent uint64, name string) syscall.Errno {
	in := h.in(parent)
	return statusErrno(h.raw.Unlink(nil, &in, name))
}

func (h *harness) rmdir(parent uint64, name string) syscall.Errno {
	in := h.in(parent)
	return statusErrno(h.raw.Rmdir(nil, &in, name))
}

func (h *harness) rename(parent uint64, old string, newParent uint64, name string, flags uint32) syscall.Errno {
	return statusErrno(h.raw.Rename(nil, &fuse.RenameIn{InHeader: h.in(parent), Newdir: newParent, Flags: flags}, old, name))
}

func (h *harness) fsync(node, fh uint64) syscall.Errno {
	return statusErrno(h.raw.Fsync(nil, &fuse.FsyncIn{InHeader: h.in(node), Fh: fh}))
}

// names returns the store's current object names, in order.
func (h *harness) names() []string {
	h.t.Helper()
	var out []string
	for page, err := range h.store.ObjectPages(context.Background(), testCont, pithos.ListOptions{}) {
		if err != nil {
			h.t.Fatal(err)
		}
		for _, o := range page.Objects {
			out = append(out, o.Name)
		}
	}
	return out
}
