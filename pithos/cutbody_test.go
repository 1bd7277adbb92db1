package pithos_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
)

// cutter forwards requests to the cloud and cuts the body of the first
// cuts ranged GETs in the middle (the connection closed half-way).
type cutter struct {
	backend string
	cuts    atomic.Int32
	seen    atomic.Int32
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, _ := http.NewRequest(r.Method, c.backend+r.URL.RequestURI(), r.Body)
	req.Header = r.Header.Clone()
	req.ContentLength = r.ContentLength
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodGet || r.Header.Get("Range") == "" || c.seen.Add(1) > c.cuts.Load() {
		_, _ = io.Copy(w, resp.Body)
		return
	}
	_, _ = io.CopyN(w, resp.Body, resp.ContentLength/2)
	w.(http.Flusher).Flush()
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// TestReadRangeCutMidBody: a ranged read whose reply is cut mid-body (the
// connection closed half-way: fewer bytes than its Content-Length) reads
// the rest again and returns the whole range; one cut every time fails
// with an error, never with the short body as if the object ended there
// (which the block cache refused, hash or length: EIO for a read that a
// second request would have served).
func TestReadRangeCutMidBody(t *testing.T) {
	cl := startCloud(t, 1024)
	data := random(t, 40*1024+5)
	if _, err := cl.c.UploadObject(context.Background(), "c", "f", bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	cut := &cutter{backend: cl.srv.URL}
	front := httptest.NewServer(cut)
	defer front.Close()
	u := cl.srv.User()
	c, err := pithos.New(front.URL+"/pithos/object-store/v1", u.Token, synnefo.Options{RetryBase: time.Millisecond, RetryMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithAccount(u.UUID)
	ctx := context.Background()
	size := int64(len(data))

	cut.cuts.Store(2)
	got, err := c.ReadRange(ctx, "c", "f", 1000, size-1000, size, pithos.GetOptions{})
	if err != nil || !bytes.Equal(got, data[1000:]) {
		t.Fatalf("read cut twice mid-body: %d bytes, %v; want the %d of the range", len(got), err, size-1000)
	}
	if n := cut.seen.Load(); n != 3 {
		t.Errorf("%d ranged GETs, want 3 (two cut, then the rest)", n)
	}

	cut.seen.Store(0)
	cut.cuts.Store(1 << 20)
	got, err = c.ReadRange(ctx, "c", "f", 0, size, size, pithos.GetOptions{})
	if err == nil {
		t.Fatalf("read cut every time: %d bytes and no error, want an error", len(got))
	}
}
