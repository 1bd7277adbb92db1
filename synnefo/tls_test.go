package synnefo

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestCertificateErrorNotRetried: a server whose certificate is refused is asked once, not MaxRetries
// times: the answer would be the same.
func TestCertificateErrorNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = nil
	srv.StartTLS()
	defer srv.Close()
	c, err := NewClient(srv.URL, "t", Options{MaxRetries: 5, RetryBase: time.Millisecond, RetryMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		conns.Store(0)
		_, err = c.Do(context.Background(), &Request{Method: method, Path: "/"})
		if err == nil || !certificateError(err) {
			t.Fatalf("%s: error %v, want a certificate error", method, err)
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%s: %d connections for a refused certificate, want 1 (no retries)", method, n)
		}
	}
}
