package fs

import (
	"encoding/json"
	"sync/atomic"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/metrics"
)

// Stats counts what a mount's files do (opens, reads, errors, GETXATTRs)
// and shows them with the requests the mount made, which package metrics
// counts where it sees them: the HTTP client's transport.
type Stats struct {
	requests *metrics.Tally // nil: no request counts
	opens    atomic.Int64
	kept     atomic.Int64 // opens answered with FOPEN_KEEP_CACHE
	// opens that offered the kernel an assembled object file (passthrough)
	passthrough atomic.Int64
	// opens that could have been passthrough but kept the page cache the
	// daemon's READs had just filled (fileNode.openPassthrough)
	pagesFirst atomic.Int64
	reads      atomic.Int64
	readB      atomic.Int64
	errors     atomic.Int64
	// getxattrs counts GETXATTR requests (fs/xattrprobe.go).
	getxattrs atomic.Int64
	// writes is the number of WRITE requests being handled, writesMax its
	// highest (fs/reqmem.go).
	writes, writesMax atomic.Int64
}

// writing counts a WRITE request from now until the returned func runs.
func (s *Stats) writing() func() {
	n := s.writes.Add(1)
	for {
		m := s.writesMax.Load()
		if n <= m || s.writesMax.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { s.writes.Add(-1) }
}

// NewStats returns a mount's counters, with the request counts of
// requests (metrics.Metrics.Tally; nil shows none).
func NewStats(requests *metrics.Tally) *Stats {
	return &Stats{requests: requests}
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
	OpensPassthrough int64 `json:"opens_passthrough"`
	// OpensPageCache counts the opens that had an object file but kept
	// the kernel's pages that READs through the daemon had just filled.
	OpensPageCache int64 `json:"opens_page_cache"`
	Reads          int64 `json:"reads"`
	BytesRead      int64 `json:"bytes_read"`
	Errors         int64 `json:"errors"`
	Getxattrs      int64 `json:"getxattrs"` // GETXATTR requests from the kernel
	// WritesInFlightMax is the most WRITE requests handled at once
	// (fs/reqmem.go).
	WritesInFlightMax int64        `json:"writes_in_flight_max"`
	Cache             *cache.Stats `json:"cache,omitempty"`
}

// Snapshot returns the counters now, with the cache's when c is not nil.
func (s *Stats) Snapshot(c *cache.Cache) Snapshot {
	out := Snapshot{Requests: map[string]int64{}, RequestsByKind: map[string]int64{}, RequestsByService: map[string]int64{}}
	if s.requests != nil {
		r := s.requests.Snapshot()
		out.Requests, out.RequestsByService, out.RequestsByKind = r.Verbs, r.Services, r.Kinds
		out.BytesDown, out.BytesUp = r.BytesDown, r.BytesUp
	}
	out.Opens, out.OpensKeepCache = s.opens.Load(), s.kept.Load()
	out.OpensPassthrough, out.OpensPageCache = s.passthrough.Load(), s.pagesFirst.Load()
	out.Reads, out.BytesRead, out.Errors = s.reads.Load(), s.readB.Load(), s.errors.Load()
	out.Getxattrs = s.getxattrs.Load()
	out.WritesInFlightMax = s.writesMax.Load()
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
