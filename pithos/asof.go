package pithos

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// asOf is the state of a client that sees the store as it was at a past
// time (AsOf): the time, and the version current then of each object read
// or listed so far (0: none), so that a read after a listing costs no extra
// request.
type asOf struct {
	until int64 // Unix seconds

	mu       sync.Mutex
	versions map[string]int64 // "account/container/name" → version id at until; 0 = absent
}

// maxPinned bounds asOf.versions; past it the map starts afresh (a listing
// of a large container refills it, a single object costs one request).
const maxPinned = 200_000

// AsOf returns a client that sees the store as it was at t (Pithos+
// "until", whole seconds): listings of accounts and containers and HEADs
// of accounts and containers carry until; a HEAD, GET, hashmap or range
// read of an object without an explicit GetOptions.Version reads the
// version that was current at t (found in an until listing, one request
// per object unless a listing already named it), and answers 404 for an
// object that did not exist then. Times in the results are the version's
// (until listings carry no last_modified, and a HEAD of an old version
// reports the latest's). No account shares anything with it
// (ListSharingAccounts is empty: until is for the owner only). Every write
// fails with 403 before it leaves the client. Plain Swift has no until:
// callers check Capabilities.Hashmaps first.
func (c *Client) AsOf(t time.Time) *Client {
	n := *c
	n.asOf = &asOf{until: t.Unix(), versions: map[string]int64{}}
	opts := c.http.Options()
	hc := *opts.HTTPClient
	hc.Transport = readOnlyTransport{hc.Transport}
	opts.HTTPClient = &hc
	if h, err := synnefo.NewClient(c.http.Endpoint(), c.http.Token(), opts); err == nil {
		n.http = h
	}
	return &n
}

// readOnlyTransport answers every request but GET and HEAD with 403
// itself: whatever path a write takes, an AsOf client makes none (a
// time-travel mount is mounted read-only as well, so none should come).
type readOnlyTransport struct{ next http.RoundTripper }

func (t readOnlyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		next := t.next
		if next == nil {
			next = http.DefaultTransport
		}
		return next.RoundTrip(req)
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	const msg = "read-only: this client sees the store as of a past time and writes nothing"
	return &http.Response{Status: "403 Forbidden", StatusCode: http.StatusForbidden, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader(msg)),
		ContentLength: int64(len(msg)), Request: req}, nil
}

// Until returns the time an AsOf client sees (Unix seconds), 0 for a
// client of the present.
func (c *Client) Until() int64 {
	if c.asOf == nil {
		return 0
	}
	return c.asOf.until
}

func (c *Client) pinKey(container, name string) string {
	return c.Account + "/" + container + "/" + name
}

// remember notes the versions an until listing reported.
func (c *Client) remember(container string, objs []ObjectInfo) {
	a := c.asOf
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.versions)+len(objs) > maxPinned {
		clear(a.versions)
	}
	for i := range objs {
		a.versions[c.pinKey(container, objs[i].Name)] = objs[i].Version
	}
}

// pin sets opts.Version to the version of container/name current at the
// client's until (an AsOf client; otherwise opts is returned as it is).
func (c *Client) pin(ctx context.Context, container, name string, opts GetOptions) (GetOptions, error) {
	if c.asOf == nil || opts.Version != 0 {
		return opts, nil
	}
	key := c.pinKey(container, name)
	c.asOf.mu.Lock()
	v, ok := c.asOf.versions[key]
	c.asOf.mu.Unlock()
	if !ok {
		// The first name at or after name in the listing of then is name
		// itself when it existed.
		page, _, _, err := c.listPage(ctx, container, ListOptions{Prefix: name, Limit: 1}, "")
		if err != nil {
			return opts, err
		}
		v = 0
		if len(page.Objects) > 0 && page.Objects[0].Name == name {
			v = page.Objects[0].Version
		}
		c.asOf.mu.Lock()
		c.asOf.versions[key] = v
		c.asOf.mu.Unlock()
	}
	if v == 0 {
		return opts, &synnefo.ClientError{Status: http.StatusNotFound, Fault: "itemNotFound",
			Message: "Object does not exist at " + time.Unix(c.asOf.until, 0).UTC().Format(time.RFC3339),
			Method:  http.MethodGet, URL: c.objectPath(container, name)}
	}
	opts.Version = v
	return opts, nil
}

// setUntil adds until to q for an AsOf client.
func (c *Client) setUntil(q interface{ Set(k, v string) }) {
	if c.asOf != nil {
		q.Set("until", strconv.FormatInt(c.asOf.until, 10))
	}
}

// versionTimes gives an AsOf client's result the version's own time.
func (c *Client) versionTimes(o *ObjectInfo) {
	if c.asOf != nil && !o.VersionTimestamp.IsZero() {
		o.LastModified = o.VersionTimestamp
	}
}
