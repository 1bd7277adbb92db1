package synnefo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// selfWriter is a body that writes itself in two pieces and records that
// it did.
type selfWriter struct {
	data  []byte
	wrote bool
}

func (s *selfWriter) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

func (s *selfWriter) WriteTo(w io.Writer) (int64, error) {
	s.wrote = true
	half := len(s.data) / 2
	n1, err := w.Write(s.data[:half])
	if err != nil {
		return int64(n1), err
	}
	n2, err := w.Write(s.data[half:])
	s.data = nil
	return int64(n1 + n2), err
}

// TestIOTimeoutChunkedWriterTo: with an I/O timeout, a chunked body that is
// an io.WriterTo still writes itself to the connection (no copy through the
// watch) and arrives whole.
func TestIOTimeoutChunkedWriterTo(t *testing.T) {
	want := bytes.Repeat([]byte("pithosfs"), 1<<16)
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "tok", Options{IOTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	body := &selfWriter{data: append([]byte(nil), want...)}
	resp, err := c.Do(context.Background(), &Request{Method: http.MethodPut, Path: "/x", Body: body, ContentLength: -1,
		Success: []int{http.StatusCreated}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !body.wrote || !bytes.Equal(got, want) {
		t.Fatalf("WriteTo used: %v; server got %d bytes of %d", body.wrote, len(got), len(want))
	}
}
