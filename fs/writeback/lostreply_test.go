package writeback_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
)

// lostReplyProxy forwards every request to target, but drops the connection
// instead of replying after the first hashmap PUT that succeeded: the
// server committed, the client never hears of it and retries.
type lostReplyProxy struct {
	srv     *httptest.Server
	dropped atomic.Int64
}

func newLostReplyProxy(t *testing.T, target string) *lostReplyProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	p := &lostReplyProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		if r.Method == http.MethodPut && r.URL.Query().Has("hashmap") && resp.StatusCode == http.StatusCreated &&
			p.dropped.Add(1) == 1 {
			return errDropReply
		}
		return nil
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if err == errDropReply {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					_ = c.(*net.TCPConn).SetLinger(0)
					_ = c.Close()
					return
				}
			}
		}
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

type dropReply struct{}

func (dropReply) Error() string { return "reply dropped" }

var errDropReply error = dropReply{}

func (p *lostReplyProxy) front(target string) string {
	u, _ := url.Parse(target)
	pu, _ := url.Parse(p.srv.URL)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return u.String()
}

// TestLostReplyOfSuccessfulPut: the hashmap PUT succeeds but its reply is
// lost; the client's retry gets 412 (the ETag moved on / the object now
// exists). The commit must see that the object holds exactly its hashmap and
// succeed — no conflict copy — both for a new file (If-None-Match: *) and an
// existing one (If-Match).
func TestLostReplyOfSuccessfulPut(t *testing.T) {
	for _, existing := range []bool{false, true} {
		name := map[bool]string{false: "new", true: "existing"}[existing]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var proxy *lostReplyProxy
			e := newEnv(t, envOptions{front: func(target string) string {
				proxy = newLostReplyProxy(t, target)
				return proxy.front(target)
			}})
			data := randomBytes(t, 5*bs+7)
			if existing {
				e.put("obj", randomBytes(t, 3*bs))
			}
			f := e.open("obj")
			defer f.Release()
			write(t, f, data, 0)
			if err := f.Commit(ctx); err != nil {
				t.Fatalf("Commit with a lost reply: %v", err)
			}
			if proxy.dropped.Load() < 1 {
				t.Fatal("the proxy dropped no reply: the test did not exercise the retry")
			}
			if !bytes.Equal(e.get("obj"), data) {
				t.Fatal("content differs")
			}
			l, err := e.admin.ListObjects(ctx, "c", pithos.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Objects) != 1 {
				names := []string{}
				for _, o := range l.Objects {
					names = append(names, o.Name)
				}
				t.Fatalf("objects after commit: %v (a conflict copy was made)", names)
			}
			if st := e.m.Stats(); st.Conflicts != 0 {
				t.Errorf("conflicts = %d", st.Conflicts)
			}
			// The file's base is the committed version: a second change commits over it.
			write(t, f, []byte("x"), 0)
			if err := f.Commit(ctx); err != nil {
				t.Fatalf("second commit: %v", err)
			}
			data[0] = 'x'
			if !bytes.Equal(e.get("obj"), data) {
				t.Fatal("content after the second commit differs")
			}
		})
	}
}

// TestRenameTreeMovesPendingFiles: files with unflushed writes below a
// directory follow a server-side move of the directory; their commit goes to
// the new name.
func TestRenameTreeMovesPendingFiles(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	f := e.open("d/sub/a")
	g := e.open("dx/b") // not below d/
	defer f.Release()
	defer g.Release()
	write(t, f, []byte("aaa"), 0)
	write(t, g, []byte("bbb"), 0)
	e.m.RenameTree("c", "d", "c", "e")
	if e.m.Lookup("c", "d/sub/a") != nil || e.m.Lookup("c", "e/sub/a") != f {
		t.Fatal("d/sub/a was not re-keyed to e/sub/a")
	}
	if e.m.Lookup("c", "dx/b") != g {
		t.Fatal("dx/b moved although it is not below d/")
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := string(e.get("e/sub/a")); got != "aaa" {
		t.Fatalf("e/sub/a = %q", got)
	}
}

// TestEarlyUploads: a sequential writer's filled blocks are uploaded while it writes (after one probe
// per batch asking which the server lacks), so the commit has little left; no block is uploaded twice,
// and writing content the server already has uploads nothing.
func TestEarlyUploads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{eager: true})
	data := randomBytes(t, 40*bs+100)
	f := e.open("seq")
	defer f.Release()
	for off := 0; off < len(data); off += 1000 {
		write(t, f, data[off:min(off+1000, len(data))], int64(off))
	}
	waitFor(t, func() bool { return e.m.Stats().EarlyUploads >= 32 })
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("seq"), data) {
		t.Fatal("content differs")
	}
	e.count.mu.Lock()
	posts, probes := e.count.blockPosts, e.count.probes
	e.count.mu.Unlock()
	st := e.m.Stats()
	t.Logf("41 blocks: %d uploaded early, %d block POSTs in all, %d probes", st.EarlyUploads, posts, probes)
	if posts != 41 {
		t.Errorf("%d block POSTs for 41 distinct new blocks, want 41 (none twice)", posts)
	}
	if probes != 10 {
		t.Errorf("%d probes, want 10 (one per 4 filled blocks)", probes)
	}
	e.count.take()

	// The same content again under another name: the server has every block.
	g := e.open("again")
	defer g.Release()
	for off := 0; off < len(data); off += 4096 {
		write(t, g, data[off:min(off+4096, len(data))], int64(off))
	}
	if err := g.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let any early round finish
	if posts, puts, _ := e.count.take(); posts != 0 || puts != 1 {
		t.Errorf("writing existing content: %d block POSTs, %d hashmap PUTs; want 0 and 1", posts, puts)
	}
	if l, err := e.admin.ListObjects(ctx, "c", pithos.ListOptions{}); err != nil || len(l.Objects) != 2 {
		t.Errorf("objects after the probes: %v, %v (a probe must never be stored)", l, err)
	}
}

// TestEarlyUploadsBoundedMemory: with a budget of 8 dirty blocks, a sequential writer of 40 blocks waits
// for its early uploads to free memory instead of spilling to the journal; the commit then has only the
// last, partial batch to hash and send, and nothing is uploaded twice.
func TestEarlyUploadsBoundedMemory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{eager: true, budget: 8 * bs})
	data := randomBytes(t, 40*bs+10)
	f := e.open("bounded")
	defer f.Release()
	for off := 0; off < len(data); off += bs / 2 {
		write(t, f, data[off:min(off+bs/2, len(data))], int64(off))
	}
	if got := readAll(t, f); !bytes.Equal(got, data) {
		t.Fatal("read before the commit differs")
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("bounded"), data) {
		t.Fatal("content differs")
	}
	st := e.m.Stats()
	posts, _, _ := e.count.take()
	t.Logf("stats %+v, %d block POSTs", st, posts)
	if st.Spilled != 0 {
		t.Errorf("%d blocks spilled; the writer should have waited for its early uploads", st.Spilled)
	}
	if st.EarlyUploads < 32 {
		t.Errorf("%d blocks uploaded early, want ≥ 32 (4 full batches)", st.EarlyUploads)
	}
	if posts != 41 {
		t.Errorf("%d block POSTs for 41 distinct blocks, want 41", posts)
	}
}

// TestEarlyUploadedBlocksStayWritable: blocks uploaded early stay readable from the journal, and
// writing into one, truncating into one, or discarding the file afterwards behaves as if they had never
// left: the commit sends the new content of the changed block and only that.
func TestEarlyUploadedBlocksStayWritable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{eager: true, budget: 64 * bs})
	data := randomBytes(t, 16*bs)
	f := e.open("w")
	defer f.Release()
	write(t, f, data, 0)
	waitFor(t, func() bool { return e.m.Stats().EarlyUploads >= 16 })
	if got := readAll(t, f); !bytes.Equal(got, data) {
		t.Fatal("read of early-uploaded blocks differs")
	}
	patch := randomBytes(t, 100)
	write(t, f, patch, 3*bs+50)
	copy(data[3*bs+50:], patch)
	if err := f.Truncate(ctx, 12*bs+7); err != nil {
		t.Fatal(err)
	}
	data = data[:12*bs+7]
	if got := readAll(t, f); !bytes.Equal(got, data) {
		t.Fatal("read after the edits differs")
	}
	e.count.take()
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("w"), data) {
		t.Fatal("content differs")
	}
	if posts, puts, _ := e.count.take(); posts != 2 || puts != 2 {
		t.Errorf("commit after edits: %d block POSTs, %d hashmap PUTs; want 2 (the patched and the cut block) and 2", posts, puts)
	}

	g := e.open("gone")
	write(t, g, randomBytes(t, 8*bs), 0)
	waitFor(t, func() bool { return e.m.Stats().EarlyUploads >= 24 })
	g.Discard()
	if l, err := e.admin.ListObjects(ctx, "c", pithos.ListOptions{}); err != nil || len(l.Objects) != 1 {
		t.Errorf("objects after a discarded file: %v, %v", l, err)
	}
	waitFor(t, func() bool { return journalFiles(t, e.dir) == 0 })
}

// TestSmallEditOneRoundTrip: a 4 KiB edit of an existing file sends its dirty block, then one hashmap
// PUT that succeeds at once (no 409 round).
func TestSmallEditOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 10*bs)
	e.put("edit", data)
	e.count.take()
	f := e.open("edit")
	defer f.Release()
	patch := randomBytes(t, 100)
	write(t, f, patch, 5*bs+7)
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	copy(data[5*bs+7:], patch)
	if !bytes.Equal(e.get("edit"), data) {
		t.Fatal("content differs")
	}
	if posts, puts, _ := e.count.take(); posts != 1 || puts != 1 {
		t.Errorf("small edit: %d block POSTs, %d hashmap PUTs; want 1 and 1", posts, puts)
	}
}
