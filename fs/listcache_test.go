package fs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// TestListCacheFetchAfterChange: a listing fetch that began before this mount changed the directory
// (here: committed a new file) is not handed to a lookup made after the change, which would then miss
// the file (a rename of it failed with ENOENT in the model test).
func TestListCacheFetchAfterChange(t *testing.T) {
	ctx := context.Background()
	users := []localcloud.User{{Name: "u@localhost", UUID: "11111111-2222-3333-4444-555555555555", Token: "tok-" + strings.Repeat("x", 20)}}
	srv, err := localcloud.Start(localcloud.Config{Dir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	gate, arrived := make(chan struct{}), make(chan struct{})
	var listings atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Has("delimiter") && listings.Add(1) == 1 {
			// The first listing is slow: the server answers at once (without
			// the file), the reply arrives after the file is committed.
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			close(arrived)
			<-gate
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	client, err := pithos.New(strings.Replace(srv.ObjectStoreURL(), srv.URL, proxy.URL, 1), users[0].Token, synnefo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client = client.WithAccount(users[0].UUID)
	if _, err := client.CreateContainer(ctx, "c", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	lc := newListCache(5*time.Second, 16)
	k := dirKey{account: users[0].UUID, container: "c"}

	early := make(chan *listing, 1)
	go func() {
		l, err := lc.get(ctx, client, k, 0)
		if err != nil {
			t.Error(err)
		}
		early <- l
	}()
	<-arrived
	res, err := client.PutObject(ctx, "c", "b", strings.NewReader("b"), 1, pithos.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lc.put(k, "b", pithos.ObjectInfo{Name: "b", Bytes: 1, ETag: res.ETag}, false)

	late := make(chan *listing, 1)
	go func() {
		l, err := lc.get(ctx, client, k, 0)
		if err != nil {
			t.Error(err)
		}
		late <- l
	}()
	select {
	case l := <-late:
		if _, ok := l.find("b"); !ok {
			t.Fatal("a lookup after the commit got a listing without the committed file")
		}
	case <-time.After(5 * time.Second):
		close(gate)
		if l := <-late; l != nil {
			if _, ok := l.find("b"); !ok {
				t.Fatal("a lookup after the commit waited for the older fetch and got a listing without the file")
			}
		}
		t.Fatal("a lookup after the commit waited for a fetch begun before it")
	}
	close(gate)
	if l := <-early; l == nil {
		t.Fatal("the early fetch failed")
	}
	if l, ok := lc.lru.Peek(k); ok {
		if _, found := l.find("b"); !found {
			t.Error("the older fetch's listing (without b) replaced the cached one")
		}
	}
}
