package metrics

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Namespace prefixes every metric name.
const Namespace = "pithosfs"

// Metrics is one mount's registry and the request counters its Transport
// feeds. Create it with New; it is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	log *zap.Logger

	requests      *prometheus.CounterVec   // service, verb, status
	duration      *prometheus.HistogramVec // service, verb
	bytes         *prometheus.CounterVec   // service, direction
	dedup         prometheus.Counter
	commitLatency *prometheus.HistogramVec // kind
	commitErrors  prometheus.Counter

	tally *Tally // stats.json's request counts

	mu      sync.Mutex
	commits map[string]time.Time // object path → start of its hashmap commit
}

// New returns metrics with an empty registry holding the request metrics
// and the Go runtime and process collectors (process_resident_memory_bytes
// is the daemon's RSS). log receives the request log (nil: none).
func New(log *zap.Logger) *Metrics {
	if log == nil {
		log = zap.NewNop()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log, tally: newTally(), commits: map[string]time.Time{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "requests_total",
		Help: "HTTP requests to the cloud by service (object-store, identity, compute, image, …), verb and status (\"error\": no reply)."},
		[]string{"service", "verb", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds",
		Help:    "Time to the reply headers of HTTP requests to the cloud.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, []string{"service", "verb"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "bytes_total",
		Help: "Bytes sent to (up) and received from (down) the cloud, bodies only."}, []string{"service", "direction"})
	m.dedup = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "dedup_saved_bytes_total",
		Help: "Bytes of committed files not uploaded because the server already had their blocks (hashmap commits)."})
	m.commitLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "commit_duration_seconds",
		Help: "Commit latency: from the first hashmap PUT of an object to the server's 201, missing-block uploads included " +
			"(kind=hashmap), or one whole-object upload (kind=upload, plain Swift).",
		Buckets: prometheus.ExponentialBuckets(0.005, 3, 10)}, []string{"kind"})
	m.commitErrors = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "commit_request_errors_total",
		Help: "Hashmap PUTs that failed (no reply, or a status other than 201 and a missing-block 409)."})
	m.reg.MustRegister(m.requests, m.duration, m.bytes, m.dedup, m.commitLatency, m.commitErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Tally returns the request counts of .pithosfs/stats.json, which the
// Transport feeds with the same requests as the metrics.
func (m *Metrics) Tally() *Tally { return m.tally }

// Registry is where more collectors (cache, pending commits) are added.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CounterFunc registers a counter read from f at each scrape.
func (m *Metrics) CounterFunc(name, help string, labels prometheus.Labels, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help,
		ConstLabels: labels}, f))
}

// GaugeFunc registers a gauge read from f at each scrape.
func (m *Metrics) GaugeFunc(name, help string, labels prometheus.Labels, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help,
		ConstLabels: labels}, f))
}

// Service names the cloud service a URL path addresses, from the path
// segments every Synnefo deployment (and the local cloud) uses:
// object-store, identity, account, compute, network, image, volume; a
// Swift storage path (/v1/AUTH_…) is object-store and /auth/v1.0 identity.
func Service(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		switch s {
		case "object-store", "identity", "account", "compute", "network", "image", "volume":
			return s
		case "auth":
			return "identity"
		case "v1", "v1.0":
			if i+1 < len(segs) && strings.HasPrefix(segs[i+1], "AUTH_") {
				return "object-store"
			}
		case "tokens":
			return "identity"
		}
	}
	return "other"
}

// Transport wraps rt: every request through it is counted, timed and
// logged (debug; warn for 5xx and failed requests), with a request id
// (the server's X-Request-Id, X-Openstack-Request-Id or X-Trans-Id, else
// one generated here and sent as X-Request-Id). Tokens never reach the log:
// headers are not logged and secret query parameters are redacted.
func (m *Metrics) Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &transport{rt: rt, m: m}
}

type transport struct {
	rt http.RoundTripper
	m  *Metrics
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	m := t.m
	svc, verb := Service(req.URL.Path), req.Method
	rid := req.Header.Get("X-Request-Id")
	if rid == "" {
		rid = newRequestID()
		req = req.Clone(req.Context())
		req.Header.Set("X-Request-Id", rid)
	}
	var hm *hashmapSummary
	if verb == http.MethodPut && req.URL.Query().Has("hashmap") {
		hm, req = readHashmap(req)
	}
	upload := verb == http.MethodPut && hm == nil && req.ContentLength != 0 && req.Header.Get("X-Copy-From") == "" &&
		req.Header.Get("X-Move-From") == "" && svc == "object-store"
	if req.ContentLength > 0 {
		m.bytes.WithLabelValues(svc, "up").Add(float64(req.ContentLength))
	}
	m.tally.count(req, svc)
	start := time.Now()
	resp, err := t.rt.RoundTrip(req)
	took := time.Since(start)
	m.duration.WithLabelValues(svc, verb).Observe(took.Seconds())
	if err != nil {
		m.requests.WithLabelValues(svc, verb, "error").Inc()
		if hm != nil {
			m.endCommit(req.URL.Path, false)
		}
		lvl := zap.WarnLevel
		if refusedCertificate(err) || quiet(req.Context()) {
			lvl = zap.DebugLevel // the caller says it in one line, with what to do
		}
		m.log.Log(lvl, "request failed", zap.String("service", svc), zap.String("method", verb), zap.String("path", req.URL.Path),
			zap.String("query", RedactQuery(req.URL.RawQuery)), zap.String("request_id", rid), zap.Duration("took", took),
			zap.String("error", RedactURLs(err.Error())))
		return nil, err
	}
	m.requests.WithLabelValues(svc, verb, strconv.Itoa(resp.StatusCode)).Inc()
	for _, h := range []string{"X-Request-Id", "X-Openstack-Request-Id", "X-Trans-Id", "X-Compute-Request-Id"} {
		if v := resp.Header.Get(h); v != "" {
			rid = v
			break
		}
	}
	if hm != nil {
		t.hashmapReply(req, resp, hm, start)
	} else if upload && resp.StatusCode == http.StatusCreated {
		m.commitLatency.WithLabelValues("upload").Observe(took.Seconds())
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, c: m.bytes.WithLabelValues(svc, "down"), n: &m.tally.down}
	lvl := zap.DebugLevel
	if resp.StatusCode >= 500 {
		lvl = zap.WarnLevel
	}
	if ce := m.log.Check(lvl, "request"); ce != nil {
		ce.Write(zap.String("service", svc), zap.String("method", verb), zap.String("path", req.URL.Path),
			zap.String("query", RedactQuery(req.URL.RawQuery)), zap.Int("status", resp.StatusCode),
			zap.String("request_id", rid), zap.Duration("took", took), zap.Int64("bytes_up", max(req.ContentLength, 0)))
	}
	return resp, nil
}

// quietKey marks a context whose failed requests are logged at debug level, not warn.
type quietKey struct{}

// Quiet returns ctx with its requests' transport failures logged at debug level: for probes whose failure
// the caller reports itself, in one line (a mount's first login, to an unreachable server).
func Quiet(ctx context.Context) context.Context { return context.WithValue(ctx, quietKey{}, true) }

func quiet(ctx context.Context) bool { q, _ := ctx.Value(quietKey{}).(bool); return q }

// hashmapSummary is what the dedup accounting needs of a hashmap PUT: its
// size, its number of blocks and where each distinct hash first occurs.
// It is read from the body as a stream: a large sparse file's hashmap
// (a million hashes, mostly the same) costs one entry per distinct hash.
type hashmapSummary struct {
	Bytes int64
	N     int64
	first map[string]int64
}

// blockSize infers the block size of a hashmap: the smallest power of two
// that holds the bytes in N blocks (Pithos block sizes are powers of two;
// for one block only its length matters).
func (h *hashmapSummary) blockSize() int64 {
	if h.N == 0 || h.Bytes <= 0 {
		return 0
	}
	per := (h.Bytes + h.N - 1) / h.N
	return int64(1) << bits.Len64(uint64(per-1))
}

// missingBytes is the size of the listed blocks (each counted once).
func (h *hashmapSummary) missingBytes(missing []string) int64 {
	bs := h.blockSize()
	var n int64
	seen := map[string]bool{}
	for _, s := range missing {
		s = strings.ToLower(s)
		i, ok := h.first[s]
		if !ok || seen[s] {
			continue
		}
		seen[s] = true
		n += min(bs, h.Bytes-i*bs)
	}
	return n
}

// readHashmap returns the summary of the hashmap a PUT sends, leaving the
// request able to send it (GetBody, or a buffered copy of the body).
func readHashmap(req *http.Request) (*hashmapSummary, *http.Request) {
	var r io.Reader
	switch {
	case req.GetBody != nil:
		rc, err := req.GetBody()
		if err != nil {
			return nil, req
		}
		defer rc.Close()
		if hb, ok := rc.(hashmapSource); ok {
			return summarizeHashes(hb.HashmapBytes(), hb.HashmapHashes()), req
		}
		r = rc
	case req.Body != nil && req.Body != http.NoBody:
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
		if err != nil {
			return nil, req
		}
		r = bytes.NewReader(data)
	default:
		return nil, req
	}
	hm, err := summarize(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, req
	}
	return hm, req
}

// hashmapSource is a hashmap PUT body that can give its hashmap without
// being parsed (the pithos client's streamed hashmap body).
type hashmapSource interface {
	HashmapBytes() int64
	HashmapHashes() []string
}

func summarizeHashes(size int64, hashes []string) *hashmapSummary {
	hm := &hashmapSummary{Bytes: size, N: int64(len(hashes)), first: map[string]int64{}}
	for i, h := range hashes {
		h = strings.ToLower(h)
		if _, ok := hm.first[h]; !ok {
			hm.first[h] = int64(i)
		}
	}
	return hm
}

// summarize reads {"bytes": N, "hashes": [...]} token by token.
func summarize(r io.Reader) (*hashmapSummary, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	hm := &hashmapSummary{first: map[string]int64{}}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("metrics: hashmap: not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch t {
		case "bytes":
			var n json.Number
			if err := dec.Decode(&n); err != nil {
				return nil, err
			}
			if hm.Bytes, err = n.Int64(); err != nil {
				return nil, err
			}
		case "hashes":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return nil, fmt.Errorf("metrics: hashmap: hashes not a list")
			}
			for dec.More() {
				var h string
				if err := dec.Decode(&h); err != nil {
					return nil, err
				}
				h = strings.ToLower(h)
				if _, ok := hm.first[h]; !ok {
					hm.first[h] = hm.N
				}
				hm.N++
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	return hm, nil
}

// hashmapReply accounts a hashmap PUT's reply: a 409 listing missing blocks
// starts (or continues) the object's commit and saves the blocks not
// listed; a 201 ends it (everything saved when it is the first PUT).
func (t *transport) hashmapReply(req *http.Request, resp *http.Response, hm *hashmapSummary, start time.Time) {
	m, key := t.m, req.URL.Path
	switch resp.StatusCode {
	case http.StatusConflict:
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		var missing []string
		if err != nil || json.Unmarshal(data, &missing) != nil || len(missing) == 0 {
			m.endCommit(key, false)
			return
		}
		m.mu.Lock()
		_, going := m.commits[key]
		if !going {
			m.expireLocked(start)
			m.commits[key] = start
		}
		m.mu.Unlock()
		if !going {
			m.dedup.Add(float64(hm.Bytes - hm.missingBytes(missing)))
		}
	case http.StatusCreated:
		m.mu.Lock()
		began, going := m.commits[key]
		delete(m.commits, key)
		m.mu.Unlock()
		if !going {
			began = start
			m.dedup.Add(float64(hm.Bytes))
		}
		m.commitLatency.WithLabelValues("hashmap").Observe(time.Since(began).Seconds())
	default:
		m.endCommit(key, false)
	}
}

func (m *Metrics) endCommit(key string, ok bool) {
	m.mu.Lock()
	delete(m.commits, key)
	m.mu.Unlock()
	if !ok {
		m.commitErrors.Inc()
	}
}

// expireLocked forgets commits that never finished (their block uploads
// failed and the writer gave up) after an hour, bounding the map.
func (m *Metrics) expireLocked(now time.Time) {
	if len(m.commits) < 1024 {
		return
	}
	for k, t := range m.commits {
		if now.Sub(t) > time.Hour {
			delete(m.commits, k)
		}
	}
}

type countingBody struct {
	io.ReadCloser
	c prometheus.Counter
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.c.Add(float64(n))
		b.n.Add(int64(n))
	}
	return n, err
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "pfs-" + hex.EncodeToString(b[:])
}

// secretParams are query parameters whose values are credentials.
var secretParams = []string{"x-auth-token", "token", "x-auth-key", "key", "temp_url_sig", "password", "signature", "sig"}

func isSecret(name string) bool {
	name = strings.ToLower(name)
	for _, s := range secretParams {
		if name == s {
			return true
		}
	}
	return false
}

// RedactQuery returns a raw query with the values of credential parameters
// (X-Auth-Token, token, temp_url_sig, …) replaced by REDACTED.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && ok && isSecret(name) {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// RedactURLs redacts credential query parameters in every URL of s (error
// messages from net/http quote the whole URL).
func RedactURLs(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '?')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
		end := strings.IndexAny(s, " \"'\n\t#")
		if end < 0 {
			end = len(s)
		}
		b.WriteString(RedactQuery(s[:end]))
		s = s[end:]
	}
}

// refusedCertificate reports whether err is this client refusing the
// server's TLS certificate.
func refusedCertificate(err error) bool {
	var verify *tls.CertificateVerificationError
	return errors.As(err, &verify)
}
