package pithos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/synnefo"
)

// ServiceType is the Astakos catalog type of the object store.
const ServiceType = "object-store"

// ErrNotSupported is returned for Pithos+ extensions called on a plain Swift container.
var ErrNotSupported = errors.New("pithos: not supported by this object store")

// Client talks to one object-store endpoint (the catalog's object-store publicURL, e.g.
// "https://host/pithos/object-store/v1") as one account. It is safe for concurrent use; WithAccount and
// WithConfig return clients sharing its connections and container cache.
type Client struct {
	http    *synnefo.Client
	log     *zap.Logger
	Account string // user uuid on Pithos+, "AUTH_<name>" on Swift
	cfg     Config
	cache   *containerCache
	asOf    *asOf // set by AsOf: the store as it was at a past time
}

// Config tunes transfers. Zero fields take the defaults.
type Config struct {
	// Concurrency bounds parallel block requests of one upload or download (default 8).
	Concurrency int
	// LargeObjectThreshold: on plain Swift, objects larger than this are uploaded as segments plus an
	// X-Object-Manifest (DLO) manifest (default 1 GiB; Swift refuses single objects over 5 GiB).
	LargeObjectThreshold int64
	// SegmentSize is the size of each Swift segment (default LargeObjectThreshold).
	SegmentSize int64
	// SegmentContainer holds the segments (default "<container>_segments").
	SegmentContainer string
	// PageSize is the listing page size (default and maximum 10000).
	PageSize int
	// MaxHashmapRounds bounds the PUT hashmap → 409 → upload loop (default 5).
	MaxHashmapRounds int
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.LargeObjectThreshold <= 0 {
		c.LargeObjectThreshold = 1 << 30
	}
	if c.SegmentSize <= 0 {
		c.SegmentSize = c.LargeObjectThreshold
	}
	if c.PageSize <= 0 || c.PageSize > 10000 {
		c.PageSize = 10000
	}
	if c.MaxHashmapRounds <= 0 {
		c.MaxHashmapRounds = 5
	}
	return c
}

// New returns a client for endpoint and token. The account is taken from the endpoint's last path
// segment when it looks like a Swift storage URL (".../v1/AUTH_x"); otherwise set it with WithAccount
// (on Pithos+ it is the user's uuid, as Astakos reports it).
func New(endpoint, token string, opts synnefo.Options) (*Client, error) {
	account := ""
	if u, err := url.Parse(endpoint); err == nil {
		p := strings.TrimRight(u.Path, "/")
		if i := strings.LastIndex(p, "/"); i >= 0 && strings.HasPrefix(p[i+1:], "AUTH_") {
			account = p[i+1:]
			u.Path = p[:i]
			endpoint = u.String()
		}
	}
	hc, err := synnefo.NewClient(endpoint, token, opts)
	if err != nil {
		return nil, fmt.Errorf("pithos: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Client{http: hc, log: log, Account: account, cfg: Config{}.withDefaults(), cache: newContainerCache()}, nil
}

// WithAccount returns a client for another account (e.g. one sharing objects with the user).
func (c *Client) WithAccount(account string) *Client {
	n := *c
	n.Account = account
	return &n
}

// WithConfig returns a client using cfg for transfers.
func (c *Client) WithConfig(cfg Config) *Client {
	n := *c
	n.cfg = cfg.withDefaults()
	return &n
}

// Config returns the client's effective transfer configuration.
func (c *Client) Config() Config { return c.cfg }

// LargeObjectThreshold is the size above which an upload to plain Swift
// goes as segments (Config.LargeObjectThreshold).
func (c *Client) LargeObjectThreshold() int64 { return c.cfg.LargeObjectThreshold }

// WithProgress returns a context whose requests call fn whenever they make
// progress (a reply arrives, body bytes move): a caller's own stall watch.
func (c *Client) WithProgress(ctx context.Context, fn func()) context.Context {
	return synnefo.WithProgress(ctx, fn)
}

// HTTP returns the underlying synnefo client.
func (c *Client) HTTP() *synnefo.Client { return c.http }

// Endpoint returns the object-store endpoint URL.
func (c *Client) Endpoint() string { return c.http.Endpoint() }

// AccountID returns the account the client addresses (its Account field),
// for consumers that see the client through an interface.
func (c *Client) AccountID() string { return c.Account }

func (c *Client) accountPath() string { return "/" + c.Account }

func (c *Client) containerPath(container string) string { return "/" + c.Account + "/" + container }

func (c *Client) objectPath(container, name string) string {
	return "/" + c.Account + "/" + container + "/" + name
}

// jsonQuery returns query values with format=json plus the given flags (presence-only, sent as "flag=").
func jsonQuery(flags ...string) url.Values {
	q := url.Values{"format": {"json"}}
	for _, f := range flags {
		q.Set(f, "")
	}
	return q
}

// do sends req and drains and closes the reply body, returning the reply headers.
func (c *Client) do(ctx context.Context, req *synnefo.Request) (*http.Response, error) {
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp, nil
}

// containerCache remembers block parameters per account/container.
type containerCache struct {
	mu sync.Mutex
	m  map[string]Capabilities
}

func newContainerCache() *containerCache { return &containerCache{m: map[string]Capabilities{}} }

func (cc *containerCache) get(key string) (Capabilities, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	v, ok := cc.m[key]
	return v, ok
}

func (cc *containerCache) put(key string, v Capabilities) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.m[key] = v
}

func (cc *containerCache) drop(key string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.m, key)
}
