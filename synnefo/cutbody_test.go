package synnefo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// cutServer answers {"ok": true} to every request, cutting the body of
// the first cuts replies half-way (the connection closed before the
// Content-Length); it counts the requests.
func cutServer(t *testing.T, cuts int32) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	body := []byte(`{"ok": true, "padding": "0123456789012345678901234567890123456789"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if hits.Add(1) > cuts {
			_, _ = w.Write(body)
			return
		}
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestDoJSONRetriesCutBody: a GET whose JSON reply is cut mid-body is sent
// again (a listing failed with EIO at the first cut: "decoding 200 reply:
// unexpected EOF"); a POST is not (it may have been applied), and a cut
// every time fails after the client's retries.
func TestDoJSONRetriesCutBody(t *testing.T) {
	srv, hits := cutServer(t, 2)
	c := newTestClient(t, srv.URL, fastOpts())
	var out struct{ OK bool }
	if _, err := c.DoJSON(context.Background(), &Request{Method: http.MethodGet, Path: "/list"}, nil, &out); err != nil || !out.OK {
		t.Fatalf("GET cut twice mid-body: %v, %+v", err, out)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("GET: %d requests, want 3", n)
	}

	srv, hits = cutServer(t, 1)
	c = newTestClient(t, srv.URL, fastOpts())
	if _, err := c.DoJSON(context.Background(), &Request{Method: http.MethodPost, Path: "/servers"}, map[string]int{"a": 1}, &out); err == nil {
		t.Error("POST cut mid-body: no error")
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("POST: %d requests, want 1 (never resent)", n)
	}

	srv, hits = cutServer(t, 1<<20)
	c = newTestClient(t, srv.URL, fastOpts())
	if _, err := c.DoJSON(context.Background(), &Request{Method: http.MethodGet, Path: "/list"}, nil, &out); err == nil {
		t.Error("GET cut every time: no error")
	}
	if n := hits.Load(); n != DefaultMaxRetries+1 {
		t.Errorf("GET cut every time: %d requests, want %d", n, DefaultMaxRetries+1)
	}
}
