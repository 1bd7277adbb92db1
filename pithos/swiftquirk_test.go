package pithos

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// TestContainerHeadClosesConnection: Swift answers the HEAD of a container
// 204 with "Transfer-Encoding: chunked" and then a chunk terminator. The
// server here sends that terminator only once the next request arrives on
// the connection, so a client that reused the connection would read it as
// the PUT's reply after the PUT was stored, and send the PUT again (seen
// on the real Swift as an extra archived version). The client closes the
// connection after an account or container HEAD: one PUT is stored.
func TestContainerHeadClosesConnection(t *testing.T) {
	var puts, heads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			heads.Add(1)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nX-Container-Object-Count: 0\r\n\r\n")
			_ = brw.Flush()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			next, err := http.ReadRequest(bufio.NewReader(brw))
			if err != nil {
				return // the client closed the connection
			}
			_, _ = io.Copy(io.Discard, next.Body)
			if next.Method == http.MethodPut {
				puts.Add(1) // stored; the reply the client reads is the terminator
			}
			_, _ = conn.Write([]byte("0\r\n\r\n"))
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		w.Header().Set("Etag", "e")
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	cl, err := New(srv.URL+"/v1", "tok", synnefo.Options{RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cl = cl.WithAccount("AUTH_u")
	ctx := context.Background()
	if _, err := cl.ContainerInfo(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutObject(ctx, "c", "o", bytes.NewReader([]byte("data")), 4, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if heads.Load() != 1 || puts.Load() != 1 {
		t.Errorf("%d HEADs, %d PUTs stored; want 1 and 1", heads.Load(), puts.Load())
	}
}
