package synnefo

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// trickleGap is the pause between the chunks of TestIOTimeout's slow reply.
const trickleGap = 150 * time.Millisecond

// TestIOTimeout: a server that accepts a request and never answers fails
// it after IOTimeout with ErrStalled, once (no retry); a reply that keeps
// moving, slower than IOTimeout in total, is read whole; so is an upload.
func TestIOTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var hung atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			hung.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/trickle":
			for range 8 {
				_, _ = w.Write([]byte("0123456789"))
				w.(http.Flusher).Flush()
				time.Sleep(trickleGap)
			}
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, strings.Repeat("x", int(n%7)))
		}
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "", Options{IOTimeout: 150 * time.Millisecond, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	start := time.Now()
	_, err = c.Do(ctx, &Request{Path: "/hang"})
	if !errors.Is(err, ErrStalled) || StatusOf(err) != 0 {
		t.Fatalf("GET /hang = %v, want ErrStalled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("GET /hang failed after %v", d)
	}
	if n := hung.Load(); n != 1 {
		t.Errorf("GET /hang sent %d times, want once (a stall is not retried)", n)
	}

	// A slow reply that keeps moving is not a stall: its 8 gaps add up to more than the timeout, each is a
	// seventh of it (50 ms gaps against a 150 ms timeout failed on a loaded machine).
	slow, err := NewClient(srv.URL, "", Options{IOTimeout: 7 * trickleGap, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := slow.Do(ctx, &Request{Path: "/trickle"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || len(body) != 80 {
		t.Fatalf("trickle: %d bytes, %v", len(body), err)
	}

	var moved atomic.Int64
	pctx := WithProgress(ctx, func() { moved.Add(1) })
	resp, err = slow.Do(pctx, &Request{Method: http.MethodPut, Path: "/upload", Body: strings.NewReader(strings.Repeat("y", 1<<20))})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if moved.Load() == 0 {
		t.Error("no progress reported for an upload")
	}
}
