package synnefo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
)

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "pithosfs-synnefo-go/1"

// DefaultMaxRetries is used when Options.MaxRetries is 0.
const DefaultMaxRetries = 5

// maxErrorBody bounds how much of an error reply is read into ClientError.Details.
const maxErrorBody = 64 << 10

// Options configures a Client. The zero value is usable.
type Options struct {
	// HTTPClient is used as is when set (CAFile and Insecure must then be empty). nil → a pooled client
	// with sane timeouts (dial 10s, TLS 10s, response header 60s, idle 30s, 32 idle conns per host).
	HTTPClient *http.Client
	// CAFile is an extra CA bundle (PEM) added to the system pool.
	CAFile string
	// Insecure skips TLS verification (explicit opt-in).
	Insecure bool
	// MaxRetries is how many times a failed idempotent request is retried: 0 → DefaultMaxRetries,
	// negative → never.
	MaxRetries int
	// RetryBase and RetryMax bound the exponential backoff (0 → 200ms and 10s). The n-th retry waits a
	// random duration in [d/2, d] with d = min(RetryMax, RetryBase·2ⁿ), or the server's Retry-After
	// (capped at RetryMax) when it gave one.
	RetryBase time.Duration
	RetryMax  time.Duration
	// Logger receives debug lines about retries (never tokens). nil → no logging.
	Logger *zap.Logger
	// UserAgent is sent as User-Agent; "" → DefaultUserAgent.
	UserAgent string
	// IOTimeout fails a request that makes no progress for that long (no
	// body byte taken, no reply, a reply-body read that gets nothing): its
	// error wraps ErrStalled and it is not retried. Progress, not the whole
	// request, is bounded: a large transfer that keeps moving is fine.
	// 0 → no such bound (the transport's own timeouts only).
	IOTimeout time.Duration
}

// Client is one service endpoint (e.g. "http://127.0.0.1:8080/pithos/object-store/v1") with a token.
// It is safe for concurrent use.
type Client struct {
	endpoint string
	token    string
	hc       *http.Client
	log      *zap.Logger
	ua       string
	retry    retryPolicy
	opts     Options
}

// NewHTTPClient builds the pooled *http.Client described by opts (opts.HTTPClient itself when set). Sharing
// one between several Clients (Options.HTTPClient) shares its connection pool.
func NewHTTPClient(opts Options) (*http.Client, error) {
	if opts.HTTPClient != nil {
		if opts.CAFile != "" || opts.Insecure {
			return nil, errors.New("synnefo: CAFile and Insecure apply only when Options.HTTPClient is nil")
		}
		return opts.HTTPClient, nil
	}
	tlsConf, err := TLSConfig(opts.CAFile, opts.Insecure)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           BodyDialer(dialer.DialContext),
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   32,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}, nil
}

// NewClient returns a client for endpoint (an absolute http(s) URL; a trailing "/" is dropped) that sends
// token as X-Auth-Token ("" → no token header).
func NewClient(endpoint, token string, opts Options) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("synnefo: endpoint %q: %w", endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("synnefo: endpoint %q is not an absolute http(s) URL", endpoint)
	}
	hc, err := NewHTTPClient(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		endpoint: strings.TrimRight(endpoint, "/"),
		token:    token,
		hc:       hc,
		log:      opts.Logger,
		ua:       opts.UserAgent,
		retry:    newRetryPolicy(opts),
		opts:     opts,
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	c.opts.HTTPClient = hc
	c.opts.CAFile, c.opts.Insecure = "", false
	return c, nil
}

// Endpoint returns the endpoint URL without a trailing "/".
func (c *Client) Endpoint() string { return c.endpoint }

// Token returns the token sent as X-Auth-Token.
func (c *Client) Token() string { return c.token }

// HTTPClient returns the underlying *http.Client (shared by clients made with WithEndpoint).
func (c *Client) HTTPClient() *http.Client { return c.hc }

// Logger returns the client's logger (never nil).
func (c *Client) Logger() *zap.Logger { return c.log }

// Options returns options that build clients sharing this one's http.Client, retry policy and logger.
func (c *Client) Options() Options { return c.opts }

// WithEndpoint returns a client for another endpoint with the same token, http.Client and options.
func (c *Client) WithEndpoint(endpoint string) (*Client, error) {
	return NewClient(endpoint, c.token, c.opts)
}

// Request describes one call.
type Request struct {
	Method string
	// Path is UNESCAPED and relative to the endpoint ("/uuid/container/dir/a b.txt"); it is escaped
	// segment-wise (keeping '/'), so names with spaces, '%', '?', '#' and unicode work. A missing leading
	// '/' is added; "" addresses the endpoint itself.
	Path string
	// Query is encoded sorted by key; a flag like "hashmap" with an empty value is sent as "hashmap=".
	Query  url.Values
	Header http.Header
	// Body is nil for none.
	Body io.Reader
	// GetBody replays Body on retry. It is set automatically for *bytes.Reader, *bytes.Buffer and
	// *strings.Reader bodies (from their current position). Without it a request with a body is not retried
	// once the body may have been sent.
	GetBody func() (io.ReadCloser, error)
	// ContentLength is sent as Content-Length; -1 → chunked. For the body types above a 0 means "their
	// length"; for another non-nil Body a 0 means unknown (chunked). PUT/POST/PATCH without a body send
	// an explicit "Content-Length: 0".
	ContentLength int64
	// Idempotent forces retries for a method other than GET/HEAD/PUT/DELETE/OPTIONS that is safe to repeat.
	Idempotent bool
	// NotIdempotent marks a PUT or DELETE that must not be repeated once it may
	// have reached the server (a server-side move: a replay after a lost reply
	// fails with 404). It is then retried only when it surely was not sent.
	NotIdempotent bool
	// Success lists accepted statuses; empty → any 2xx. Other statuses → *ClientError.
	Success []int
	// CloseConn closes the connection once the reply is read, for replies a
	// server ends with bytes beyond the message: Swift answers the HEAD of
	// an account or a container 204 with "Transfer-Encoding: chunked" and a
	// chunk terminator, which the next request sent on that connection would
	// read as its reply (a PUT then fails after it was stored, and is sent
	// again).
	CloseConn bool
}

// URL returns the absolute URL req addresses on c's endpoint.
func (c *Client) URL(req *Request) string {
	u := c.endpoint + EscapePath(req.Path)
	if len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	return u
}

// EscapePath escapes an unescaped path segment by segment, keeping '/', and adds a leading '/' when the path is
// not empty and lacks one.
func EscapePath(p string) string {
	if p == "" {
		return ""
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}

func (req *Request) idempotent() bool {
	if req.NotIdempotent {
		return false
	}
	if req.Idempotent {
		return true
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, "":
		return true
	}
	return false
}

func (req *Request) accepts(code int) bool {
	if len(req.Success) == 0 {
		return code >= 200 && code < 300
	}
	for _, s := range req.Success {
		if s == code {
			return true
		}
	}
	return false
}

// prepareBody resolves GetBody and the content length for the known replayable body types.
func prepareBody(req *Request) (getBody func() (io.ReadCloser, error), length int64) {
	length = req.ContentLength
	if req.Body == nil {
		return nil, 0
	}
	if req.GetBody != nil {
		if length == 0 {
			length = -1
		}
		return req.GetBody, length
	}
	// Each attempt reads a copy of the reader (its slice and position), the
	// caller's own is left as it was: a copy keeps the reader's WriteTo,
	// by which the connection sends it without a buffer (bodyconn.go).
	var n int64
	switch b := req.Body.(type) {
	case *bytes.Reader:
		at := *b
		n = int64(b.Len())
		getBody = func() (io.ReadCloser, error) { r := at; return io.NopCloser(&r), nil }
	case *strings.Reader:
		at := *b
		n = int64(b.Len())
		getBody = func() (io.ReadCloser, error) { r := at; return io.NopCloser(&r), nil }
	case *bytes.Buffer:
		data := b.Bytes()
		n = int64(len(data))
		getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	default:
		if length == 0 {
			length = -1
		}
		return nil, length
	}
	if length <= 0 {
		length = n
	}
	return getBody, length
}

// Do sends the request with X-Auth-Token and returns the response for an accepted status (the caller closes
// its Body), or a *ClientError. Idempotent requests are retried on transport errors, 5xx, 408 and 429 with
// exponential backoff and jitter until MaxRetries or ctx ends; a non-idempotent request is retried only when
// the error proves it never reached the server (a failed dial).
func (c *Client) Do(ctx context.Context, req *Request) (*http.Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	fullURL := c.URL(req)
	getBody, length := prepareBody(req)
	replayable := req.Body == nil || getBody != nil
	idem := req.idempotent()

	for attempt := 0; ; attempt++ {
		body, err := attemptBody(req, getBody, attempt)
		if err != nil {
			return nil, transportError(method, fullURL, fmt.Errorf("replaying body: %w", err))
		}
		resp, err := c.send(ctx, method, fullURL, req, body, getBody, length)
		if err != nil {
			var fe *finalError
			if errors.As(err, &fe) {
				return nil, transportError(method, fullURL, fe.err)
			}
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, transportError(method, fullURL, ctxErr)
			}
			retry := replayable && (idem || neverSent(err)) && !certificateError(err) &&
				!(failFast(ctx) && Unreachable(err))
			if !retry || attempt >= c.retry.max {
				return nil, transportError(method, fullURL, err)
			}
			c.log.Debug("synnefo: retrying after transport error", zap.String("method", method),
				zap.String("url", fullURL), zap.Int("attempt", attempt+1), zap.Error(err))
			if werr := c.retry.wait(ctx, attempt, 0); werr != nil {
				return nil, transportError(method, fullURL, werr)
			}
			continue
		}
		if req.accepts(resp.StatusCode) {
			return resp, nil
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		cerr := NewHTTPError(resp.Status, resp.StatusCode, data)
		cerr.Method, cerr.URL = method, fullURL
		if rerr != nil {
			cerr.Err = rerr
		}
		if idem && replayable && retryableStatus(resp.StatusCode) && attempt < c.retry.max {
			c.log.Debug("synnefo: retrying after status", zap.String("method", method),
				zap.String("url", fullURL), zap.Int("attempt", attempt+1), zap.Int("status", resp.StatusCode))
			if werr := c.retry.wait(ctx, attempt, retryAfter(resp.Header)); werr != nil {
				return nil, transportError(method, fullURL, werr)
			}
			continue
		}
		return nil, cerr
	}
}

// attemptBody is the body of the attempt-th try of req: the caller's own
// body the first time when it can replay it (GetBody), else a fresh copy
// from getBody, else the one-shot body (then the request is not retried).
func attemptBody(req *Request, getBody func() (io.ReadCloser, error), attempt int) (io.Reader, error) {
	switch {
	case attempt == 0 && req.Body != nil && req.GetBody != nil:
		return req.Body, nil // the caller's GetBody replays it on retries
	case getBody != nil:
		return getBody()
	case req.Body != nil:
		return req.Body, nil
	}
	return nil, nil
}

// finalError ends a request without a retry: one that cannot be built, or
// one ended by the stall watch (no progress for the I/O timeout) while its
// caller's context is still live.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }

// send makes one attempt: the HTTP request with the token, the caller's
// headers and the body, watched for stalls when the client has an I/O
// timeout (the reply's body stays watched until closed).
func (c *Client) send(ctx context.Context, method, fullURL string, req *Request, body io.Reader, getBody func() (io.ReadCloser, error), length int64) (*http.Response, error) {
	actx, watch := c.watch(ctx)
	if watch != nil && body != nil {
		body = &watchedBody{r: body, w: watch}
	}
	hreq, err := http.NewRequestWithContext(actx, method, fullURL, body)
	if err != nil {
		if watch != nil {
			watch.stop()
		}
		return nil, &finalError{err}
	}
	hreq.Close = req.CloseConn
	for k, vs := range req.Header {
		hreq.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if c.token != "" {
		hreq.Header.Set("X-Auth-Token", c.token)
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", c.ua)
	}
	if req.Body == nil {
		hreq.Body, hreq.ContentLength = http.NoBody, 0
	} else {
		hreq.ContentLength = length
	}
	if getBody != nil {
		hreq.GetBody = getBody
	}
	resp, err := c.hc.Do(hreq)
	if watch == nil {
		return resp, err
	}
	if err != nil {
		serr := watch.stalled(actx)
		watch.stop()
		if serr != nil && ctx.Err() == nil {
			return nil, &finalError{serr}
		}
		return nil, err
	}
	watch.gotReply()
	resp.Body = &watchedReply{rc: resp.Body, w: watch, ctx: actx}
	return resp, nil
}

// DoJSON marshals in (if not nil) as the JSON body with Content-Type application/json, sends, and decodes an
// accepted reply into out (if not nil; an empty reply leaves out untouched). The returned response's Body is
// already closed.
func (c *Client) DoJSON(ctx context.Context, req *Request, in, out any) (*http.Response, error) {
	var decode func([]byte) error
	if out != nil {
		decode = func(data []byte) error { return json.Unmarshal(data, out) }
	}
	return c.DoDecode(ctx, req, in, decode)
}

// DoDecode is DoJSON with the caller's decoder: decode (if not nil) gets the whole non-empty body of an
// accepted reply, so it can size what it decodes into from the bytes (a listing of 10 000 entries grown by
// append copied itself about twice over). Its error is reported as a decoding error of the request.
func (c *Client) DoDecode(ctx context.Context, req *Request, in any, decode func(body []byte) error) (*http.Response, error) {
	r := *req
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("synnefo: encoding request body: %w", err)
		}
		r.Body, r.GetBody, r.ContentLength = bytes.NewReader(data), nil, int64(len(data))
		if r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/json")
		}
	}
	if decode != nil && r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "application/json")
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.Do(ctx, &r)
		if err != nil {
			return nil, err
		}
		if decode == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			return resp, nil
		}
		data, err := readBody(resp)
		_ = resp.Body.Close()
		if err != nil {
			// The reply was cut mid-body (the connection dropped or was
			// reset): a request without a body that may be repeated is
			// sent again, as one that got no reply would be. A listing
			// failed with EIO at the first such cut.
			if r.Body == nil && r.idempotent() && attempt < c.retry.max && BodyRetryable(ctx, err) {
				c.log.Debug("synnefo: retrying after a reply cut mid-body", zap.String("method", r.Method),
					zap.String("url", c.URL(&r)), zap.Int("attempt", attempt+1), zap.Error(err))
				if c.retry.wait(ctx, attempt, 0) == nil {
					continue
				}
			}
			return resp, decodeError(r.Method, c.URL(&r), resp.StatusCode, err)
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := decode(data); err != nil {
				return resp, decodeError(r.Method, c.URL(&r), resp.StatusCode, err)
			}
		}
		return resp, nil
	}
}

// BodyRetryable reports whether a reply's body that could not be read (err)
// may be asked for again, whole or from where it stopped: not when the
// caller gave up or the request stalled (the I/O timeout bounds a server
// that stops sending). DoDecode uses it, and pithos's ranged reads.
func BodyRetryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, ErrStalled) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded)
}
