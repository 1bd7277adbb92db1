package writeback_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

const bs = 4096

// counter counts the object-store requests a client makes, by kind.
type counter struct {
	mu          sync.Mutex
	blockPosts  int
	hashmapPuts int
	probes      int
	other       int
	blockBytes  int64
}

type countingTransport struct {
	c    *counter
	next http.RoundTripper
}

func (ct countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ct.c.mu.Lock()
	switch {
	case r.Method == http.MethodPost && r.URL.Query().Has("update") && r.Header.Get("Content-Range") == "" &&
		r.Header.Get("Content-Type") == "application/octet-stream":
		ct.c.blockPosts++
		ct.c.blockBytes += r.ContentLength
	case r.Method == http.MethodPut && r.URL.Query().Has("hashmap") && strings.HasSuffix(r.URL.Path, "/.pithosfs-probe"):
		ct.c.probes++
	case r.Method == http.MethodPut && r.URL.Query().Has("hashmap"):
		ct.c.hashmapPuts++
	default:
		ct.c.other++
	}
	ct.c.mu.Unlock()
	return ct.next.RoundTrip(r)
}

// take returns and resets the counts.
func (c *counter) take() (posts, puts int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	posts, puts, bytes = c.blockPosts, c.hashmapPuts, c.blockBytes
	c.blockPosts, c.hashmapPuts, c.blockBytes, c.other, c.probes = 0, 0, 0, 0, 0
	return
}

type env struct {
	t      *testing.T
	srv    *localcloud.Server
	user   localcloud.User
	admin  *pithos.Client // setup and checks, not counted
	client *pithos.Client // the manager's, counted
	count  *counter
	dir    string
	m      *writeback.Manager
	bs     int64         // the server's block size
	budget *cache.Budget // the manager's, when envOptions.budget was set
}

type envOptions struct {
	quota  int64
	budget int64 // 0: unlimited
	// front, when set, wraps the object-store URL the manager's client uses
	// (a failing proxy).
	front func(target string) string
	cache *cache.Cache
	// eager enables early uploads during writes (off by default: most tests
	// count the commit's own uploads).
	eager bool
	// stream enables streamed uploads of Swift files.
	stream bool
	// blockSize is the server's block size (0: bs).
	blockSize int64
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	users := []localcloud.User{{Name: "u@localhost", UUID: "11111111-2222-3333-4444-555555555555", Token: "tok-" + strings.Repeat("x", 20), Quota: o.quota}}
	if o.blockSize == 0 {
		o.blockSize = bs
	}
	srv, err := localcloud.Start(localcloud.Config{Dir: t.TempDir(), BlockSize: o.blockSize, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	e := &env{t: t, srv: srv, user: srv.Cloud.Users()[0], count: &counter{}, dir: t.TempDir(), bs: o.blockSize}
	e.admin = e.newClient(srv.ObjectStoreURL(), http.DefaultTransport)
	if _, err := e.admin.CreateContainer(context.Background(), "c", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	url := srv.ObjectStoreURL()
	if o.front != nil {
		url = o.front(url)
	}
	e.client = e.newClient(url, countingTransport{e.count, http.DefaultTransport})
	cfg := writeback.Config{Client: e.client, JournalDir: e.dir, Cache: o.cache, RetryMin: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, CommitTimeout: 30 * time.Second}
	if o.eager {
		cfg.EagerUploads = 2
	}
	cfg.StreamUploads = o.stream
	if o.budget > 0 {
		cfg.Budget = cache.NewBudget(o.budget)
		e.budget = cfg.Budget
	}
	e.m = e.newManager(cfg)
	return e
}

// newFlakyEnv is newEnv with the manager's requests going through a
// flakyProxy that passes everything until told otherwise.
func newFlakyEnv(t *testing.T) (*env, *flakyProxy) {
	t.Helper()
	var proxy *flakyProxy
	e := newEnv(t, envOptions{front: func(target string) string {
		proxy = newFlakyProxy(t, target, 0)
		return proxy.front(target)
	}})
	return e, proxy
}

func (e *env) newClient(url string, rt http.RoundTripper) *pithos.Client {
	c, err := pithos.New(url, e.user.Token, synnefo.Options{HTTPClient: &http.Client{Transport: rt},
		RetryBase: 5 * time.Millisecond, RetryMax: 40 * time.Millisecond, MaxRetries: 4})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.WithAccount(e.user.UUID)
}

func (e *env) newManager(cfg writeback.Config) *writeback.Manager {
	m, err := writeback.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = m.Close() })
	return m
}

// put stores data as c/name and returns its ETag.
func (e *env) put(name string, data []byte) string {
	e.t.Helper()
	res, err := e.admin.UploadObject(context.Background(), "c", name, bytes.NewReader(data), pithos.UploadOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ETag
}

// get returns the content of c/name.
func (e *env) get(name string) []byte {
	e.t.Helper()
	o, err := e.admin.GetObject(context.Background(), "c", name, pithos.GetOptions{})
	if err != nil {
		e.t.Fatalf("get %s: %v", name, err)
	}
	defer o.Body.Close()
	data, err := io.ReadAll(o.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return data
}

// base returns the Base of the current version of c/name (a new file when it
// does not exist).
func (e *env) base(name string) writeback.Base {
	e.t.Helper()
	hm, info, err := e.admin.GetHashmap(context.Background(), "c", name, pithos.GetOptions{})
	if errors.Is(err, fault.ErrNotFound) {
		return writeback.Base{Container: "c", Name: name, BlockSize: e.bs}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return writeback.Base{Container: "c", Name: name, ETag: info.ETag, Version: info.Version, BlockSize: hm.BlockSize, BlockHash: hm.BlockHash,
		Hashes: hm.Hashes, Size: hm.Bytes, ContentType: info.ContentType, Meta: info.Meta}
}

func (e *env) open(name string) *writeback.File {
	e.t.Helper()
	f, err := e.m.Open(e.base(name), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads the whole file through f.ReadAt.
func readAll(t *testing.T, f *writeback.File) []byte {
	t.Helper()
	buf := make([]byte, f.Size())
	n, err := f.ReadAt(context.Background(), buf, 0)
	if err != nil && err != io.EOF || n != len(buf) {
		t.Fatalf("ReadAt: %d of %d, %v", n, len(buf), err)
	}
	return buf
}

func write(t *testing.T, f *writeback.File, p []byte, off int64) {
	t.Helper()
	if n, err := f.WriteAt(context.Background(), p, off); err != nil || n != len(p) {
		t.Fatalf("WriteAt(%d bytes at %d) = %d, %v", len(p), off, n, err)
	}
}

// flakyProxy is a reverse proxy to target that fails the first n requests,
// alternately with a 503 and by dropping the connection.
type flakyProxy struct {
	srv    *httptest.Server
	n      atomic.Int64
	failed atomic.Int64
}

func newFlakyProxy(t *testing.T, target string, n int64) *flakyProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &flakyProxy{}
	p.n.Store(n)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.n.Add(-1) >= 0 {
			k := p.failed.Add(1)
			if k%2 == 0 {
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						_ = c.(*net.TCPConn).SetLinger(0)
						_ = c.Close()
						return
					}
				}
			}
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// front returns target with its scheme and host replaced by the proxy's.
func (p *flakyProxy) front(target string) string {
	u, _ := url.Parse(target)
	pu, _ := url.Parse(p.srv.URL)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return u.String()
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition not reached in 10s")
}

// journalFiles counts the regular files under the journal dir, but for
// those of committed files' directories set aside for removal in the
// background (.<id>.trash…, which Manager.Close waits for).
func journalFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".trash") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// heldBlocks counts the blocks the journal record rec holds (a flat
// <id>.json or a directory's record.json): block files it names (in the
// file's directory) and blocks inline in it.
func heldBlocks(t *testing.T, rec string) int {
	t.Helper()
	dir := filepath.Dir(rec)
	if filepath.Base(rec) != "record.json" {
		dir = strings.TrimSuffix(rec, ".json")
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Blocks map[string]string `json:"blocks"`
		Inline map[string][]byte `json:"inline"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	for _, name := range r.Blocks {
		file := name
		if strings.HasPrefix(name, "s") {
			file = "slots" // a slot of the file's one block file
		}
		if st, err := os.Stat(filepath.Join(dir, file)); err != nil || st.Size() == 0 {
			t.Errorf("record names block %s: %v", name, err)
		}
	}
	return len(r.Blocks) + len(r.Inline)
}
