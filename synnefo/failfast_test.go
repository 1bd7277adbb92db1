package synnefo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// refusingClient is a client for a port nobody listens on (connection
// refused), counting its dials.
func refusingClient(t *testing.T, dials *atomic.Int32) *Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, a)
	}}
	opts := fastOpts()
	opts.HTTPClient = &http.Client{Transport: tr}
	return newTestClient(t, "http://"+addr, opts)
}

// TestFailFastUnreachable: a refused connection is ErrUnreachable (and
// ErrUnavailable); with WithFailFast it is not retried, without it it is,
// as before.
func TestFailFastUnreachable(t *testing.T) {
	var dials atomic.Int32
	c := refusingClient(t, &dials)
	_, err := c.Do(WithFailFast(context.Background()), &Request{Method: http.MethodGet, Path: "/x"})
	if !errors.Is(err, fault.ErrUnreachable) || !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("refused with fail-fast: %v, want ErrUnreachable and ErrUnavailable", err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("fail-fast request dialled %d times, want 1", n)
	}
	dials.Store(0)
	_, err = c.Do(context.Background(), &Request{Method: http.MethodGet, Path: "/x"})
	if !errors.Is(err, fault.ErrUnreachable) {
		t.Fatalf("refused: %v, want ErrUnreachable", err)
	}
	if n := dials.Load(); n != DefaultMaxRetries+1 {
		t.Errorf("request dialled %d times, want %d (retried)", n, DefaultMaxRetries+1)
	}
}

// TestFailFastStillRetriesServerErrors: a server that answers 503 is there:
// WithFailFast retries it as without, and its error is not ErrUnreachable.
func TestFailFastStillRetriesServerErrors(t *testing.T) {
	srv, hits := unavailableServer(t)
	_, err := newTestClient(t, srv.URL, fastOpts()).Do(WithFailFast(context.Background()), &Request{Method: http.MethodGet, Path: "/x"})
	if !errors.Is(err, fault.ErrUnavailable) || errors.Is(err, fault.ErrUnreachable) {
		t.Fatalf("503: %v, want ErrUnavailable, not ErrUnreachable", err)
	}
	if n := hits.Load(); n != DefaultMaxRetries+1 {
		t.Errorf("503 with fail-fast: %d requests, want %d", n, DefaultMaxRetries+1)
	}
}

// TestFailFastStalledIsNotUnreachable: a server that accepts the request
// and never answers is the I/O timeout's: ErrStalled, not ErrUnreachable.
func TestFailFastStalledIsNotUnreachable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	opts := fastOpts()
	opts.IOTimeout = 100 * time.Millisecond
	_, err := newTestClient(t, srv.URL, opts).Do(WithFailFast(context.Background()), &Request{Method: http.MethodGet, Path: "/x"})
	if !errors.Is(err, ErrStalled) || errors.Is(err, fault.ErrUnreachable) {
		t.Fatalf("stalled: %v, want ErrStalled, not ErrUnreachable", err)
	}
}

// TestFailFastRetriesReset: a server that accepts the connection and resets
// it (an overloaded proxy, a restart) was there: WithFailFast retries the
// request as without it, and a later answer is taken.
func TestFailFastRetriesReset(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0) // close with RST
				conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	resp, err := newTestClient(t, srv.URL, fastOpts()).Do(WithFailFast(context.Background()), &Request{Method: http.MethodGet, Path: "/x"})
	if err != nil {
		t.Fatalf("reset twice, then 200, with fail-fast: %v", err)
	}
	resp.Body.Close()
	if n := hits.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}
