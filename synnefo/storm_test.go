package synnefo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFiveXXStorm: a server failing 30% of requests (deterministically: 3 of every 10, some as dropped
// connections). Every call either succeeds through retries or returns a *ClientError with a status and
// details; none outlives its context.
func TestFiveXXStorm(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch n.Add(1) % 10 {
		case 1, 4:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"serviceUnavailable": {"code": 503, "message": "overloaded", "details": "try later"}}`)
			return
		case 7:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	// 30 % of requests fail: with the default 5 retries, 6 failures in a row
	// (0.3^6) over ~250 GETs made this test fail about one run in five.
	// 12 retries make that about one run in 30 000.
	c := newTestClient(t, srv.URL, Options{MaxRetries: 12, RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				method := http.MethodGet
				if i%5 == 0 {
					method = http.MethodPost
				}
				start := time.Now()
				resp, err := c.Do(ctx, &Request{Method: method, Path: "/obj", Body: strings.NewReader("data")})
				cancel()
				if time.Since(start) > 5*time.Second {
					t.Errorf("goroutine %d call %d outlived its deadline", g, i)
				}
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if string(b) != "ok" {
						t.Errorf("body %q", b)
					}
					ok.Add(1)
					continue
				}
				failed.Add(1)
				var ce *ClientError
				if !errors.As(err, &ce) {
					t.Errorf("%s: not a ClientError: %v", method, err)
					continue
				}
				if method == http.MethodGet {
					t.Errorf("GET failed despite retries: %v", err)
				}
				if ce.Status == 0 && ce.Err == nil || ce.Status != 0 && (ce.Details == "" || ce.Message == "") {
					t.Errorf("error without status/details: %#v", ce)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() < 256 { // every GET (256) succeeds, some POSTs fail
		t.Fatalf("%d ok, %d failed", ok.Load(), failed.Load())
	}
	t.Logf("%d calls ok, %d POSTs failed (not retried), %d server hits", ok.Load(), failed.Load(), n.Load())
}

func TestUnreachableEndpointHonoursDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, "http://"+addr+"/v1", Options{MaxRetries: 50, RetryBase: 100 * time.Millisecond, RetryMax: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Do(ctx, &Request{Method: http.MethodGet, Path: "/x"})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("returned after %v", el)
	}
	var ce *ClientError
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Err == nil {
		t.Fatalf("%#v", err)
	}
}
