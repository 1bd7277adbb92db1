package synnefo

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeSizes is a connection that records the largest write made to it; it has no ReadFrom of its own,
// as a *net.TCPConn has none that helps for a body in memory.
type writeSizes struct {
	net.Conn
	largest *atomic.Int64
}

func (c writeSizes) Write(p []byte) (int, error) {
	for {
		cur := c.largest.Load()
		if int64(len(p)) <= cur || c.largest.CompareAndSwap(cur, int64(len(p))) {
			break
		}
	}
	return c.Conn.Write(p)
}

// recordingClient is a Client whose connections record their largest write, opened through BodyDialer
// when wrap is set.
func recordingClient(t *testing.T, url string, wrap bool, opts Options) (*Client, *atomic.Int64) {
	t.Helper()
	largest := new(atomic.Int64)
	dial := DialFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return writeSizes{Conn: c, largest: largest}, nil
	})
	if wrap {
		dial = BodyDialer(dial)
	}
	opts.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: dial}}
	c, err := NewClient(url, "tok", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, largest
}

// TestBodyGoesInLargeWrites: a block POSTed from memory reaches the connection in writes of at least
// 1 MiB (through a 32 KiB buffer before, a copy of every byte and 128 write(2)s per 4 MiB), with or
// without the stall watch, and arrives whole; a 503 makes the retry send it whole again; the caller's
// reader is left where it was.
func TestBodyGoesInLargeWrites(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	var mu sync.Mutex
	var got [][]byte
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, data)
		mu.Unlock()
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		wrap    bool
		timeout time.Duration
		min     int64
	}{
		{"plain", true, 0, 4<<20 - 4096}, // the headers share the first write
		{"watched", true, 5 * time.Second, watchedPiece},
		{"without BodyDialer", false, 0, 0},
	} {
		calls.Store(0)
		got = nil
		c, largest := recordingClient(t, srv.URL, tc.wrap, Options{IOTimeout: tc.timeout, MaxRetries: 2})
		body := bytes.NewReader(want)
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/c", Body: body,
			Idempotent: true, Success: []int{http.StatusAccepted}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if len(got) != 2 || !bytes.Equal(got[0], want) || !bytes.Equal(got[1], want) {
			t.Fatalf("%s: the server got %d bodies, want 2 whole ones", tc.name, len(got))
		}
		if body.Len() != len(want) {
			t.Fatalf("%s: the caller's reader was read (%d bytes left of %d)", tc.name, body.Len(), len(want))
		}
		l := largest.Load()
		switch {
		case tc.wrap && l < tc.min:
			t.Fatalf("%s: largest write %d bytes, want ≥ %d", tc.name, l, tc.min)
		case !tc.wrap && l > 64<<10:
			t.Fatalf("%s: largest write %d bytes: the check cannot tell the two apart", tc.name, l)
		}
	}
}

// TestBodyLongerThanItsLength: through a BodyDialer connection a body longer than its ContentLength is
// refused as net/http refuses it, and no more than ContentLength bytes reach the server.
func TestBodyLongerThanItsLength(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		n.Store(int64(len(data)))
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: BodyDialer((&net.Dialer{}).DialContext)}}
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(make([]byte, 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1000
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a body longer than its ContentLength was sent")
	}
	if n.Load() > 1000 {
		t.Fatalf("the server got %d bytes, more than the ContentLength", n.Load())
	}
}
