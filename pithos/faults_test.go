package pithos_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
)

// flaky answers a share of requests with 503 before they reach the cloud.
type flaky struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	share  float64
	proxy  http.Handler
	failed int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fail := f.rnd.Float64() < f.share
	if fail {
		f.failed++
	}
	f.mu.Unlock()
	if fail {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"serviceUnavailable": {"code": 503, "message": "try later", "details": "flaky"}}`))
		return
	}
	f.proxy.ServeHTTP(w, r)
}

func TestFiveHundredStorm(t *testing.T) {
	cl := startCloud(t, 1024)
	target, _ := url.Parse(cl.srv.URL)
	fl := &flaky{rnd: rand.New(rand.NewPCG(1, 2)), share: 0.3, proxy: httputil.NewSingleHostReverseProxy(target)}
	front := httptest.NewServer(fl)
	defer front.Close()
	u := cl.srv.User()
	c, err := pithos.New(front.URL+"/pithos/object-store/v1", u.Token, synnefo.Options{MaxRetries: 12, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithAccount(u.UUID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := random(t, 40*1024+5)
	for i := 0; i < 3; i++ {
		name := "storm" + string(rune('a'+i))
		if _, err := c.UploadObject(ctx, "c", name, bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
			t.Fatalf("upload through 30%% 503s: %v", err)
		}
		w := &bufferAt{}
		if _, _, err := c.DownloadObject(ctx, "c", name, w, pithos.DownloadOptions{}); err != nil {
			t.Fatalf("download through 30%% 503s: %v", err)
		}
		if !bytes.Equal(w.data, data) {
			t.Fatal("download differs")
		}
	}
	if l, err := c.ListObjects(ctx, "c", pithos.ListOptions{Limit: 1}); err != nil || len(l.Objects) != 3 {
		t.Fatalf("listing: %v", err)
	}
	if fl.failed == 0 {
		t.Fatal("the storm failed nothing")
	}
	// A non-idempotent append either succeeds or reports the 503 as a ClientError.
	for range 10 {
		_, err := c.AppendObject(ctx, "c", "storma", bytes.NewReader([]byte("x")), 1, pithos.WriteOptions{})
		var ce *synnefo.ClientError
		if err != nil && (!errors.As(err, &ce) || ce.Status != 503 || ce.Details == "") {
			t.Fatalf("append error %v", err)
		}
	}
}

// bufferAt is a growable io.WriterAt.
type bufferAt struct {
	mu   sync.Mutex
	data []byte
}

func (w *bufferAt) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if end := int(off) + len(p); end > len(w.data) {
		w.data = append(w.data, make([]byte, end-len(w.data))...)
	}
	copy(w.data[off:], p)
	return len(p), nil
}

func TestBadEndpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/v1"
	ln.Close()
	c, err := pithos.New(dead, "tok", synnefo.Options{MaxRetries: 2, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.WithAccount("u").ContainerInfo(ctx, "c")
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Err == nil {
		t.Fatalf("unreachable: %v", err)
	}

	cl := startCloud(t, 1024)
	bad, _ := pithos.New(cl.srv.ObjectStoreURL(), "wrong-token", synnefo.Options{})
	_, err = bad.WithAccount(cl.srv.User().UUID).UploadObject(ctx, "c", "x", bytes.NewReader([]byte("x")), pithos.UploadOptions{})
	if synnefo.StatusOf(err) != 401 {
		t.Fatalf("bad token: %v", err)
	}

	// A server that never answers: the call ends with the context.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	hc, _ := pithos.New(hang.URL, "tok", synnefo.Options{})
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = hc.WithAccount("u").ObjectInfo(short, "c", "o", pithos.GetOptions{})
	if err == nil || time.Since(start) > 3*time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging server: %v after %v", err, time.Since(start))
	}
}
