package synnefo

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

type retryPolicy struct {
	max       int
	base, cap time.Duration
}

func newRetryPolicy(opts Options) retryPolicy {
	p := retryPolicy{max: opts.MaxRetries, base: opts.RetryBase, cap: opts.RetryMax}
	switch {
	case p.max == 0:
		p.max = DefaultMaxRetries
	case p.max < 0:
		p.max = 0
	}
	if p.base <= 0 {
		p.base = 200 * time.Millisecond
	}
	if p.cap <= 0 {
		p.cap = 10 * time.Second
	}
	if p.cap < p.base {
		p.cap = p.base
	}
	return p
}

// backoff returns the wait before retry number attempt+1: a random duration in [d/2, d] with
// d = min(cap, base·2^attempt), or hint (capped) when the server gave a Retry-After.
func (p retryPolicy) backoff(attempt int, hint time.Duration) time.Duration {
	if hint > 0 {
		return min(hint, p.cap)
	}
	d := p.cap
	if attempt < 30 {
		if e := p.base << attempt; e > 0 && e < p.cap {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait sleeps for the backoff or until ctx ends (returning its error).
func (p retryPolicy) wait(ctx context.Context, attempt int, hint time.Duration) error {
	t := time.NewTimer(p.backoff(attempt, hint))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryableStatus: 5xx, 408 Request Timeout and 429 Too Many Requests.
func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
}

// retryAfter parses a Retry-After header given in seconds (dates are ignored).
func retryAfter(h http.Header) time.Duration {
	s := h.Get("Retry-After")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// neverSent reports whether err proves the request did not reach the server: the connection could not be
// established (refused, unreachable, DNS failure).
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
