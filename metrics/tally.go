package metrics

import (
	"maps"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
)

// Tally counts a mount's requests by verb, by service and, in the object
// store, by kind (list_objects, get_range, put_hashmap…), and the bytes
// each way: the request figures of .pithosfs/stats.json. The Metrics'
// Transport feeds it, so every request is counted once for both.
type Tally struct {
	mu       sync.Mutex
	base     string // object-store endpoint path, to classify requests by level
	probe    string // object name of block probes (never stored)
	verbs    map[string]int64
	kinds    map[string]int64
	services map[string]int64
	down, up atomic.Int64
}

// TallySnapshot is a copy of a Tally's counters.
type TallySnapshot struct {
	Verbs, Services, Kinds map[string]int64
	BytesDown, BytesUp     int64
}

func newTally() *Tally {
	return &Tally{verbs: map[string]int64{}, kinds: map[string]int64{}, services: map[string]int64{}}
}

// SetEndpoint sets the object-store endpoint (e.g.
// "http://host/pithos/object-store/v1") whose requests are counted by
// kind, known only after authentication, and the object name of the write
// path's block probes, counted as probe_blocks.
func (t *Tally) SetEndpoint(endpoint, probe string) {
	p := endpoint
	if u, err := url.Parse(endpoint); err == nil {
		p = u.Path
	}
	t.mu.Lock()
	t.base, t.probe = strings.TrimRight(p, "/"), probe
	t.mu.Unlock()
}

// Snapshot returns the counters now.
func (t *Tally) Snapshot() TallySnapshot {
	t.mu.Lock()
	out := TallySnapshot{Verbs: maps.Clone(t.verbs), Services: maps.Clone(t.services), Kinds: maps.Clone(t.kinds)}
	t.mu.Unlock()
	out.BytesDown, out.BytesUp = t.down.Load(), t.up.Load()
	return out
}

// count counts one request; svc is its service (Service of its path).
func (t *Tally) count(req *http.Request, svc string) {
	if req.ContentLength > 0 {
		t.up.Add(req.ContentLength)
	}
	t.mu.Lock()
	base, probe := t.base, t.probe
	t.mu.Unlock()
	kind := svc // classified outside the lock: it parses the query
	if base != "" && strings.HasPrefix(req.URL.Path, base) {
		svc = "object-store"
		kind = objectKind(req, strings.Trim(strings.TrimPrefix(req.URL.Path, base), "/"), probe)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.verbs[req.Method]++
	t.kinds[kind]++
	t.services[svc]++
}

// objectKind classifies an object-store request; rest is its path below
// the endpoint, probe the name of block probes.
func objectKind(req *http.Request, rest, probe string) string {
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
	case m == http.MethodPut && q.Has("hashmap") && probe != "" && path.Base(rest) == probe:
		return "probe_blocks" // which blocks the server lacks (early uploads); never stored
	case m == http.MethodPut && q.Has("hashmap"):
		return "put_hashmap"
	}
	return strings.ToLower(m) + "_" + [...]string{"top", "account", "container", "object"}[level]
}
