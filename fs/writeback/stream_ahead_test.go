package writeback_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
)

// gateProxy forwards requests to a target; the body of a streamed PUT
// (chunked) is not read until open is called.
type gateProxy struct {
	srv  *httptest.Server
	gate chan struct{}
	once sync.Once
}

type gatedBody struct {
	io.ReadCloser
	gate <-chan struct{}
}

func (g *gatedBody) Read(p []byte) (int, error) {
	<-g.gate
	return g.ReadCloser.Read(p)
}

func newGateProxy(t *testing.T, target string) *gateProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &gateProxy{gate: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.ContentLength == -1 {
			r.Body = &gatedBody{ReadCloser: r.Body, gate: p.gate}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	t.Cleanup(p.open) // before the server's Close: no handler stays blocked
	return p
}

func (p *gateProxy) open() { p.once.Do(func() { close(p.gate) }) }

func (p *gateProxy) front(target string) string { return viaProxy(target, p.srv.URL) }

// A streaming writer keeps a lead of a few blocks on its request, not the
// whole dirty budget: while the server reads nothing of the streamed body,
// the writer of 20 blocks with room for 32 in memory holds at most the
// blocks handed to the stream and not sent (4) plus the one it fills, and
// waits; once the server reads, the whole file arrives in one streamed PUT.
// (Bytes the kernel's socket buffers take count as sent: those blocks leave
// memory.)
func TestStreamSwiftWriteAhead(t *testing.T) {
	ctx := context.Background()
	const big = 1 << 20 // blocks larger than the socket buffers' share of one
	var gp *gateProxy
	e := newEnv(t, envOptions{front: func(target string) string {
		gp = newGateProxy(t, target)
		return gp.front(target)
	}})
	budget := cache.NewBudget(32 * big)
	m := e.newManager(writeback.Config{Client: e.client, JournalDir: t.TempDir(), Budget: budget, StreamUploads: true,
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, CommitTimeout: 60 * time.Second})
	b := swiftBase("ahead")
	b.BlockSize = big
	f, err := m.Open(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	data := randomBytes(t, 20*big)
	var mu sync.Mutex
	var written, peak int64
	done := make(chan error, 1)
	go func() {
		for off := int64(0); off < int64(len(data)); off += big {
			if _, err := f.WriteAt(ctx, data[off:off+big], off); err != nil {
				done <- err
				return
			}
			mu.Lock()
			written, peak = off+big, max(peak, budget.Dirty())
			mu.Unlock()
		}
		done <- nil
	}()
	// Open the gate once the writer has written everything (it ran ahead
	// without bound) or has stopped moving (it waits for the stream).
	last, still := int64(-1), 0
	for still < 6 {
		select {
		case err := <-done:
			done <- err
			still = 6
			continue
		case <-time.After(50 * time.Millisecond):
		}
		mu.Lock()
		w := written
		mu.Unlock()
		if w == last {
			still++
		} else {
			last, still = w, 0
		}
	}
	mu.Lock()
	got := peak
	mu.Unlock()
	gp.open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got > 5*big {
		t.Errorf("a streaming writer held %d MiB of dirty blocks while the server read nothing; want at most 5 (4 handed + 1 filling)", got/big)
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Streamed != 1 || s.StreamFallbacks != 0 || s.Spilled != 0 {
		t.Fatalf("stats %+v: want 1 streamed commit, no fallback, nothing spilled", s)
	}
	if got := e.get("ahead"); !bytes.Equal(got, data) {
		t.Fatalf("server has %d bytes, want %d", len(got), len(data))
	}
}
