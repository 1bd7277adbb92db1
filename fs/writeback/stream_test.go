package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// streamEnv is an env whose manager streams uploads of files on "plain
// Swift" (Base.Swift: the local cloud takes the chunked PUT like Swift),
// with a budget of budget bytes of dirty memory.
func streamEnv(t *testing.T, budget int64, front func(target string) string) (*env, *writeback.Manager, string) {
	t.Helper()
	e := newEnv(t, envOptions{front: front})
	dir := t.TempDir()
	m := e.newManager(writeback.Config{Client: e.client, JournalDir: dir, Budget: cache.NewBudget(budget),
		StreamUploads: true, RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, CommitTimeout: 30 * time.Second})
	return e, m, dir
}

func swiftBase(name string) writeback.Base {
	return writeback.Base{Container: "c", Name: name, BlockSize: bs, Swift: true, ContentType: "application/octet-stream"}
}

// writeSeq writes data from off in pieces of n bytes, as cp or dd would.
func writeSeq(t *testing.T, f *writeback.File, data []byte, off int64, n int) {
	t.Helper()
	for p := 0; p < len(data); p += n {
		write(t, f, data[p:min(p+n, len(data))], off+int64(p))
	}
}

// A new file written sequentially goes to the server while it is written:
// with room for 3 dirty blocks, 40 blocks are written without spilling any
// (each block leaves memory once sent), the object is not visible before
// the commit, and the commit completes the one streamed PUT. A file
// truncated to 0 and rewritten streams too, and attributes changed during
// the write are on the new object.
func TestStreamSwift(t *testing.T) {
	ctx := context.Background()
	e, m, jdir := streamEnv(t, 3*bs, nil)
	f, err := m.Open(swiftBase("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 40*bs+100)
	writeSeq(t, f, data, 0, 1000)
	if _, err := e.admin.ObjectInfo(ctx, "c", "s", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("object visible before its commit: %v", err)
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get("s"); !bytes.Equal(got, data) {
		t.Fatalf("server has %d bytes, want %d", len(got), len(data))
	}
	s := m.Stats()
	if s.Streamed != 1 || s.StreamFallbacks != 0 || s.Spilled != 0 {
		t.Fatalf("stats %+v: want 1 streamed commit, no fallback, nothing spilled", s)
	}
	f.Release()
	if n := journalFiles(t, jdir); n != 0 {
		t.Errorf("%d journal files left after the commit", n)
	}

	// Truncated to 0 and rewritten (cp over an existing file), with new
	// metadata set meanwhile: streamed again, and the metadata is on the
	// object.
	b := e.base("s")
	b.Swift = true
	f, err = m.Open(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	data = randomBytes(t, 9*bs)
	writeSeq(t, f, data[:5*bs], 0, bs)
	f.SetMeta("application/octet-stream", map[string]string{"Color": "blue"})
	writeSeq(t, f, data[5*bs:], 5*bs, bs)
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	if got := e.get("s"); !bytes.Equal(got, data) {
		t.Fatal("rewritten content differs")
	}
	info, err := e.admin.ObjectInfo(ctx, "c", "s", pithos.GetOptions{})
	if err != nil || info.Meta["Color"] != "blue" {
		t.Fatalf("metadata after the streamed commit: %v %v", info.Meta, err)
	}
	if s := m.Stats(); s.Streamed != 2 {
		t.Fatalf("stats %+v: want 2 streamed commits", s)
	}
}

// What a stream cannot carry ends it, and the commit then uploads the file
// the ordinary way: a write into a block already sent, a truncate. Writes
// out of order past the blocks sent do not: the commit sends the rest. The
// content is right every time.
func TestStreamSwiftAbandoned(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		streamed int64
		do       func(f *writeback.File, data []byte) []byte
	}{
		{"rewrite-sent-block", 0, func(f *writeback.File, data []byte) []byte {
			writeSeq(t, f, data, 0, 1500)
			patch := []byte("patched")
			write(t, f, patch, 2*bs+5)
			copy(data[2*bs+5:], patch)
			return data
		}},
		{"truncate", 0, func(f *writeback.File, data []byte) []byte {
			writeSeq(t, f, data, 0, bs)
			if err := f.Truncate(ctx, 7*bs+3); err != nil {
				t.Fatal(err)
			}
			return data[:7*bs+3]
		}},
		{"out-of-order", 1, func(f *writeback.File, data []byte) []byte {
			for _, i := range []int{3, 0, 1, 7, 2, 11, 4, 5, 6, 10, 9, 8} {
				write(t, f, data[i*bs:(i+1)*bs], int64(i)*bs)
			}
			return data
		}},
		{"backwards", 1, func(f *writeback.File, data []byte) []byte {
			for i := 11; i >= 0; i-- {
				write(t, f, data[i*bs:(i+1)*bs], int64(i)*bs)
			}
			return data
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, m, _ := streamEnv(t, 4*bs, nil)
			f, err := m.Open(swiftBase("a"), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.do(f, randomBytes(t, 12*bs))
			if err := f.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			f.Release()
			if got := e.get("a"); !bytes.Equal(got, want) {
				t.Fatalf("server has %d bytes, want %d", len(got), len(want))
			}
			if s := m.Stats(); s.Streamed != tc.streamed || s.Commits != 1 || s.StreamFallbacks != 0 {
				t.Fatalf("stats %+v: want one commit, %d streamed", s, tc.streamed)
			}
		})
	}
}

// A server failing in the middle of a streamed PUT (here a proxy cuts the
// body on its way to the server after some blocks) keeps nothing of it —
// the object is not visible — and the commit then uploads the file from the
// journal: the server ends up with exactly the data. Cut early (while the
// writer writes) and late (while the commit sends the last blocks).
func TestStreamSwiftServerFails(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cut  int64 // bytes of the streamed body the server gets
	}{{"early", 5*bs + 17}, {"late", 38 * bs}} {
		t.Run(tc.name, func(t *testing.T) {
			var cp *cutProxy
			e, m, jdir := streamEnv(t, 3*bs, func(target string) string {
				cp = newCutProxy(t, target, tc.cut)
				return cp.front(target)
			})
			cp.check = func() bool {
				_, err := e.admin.ObjectInfo(ctx, "c", "x", pithos.GetOptions{})
				return errors.Is(err, fault.ErrNotFound)
			}
			f, err := m.Open(swiftBase("x"), nil)
			if err != nil {
				t.Fatal(err)
			}
			data := randomBytes(t, 40*bs+5)
			writeSeq(t, f, data, 0, 3000)
			if err := f.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			f.Release()
			if cp.cuts.Load() != 1 || !cp.invisible.Load() {
				t.Fatalf("%d cut PUTs; object invisible after the cut: %v", cp.cuts.Load(), cp.invisible.Load())
			}
			if got := e.get("x"); !bytes.Equal(got, data) {
				t.Fatalf("server has %d bytes, want %d", len(got), len(data))
			}
			if s := m.Stats(); s.Streamed != 0 || s.StreamFallbacks != 1 || s.Commits != 1 {
				t.Fatalf("stats %+v: want one fallback commit", s)
			}
			if n := journalFiles(t, jdir); n != 0 {
				t.Errorf("%d journal files left after the commit", n)
			}
		})
	}
}

// cutProxy forwards requests to target; the first chunked PUT's body is cut
// after n bytes on its way to the server (which sees a body that ends
// early), and check is then run once the server has answered.
type cutProxy struct {
	srv       *httptest.Server
	cuts      atomic.Int64
	invisible atomic.Bool
	check     func() bool
}

var errCut = errors.New("cut by the test proxy")

type cutBody struct {
	r    io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errCut
	}
	n, err := c.r.Read(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.r.Close() }

func newCutProxy(t *testing.T, target string, n int64) *cutProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	p := &cutProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.ContentLength == -1 && p.cuts.Add(1) == 1 {
			r.Body = &cutBody{r: r.Body, left: n}
			rp.ServeHTTP(w, r)
			p.invisible.Store(p.check())
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *cutProxy) front(target string) string { return viaProxy(target, p.srv.URL) }

// viaProxy is target with the scheme and host of the proxy at proxy.
func viaProxy(target, proxy string) string {
	u, _ := url.Parse(target)
	pu, _ := url.Parse(proxy)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return u.String()
}

// Streams start while other handles of the same file come and go (Acquire
// and Release take the manager's lock, then the file's): no deadlock, and
// every version arrives whole.
func TestStreamSwiftConcurrentHandles(t *testing.T) {
	ctx := context.Background()
	e, m, _ := streamEnv(t, 4*bs, nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if f := m.Acquire("c", "h"); f != nil {
				f.Release()
			}
		}
	}()
	for round := range 20 {
		b := swiftBase("h")
		if round > 0 {
			b = e.base("h")
			b.Swift = true
		}
		f, err := m.Open(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(ctx, 0); err != nil {
			t.Fatal(err)
		}
		data := randomBytes(t, 3*bs+round)
		writeSeq(t, f, data, 0, bs/2)
		if err := f.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		f.Release()
		if got := e.get("h"); !bytes.Equal(got, data) {
			t.Fatalf("round %d: server has %d bytes, want %d", round, len(got), len(data))
		}
	}
	close(stop)
	<-done
	if s := m.Stats(); s.Streamed != 20 {
		t.Errorf("stats %+v: want 20 streamed commits", s)
	}
}

// A streamed rewrite of an object that another client replaced meanwhile
// does not overwrite it: the If-Match check (a HEAD started while the
// stream drains) fails, the stream is cut, and the commit keeps the
// user's version as a conflict copy beside the other one.
func TestStreamSwiftConflict(t *testing.T) {
	ctx := context.Background()
	e, m, _ := streamEnv(t, 3*bs, nil)
	e.put("s", []byte("first version"))
	b := e.base("s")
	b.Swift = true
	f, err := m.Open(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if err := f.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 6*bs+1)
	writeSeq(t, f, data, 0, bs)
	other := []byte("another client's version")
	e.put("s", other)
	var ce *writeback.ConflictError
	if err := f.Commit(ctx); !errors.As(err, &ce) {
		t.Fatalf("Commit = %v, want a conflict", err)
	}
	if got := e.get("s"); !bytes.Equal(got, other) {
		t.Fatalf("the other client's version was replaced by %d bytes", len(got))
	}
	if got := e.get(ce.ConflictName); !bytes.Equal(got, data) {
		t.Fatalf("conflict copy %s has %d bytes, want the user's %d", ce.ConflictName, len(got), len(data))
	}
	if s := m.Stats(); s.Streamed != 0 || s.StreamFallbacks != 1 {
		t.Fatalf("stats %+v: want the stream cut and the commit done the ordinary way", s)
	}
}
