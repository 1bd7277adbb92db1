package synnefo

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fastOpts() Options {
	return Options{RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond}
}

func newTestClient(t *testing.T, url string, opts Options) *Client {
	t.Helper()
	c, err := NewClient(url, "tok-secret", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetriesOn503AndReplaysBody(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) != "payload" || r.ContentLength != 7 {
			t.Errorf("attempt %d: body %q, length %d", hits.Load()+1, body, r.ContentLength)
		}
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, fastOpts())
	for _, body := range []io.Reader{strings.NewReader("payload"), bytes.NewReader([]byte("payload")), bytes.NewBufferString("payload")} {
		hits.Store(0)
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodPut, Path: "/a", Body: body})
		if err != nil {
			t.Fatalf("%T: %v", body, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || hits.Load() != 3 {
			t.Fatalf("%T: status %d after %d hits, want 201 after 3", body, resp.StatusCode, hits.Load())
		}
	}
}

func TestRetriesGiveUpAfterMaxRetries(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, `{"serviceUnavailable": {"code": 503, "message": "busy", "details": ""}}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	opts := fastOpts()
	opts.MaxRetries = 3
	_, err := newTestClient(t, srv.URL, opts).Do(context.Background(), &Request{Method: http.MethodGet, Path: "/x"})
	var ce *ClientError
	if !errors.As(err, &ce) || ce.Status != 503 || ce.Fault != "serviceUnavailable" || ce.Message != "busy" {
		t.Fatalf("err = %#v", err)
	}
	if hits.Load() != 4 {
		t.Fatalf("hits = %d, want 1 + 3 retries", hits.Load())
	}
}

func TestRetriesDroppedConnection(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	resp, err := newTestClient(t, srv.URL, fastOpts()).Do(context.Background(), &Request{Method: http.MethodGet, Path: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "ok" || hits.Load() != 2 {
		t.Fatalf("body %q after %d hits", b, hits.Load())
	}
}

func TestNoRetryOfPOST(t *testing.T) {
	for _, mode := range []string{"503", "drop"} {
		t.Run(mode, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if mode == "drop" {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			defer srv.Close()
			_, err := newTestClient(t, srv.URL, fastOpts()).Do(context.Background(),
				&Request{Method: http.MethodPost, Path: "/servers", Body: strings.NewReader("{}")})
			var ce *ClientError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			if mode == "503" && ce.Status != 503 {
				t.Fatalf("status %d", ce.Status)
			}
			if mode == "drop" && (ce.Status != 0 || ce.Err == nil) {
				t.Fatalf("transport error expected, got %#v", ce)
			}
			if hits.Load() != 1 {
				t.Fatalf("POST sent %d times", hits.Load())
			}
		})
	}
}

func TestIdempotentFlagRetriesPOST(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	resp, err := newTestClient(t, srv.URL, fastOpts()).Do(context.Background(),
		&Request{Method: http.MethodPost, Path: "/x", Idempotent: true})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 2 {
		t.Fatalf("hits %d", hits.Load())
	}
}

func TestPOSTRetriedWhenNeverSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connection refused from now on
	_, derr := net.Dial("tcp", addr)
	if derr == nil || !neverSent(derr) {
		t.Fatalf("dial error %v not classified as never sent", derr)
	}
	opts := fastOpts()
	opts.MaxRetries = 2
	start := time.Now()
	_, err = newTestClient(t, "http://"+addr, opts).Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x"})
	var ce *ClientError
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Err == nil || StatusOf(err) != 0 {
		t.Fatalf("err = %#v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("took too long")
	}
}

// unavailableServer answers every request 503, counting them; closed when
// the test ends.
func unavailableServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	hits := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func TestContextCancelStopsRetrying(t *testing.T) {
	srv, hits := unavailableServer(t)
	c := newTestClient(t, srv.URL, Options{MaxRetries: 100, RetryBase: 2 * time.Second, RetryMax: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &Request{Method: http.MethodGet, Path: "/x"})
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Fatalf("Do returned after %v, past the deadline", el)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	var ce *ClientError
	if !errors.As(err, &ce) {
		t.Fatalf("not a ClientError: %T", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("hits %d", hits.Load())
	}
}

func TestErrorParsing(t *testing.T) {
	tests := []struct {
		name                                string
		status                              int
		ctype, body                         string
		wantFault, wantMessage, wantDetails string
	}{
		{"itemNotFound", 404, "application/json", `{"itemNotFound": {"code": 404, "message": "Server not found.", "details": ""}}`, "itemNotFound", "Server not found.", ""},
		{"badRequest with details", 400, "application/json", `{"badRequest": {"code": 400, "message": "Invalid flavor", "details": "flavorRef 99"}}`, "badRequest", "Invalid flavor", "flavorRef 99"},
		{"generic fault", 401, "application/json", `{"fault": {"code": 401, "message": "UNAUTHORIZED", "details": "{\"unauthorized\": {}}"}}`, "fault", "UNAUTHORIZED", `{"unauthorized": {}}`},
		{"empty message", 403, "application/json", `{"forbidden": {"code": 403, "message": "", "details": ""}}`, "forbidden", "Forbidden", ""},
		{"bare 409 list", 409, "application/json", `["7d5c3a", "0a1b2c"]`, "", "Conflict", `["7d5c3a", "0a1b2c"]`},
		{"empty body", 404, "text/plain", ``, "", "Not Found", ""},
		{"html body", 502, "text/html", `<html><body>Bad gateway</body></html>`, "", "Bad Gateway", `<html><body>Bad gateway</body></html>`},
		{"two keys", 400, "application/json", `{"a": {}, "b": {}}`, "", "Bad Request", `{"a": {}, "b": {}}`},
		{"non-string details", 413, "application/json", `{"overLimit": {"code": 413, "message": "quota", "details": {"limit": 5}}}`, "overLimit", "quota", `{"limit": 5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			opts := fastOpts()
			opts.MaxRetries = -1
			_, err := newTestClient(t, srv.URL, opts).Do(context.Background(), &Request{Method: http.MethodGet, Path: "/x"})
			var ce *ClientError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			if ce.Status != tt.status || ce.Fault != tt.wantFault || ce.Message != tt.wantMessage || ce.Details != tt.wantDetails {
				t.Fatalf("got status=%d fault=%q message=%q details=%q", ce.Status, ce.Fault, ce.Message, ce.Details)
			}
			if StatusOf(err) != tt.status || StatusOf(errors.New("x")) != 0 {
				t.Fatal("StatusOf")
			}
			if !strings.Contains(ce.Error(), ce.Message) || strings.Contains(ce.Error(), "tok-secret") {
				t.Fatalf("Error() = %q", ce.Error())
			}
		})
	}
}

func TestSuccessStatuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, fastOpts())
	if _, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Success: []int{201}}); StatusOf(err) != 202 {
		t.Fatalf("202 not rejected with Success=[201]: %v", err)
	}
	resp, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Success: []int{201, 202}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func writeCertPEM(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	defer srv.Close()
	caFile := writeCertPEM(t, srv)
	get := func(opts Options) error {
		opts.MaxRetries = -1
		c, err := NewClient(srv.URL, "t", opts)
		if err != nil {
			return err
		}
		resp, err := c.Do(context.Background(), &Request{Path: "/"})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "secure" {
			t.Fatalf("body %q", b)
		}
		return nil
	}
	err := get(Options{})
	var ce *ClientError
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Err == nil {
		t.Fatalf("unverified server accepted by default: %v", err)
	}
	if err := get(Options{CAFile: caFile}); err != nil {
		t.Fatalf("with CA file: %v", err)
	}
	if err := get(Options{Insecure: true}); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o600)
	if _, err := NewClient(srv.URL, "t", Options{CAFile: bad}); err == nil {
		t.Fatal("bad CA file accepted")
	}
	if _, err := NewClient(srv.URL, "t", Options{CAFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("missing CA file accepted")
	}
	if _, err := NewClient(srv.URL, "t", Options{HTTPClient: http.DefaultClient, Insecure: true}); err == nil {
		t.Fatal("Insecure with a custom HTTPClient accepted")
	}
}

func TestPathEscapingAndHeaders(t *testing.T) {
	type seen struct {
		uri, path, token, ua, clen, query string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.RequestURI, r.URL.Path, r.Header.Get("X-Auth-Token"), r.Header.Get("User-Agent"),
			strings.Join(r.Header["Content-Length"], ","), r.URL.RawQuery}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/pithos/object-store/v1/", fastOpts())
	if c.Endpoint() != srv.URL+"/pithos/object-store/v1" || c.Token() != "tok-secret" {
		t.Fatalf("endpoint %q token %q", c.Endpoint(), c.Token())
	}
	tests := []struct {
		path, wantURI string
	}{
		{"/uuid/cont/a b.txt", "/pithos/object-store/v1/uuid/cont/a%20b.txt"},
		{"/uuid/cont/100%/x?y#z", "/pithos/object-store/v1/uuid/cont/100%25/x%3Fy%23z"},
		{"/uuid/cont/ελληνικά/ф.txt", "/pithos/object-store/v1/uuid/cont/%CE%B5%CE%BB%CE%BB%CE%B7%CE%BD%CE%B9%CE%BA%CE%AC/%D1%84.txt"},
		{"uuid/cont/dir//x", "/pithos/object-store/v1/uuid/cont/dir//x"},
		{"/uuid/cont/a+b;c", "/pithos/object-store/v1/uuid/cont/a+b%3Bc"},
		{"", "/pithos/object-store/v1"},
	}
	for _, tt := range tests {
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Path: tt.path})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s := <-got
		if s.uri != tt.wantURI {
			t.Errorf("path %q: request URI %q, want %q", tt.path, s.uri, tt.wantURI)
		}
		if want := "/pithos/object-store/v1" + "/" + strings.TrimPrefix(tt.path, "/"); tt.path != "" && s.path != want {
			t.Errorf("path %q: server decoded %q", tt.path, s.path)
		}
		if s.token != "tok-secret" || s.ua != DefaultUserAgent {
			t.Errorf("headers: token %q ua %q", s.token, s.ua)
		}
	}
	// Query flags and an explicit Content-Length: 0 on a bodiless POST.
	resp, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/u/c/o",
		Query: url.Values{"hashmap": {""}, "format": {"json"}}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s := <-got; s.query != "format=json&hashmap=" || s.clen != "0" {
		t.Errorf("query %q content-length %q", s.query, s.clen)
	}
}

func TestDoJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content-type %q", r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"name":"vm"}` {
			t.Errorf("body %s", b)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"server": {"id": 42}}`)
	}))
	defer srv.Close()
	var out struct {
		Server struct{ ID int } `json:"server"`
	}
	resp, err := newTestClient(t, srv.URL, fastOpts()).DoJSON(context.Background(),
		&Request{Method: http.MethodPost, Path: "/servers", Success: []int{202}}, map[string]string{"name": "vm"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 202 || out.Server.ID != 42 {
		t.Fatalf("status %d out %+v", resp.StatusCode, out)
	}
}

func TestNewClientRejectsBadEndpoint(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:80", "ftp://x/y", "http://"} {
		if _, err := NewClient(u, "t", Options{}); err == nil {
			t.Errorf("endpoint %q accepted", u)
		}
	}
}

func TestVersionRule(t *testing.T) {
	tests := []struct{ in, def, want, base, version string }{
		{"https://c.example.org/cyclades/image", "1.0", "https://c.example.org/cyclades/image/v1.0", "https://c.example.org/cyclades/image", ""},
		{"https://c.example.org/cyclades/compute/v2.0/", "2.0", "https://c.example.org/cyclades/compute/v2.0", "https://c.example.org/cyclades/compute", "2.0"},
		{"https://s.example.org/pithos/object-store/v1", "1", "https://s.example.org/pithos/object-store/v1", "https://s.example.org/pithos/object-store", "1"},
		{"https://c.example.org/cyclades/network", "2.0", "https://c.example.org/cyclades/network/v2.0", "https://c.example.org/cyclades/network", ""},
		{"https://x/v2.0.1", "2.0", "https://x/v2.0.1/v2.0", "https://x/v2.0.1", ""},
		{"https://x/abcv2", "2.0", "https://x/abcv2/v2.0", "https://x/abcv2", ""},
	}
	for _, tt := range tests {
		if got := VersionedEndpoint(tt.in, tt.def); got != tt.want {
			t.Errorf("VersionedEndpoint(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if b, v := SplitVersion(tt.in); b != tt.base || v != tt.version {
			t.Errorf("SplitVersion(%q) = %q, %q", tt.in, b, v)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	p := newRetryPolicy(Options{RetryBase: 100 * time.Millisecond, RetryMax: time.Second})
	for attempt := 0; attempt < 40; attempt++ {
		d := p.backoff(attempt, 0)
		want := min(time.Second, 100*time.Millisecond<<min(attempt, 20))
		if d < want/2 || d > want {
			t.Fatalf("attempt %d: %v not in [%v, %v]", attempt, d, want/2, want)
		}
	}
	if d := p.backoff(0, 30*time.Second); d != time.Second {
		t.Fatalf("Retry-After not capped: %v", d)
	}
}

func TestCallerGetBodyUsedOnlyForRetries(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n := hits.Add(1); n == 1 {
			if string(b) != "first" {
				t.Errorf("first attempt body %q", b)
			}
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if string(b) != "again" {
			t.Errorf("retry body %q", b)
		}
	}))
	defer srv.Close()
	var replays atomic.Int32
	pr, pw := io.Pipe()
	go func() { io.WriteString(pw, "first"); pw.Close() }()
	resp, err := newTestClient(t, srv.URL, fastOpts()).Do(context.Background(), &Request{Method: http.MethodPut, Path: "/o",
		Body: pr, ContentLength: 5, GetBody: func() (io.ReadCloser, error) {
			replays.Add(1)
			return io.NopCloser(strings.NewReader("again")), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 2 || replays.Load() != 1 {
		t.Fatalf("hits %d replays %d", hits.Load(), replays.Load())
	}
}
