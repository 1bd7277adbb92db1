package fs

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/metrics"
)

// Stats counts the HTTP requests a mount makes and what its files do. Its
// Transport wraps an http.RoundTripper; give the wrapped client to every
// service client of the mount so each request is counted once.
type Stats struct {
	base string // object-store endpoint path, to classify requests by level

	mu       sync.Mutex
	verbs    map[string]int64
	kinds    map[string]int64
	services map[string]int64
	down     atomic.Int64
	up       atomic.Int64
	opens    atomic.Int64
	kept     atomic.Int64 // opens answered with FOPEN_KEEP_CACHE
	// opens that offered the kernel an assembled object file (passthrough)
	passthrough atomic.Int64
	reads       atomic.Int64
	readB       atomic.Int64
	errors      atomic.Int64
	// getxattrs counts GETXATTR requests (fs/xattrprobe.go).
	getxattrs atomic.Int64
}

// NewStats returns counters for a mount whose object store is at endpoint
// (e.g. "http://host/pithos/object-store/v1").
func NewStats(endpoint string) *Stats {
	s := &Stats{verbs: map[string]int64{}, kinds: map[string]int64{}, services: map[string]int64{}}
	s.SetEndpoint(endpoint)
	return s
}

// SetEndpoint sets the object-store endpoint used to classify requests (it
// may only be known after authentication).
func (s *Stats) SetEndpoint(endpoint string) {
	p := endpoint
	if u, err := url.Parse(endpoint); err == nil {
		p = u.Path
	}
	s.mu.Lock()
	s.base = strings.TrimRight(p, "/")
	s.mu.Unlock()
}

// Transport returns rt wrapped so that every request through it is counted.
func (s *Stats) Transport(rt http.RoundTripper) http.RoundTripper {
	return &countingTransport{rt: rt, s: s}
}

type countingTransport struct {
	rt http.RoundTripper
	s  *Stats
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.s.count(req)
	if req.ContentLength > 0 {
		t.s.up.Add(req.ContentLength)
	}
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.s.down}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// kind classifies a request: the level it addresses (from the path below
// the object-store endpoint) and what it asks for.
//
// A request outside the object store is counted under its service's name
// (identity, account, compute, network, image, volume: metrics.Service),
// which is also its service.
func (s *Stats) kind(req *http.Request) (kind, service string) {
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	p := req.URL.Path
	if base == "" || !strings.HasPrefix(p, base) {
		svc := metrics.Service(p)
		return svc, svc
	}
	return objectKind(req, strings.Trim(strings.TrimPrefix(p, base), "/")), "object-store"
}

// objectKind classifies an object-store request; rest is its path below the endpoint.
func objectKind(req *http.Request, rest string) string {
	level := 0
	if rest != "" {
		level = min(strings.Count(rest, "/")+1, 3)
	}
	q := req.URL.Query()
	m := req.Method
	switch {
	case m == http.MethodGet && level == 0:
		return "list_accounts"
	case m == http.MethodGet && level == 1:
		return "list_containers"
	case m == http.MethodGet && level == 2:
		return "list_objects"
	case m == http.MethodGet && q.Has("hashmap"):
		return "get_hashmap"
	case m == http.MethodGet && req.Header.Get("Range") != "":
		return "get_range"
	case m == http.MethodHead:
		return [...]string{"head_top", "head_account", "head_container", "head_object"}[level]
	case m == http.MethodPut && (req.Header.Get("X-Move-From") != "" || req.Header.Get("X-Copy-From") != ""):
		return "copy_move"
	case m == http.MethodPut && q.Has("hashmap") && path.Base(rest) == writeback.ProbeName:
		return "probe_blocks" // which blocks the server lacks (early uploads); never stored
	case m == http.MethodPut && q.Has("hashmap"):
		return "put_hashmap"
	}
	return strings.ToLower(m) + "_" + [...]string{"top", "account", "container", "object"}[level]
}

func (s *Stats) count(req *http.Request) {
	k, svc := s.kind(req)
	s.mu.Lock()
	s.verbs[req.Method]++
	s.kinds[k]++
	s.services[svc]++
	s.mu.Unlock()
}

// Snapshot is the content of .pithosfs/stats.json.
type Snapshot struct {
	Requests map[string]int64 `json:"requests"` // by HTTP verb
	// RequestsByService: identity, account, object-store, compute, network, image, volume.
	RequestsByService map[string]int64 `json:"requests_by_service"`
	// RequestsByKind: list_objects, get_range, head_object… for the object store; the other services by name.
	RequestsByKind map[string]int64 `json:"requests_by_kind"`
	BytesDown      int64            `json:"bytes_down"`
	BytesUp        int64            `json:"bytes_up"`
	Opens          int64            `json:"opens"`
	OpensKeepCache int64            `json:"opens_keep_cache"`
	// OpensPassthrough counts read-only opens given the object's assembled
	// file, which the kernel reads itself (FUSE passthrough).
	OpensPassthrough int64        `json:"opens_passthrough"`
	Reads            int64        `json:"reads"`
	BytesRead        int64        `json:"bytes_read"`
	Errors           int64        `json:"errors"`
	Getxattrs        int64        `json:"getxattrs"` // GETXATTR requests from the kernel
	Cache            *cache.Stats `json:"cache,omitempty"`
}

// Snapshot returns the counters now, with the cache's when c is not nil.
func (s *Stats) Snapshot(c *cache.Cache) Snapshot {
	s.mu.Lock()
	out := Snapshot{Requests: map[string]int64{}, RequestsByKind: map[string]int64{}, RequestsByService: map[string]int64{}}
	for k, v := range s.verbs {
		out.Requests[k] = v
	}
	for k, v := range s.services {
		out.RequestsByService[k] = v
	}
	for k, v := range s.kinds {
		out.RequestsByKind[k] = v
	}
	s.mu.Unlock()
	out.BytesDown, out.BytesUp = s.down.Load(), s.up.Load()
	out.Opens, out.OpensKeepCache = s.opens.Load(), s.kept.Load()
	out.OpensPassthrough = s.passthrough.Load()
	out.Reads, out.BytesRead, out.Errors = s.reads.Load(), s.readB.Load(), s.errors.Load()
	out.Getxattrs = s.getxattrs.Load()
	if c != nil {
		cs := c.Stats()
		out.Cache = &cs
	}
	return out
}

// JSON renders a snapshot, indented, with a final newline.
func (s Snapshot) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}
