package writeback_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/pithosfs/pithosfs/pithos"
)

// TestLostReplyOfEmptyCreate: a shell's "echo x > f" commits f empty first
// (bash closes the file's first descriptor before echo writes); when that
// PUT's reply is lost, its retry gets 412 (the object now exists). The
// empty object is this version: no conflict copy, and the data's commit
// then goes over it. It used to make an empty conflict copy, and the data
// went to a second one, leaving f empty.
func TestLostReplyOfEmptyCreate(t *testing.T) {
	ctx := context.Background()
	var dropped atomic.Int64
	e := newEnv(t, envOptions{front: func(target string) string {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = ""
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.ModifyResponse = func(resp *http.Response) error {
			if r := resp.Request; r.Method == http.MethodPut && r.ContentLength == 0 && resp.StatusCode == http.StatusCreated && dropped.Add(1) == 1 {
				return errDropReply
			}
			return nil
		}
		rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			if err == errDropReply {
				if c, _, herr := w.(http.Hijacker).Hijack(); herr == nil {
					_ = c.(*net.TCPConn).SetLinger(0)
					_ = c.Close()
					return
				}
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
		srv := httptest.NewServer(rp)
		t.Cleanup(srv.Close)
		pu, _ := url.Parse(srv.URL)
		fu, _ := url.Parse(target)
		fu.Scheme, fu.Host = pu.Scheme, pu.Host
		return fu.String()
	}})
	f := e.open("f")
	defer f.Release()
	if err := f.Commit(ctx); err != nil {
		t.Fatalf("empty create with its reply lost: %v", err)
	}
	if dropped.Load() != 1 {
		t.Fatal("no reply was dropped: the test did not exercise the retry")
	}
	data := []byte("seven\n")
	write(t, f, data, 0)
	if err := f.Commit(ctx); err != nil {
		t.Fatalf("the data's commit: %v", err)
	}
	if got := e.get("f"); !bytes.Equal(got, data) {
		t.Fatalf("f = %q, want %q", got, data)
	}
	l, err := e.admin.ListObjects(ctx, "c", pithos.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Objects) != 1 {
		var names []string
		for _, o := range l.Objects {
			names = append(names, o.Name)
		}
		t.Errorf("objects: %q, want only f (no conflict copy)", names)
	}
}
