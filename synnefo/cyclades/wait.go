package cyclades

import (
	"context"
	"fmt"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// WaitOptions tunes the polling of the Wait* methods. The zero value polls after 1s, then backs off by
// ×1.5 per poll up to 5s, until ctx ends (give ctx a deadline: kamaki's default is 100 polls at 1s).
type WaitOptions struct {
	Interval    time.Duration // first delay between polls (0 → 1s)
	MaxInterval time.Duration // cap of the growing delay (0 → 5s)
	// OnPoll, when set, sees every polled status (e.g. to show progress).
	OnPoll func(status string)
}

func (o *WaitOptions) delays() (first, maxDelay time.Duration) {
	first, maxDelay = time.Second, 5*time.Second
	if o != nil && o.Interval > 0 {
		first = o.Interval
	}
	if o != nil && o.MaxInterval > 0 {
		maxDelay = o.MaxInterval
	}
	return first, max(first, maxDelay)
}

// waitFor polls until done(status) is true, returning the last polled value. Poll errors end the wait. When
// ctx ends first, the last successfully polled value is returned with a *synnefo.ClientError wrapping ctx's
// error: the deadline is checked before each poll and again when a poll fails, so a deadline that expires
// during a request reads the same as one that expires between polls.
func waitFor[T any](ctx context.Context, what string, opts *WaitOptions, poll func(context.Context) (T, string, error), done func(string) bool) (T, error) {
	delay, maxDelay := opts.delays()
	var last T
	lastStatus, polled := "", false
	expired := func() (T, error) {
		return last, &synnefo.ClientError{Message: fmt.Sprintf("waiting for %s: status still %s", what, lastStatus), Err: ctx.Err()}
	}
	for {
		if polled && ctx.Err() != nil {
			return expired()
		}
		v, status, err := poll(ctx)
		if err != nil {
			if polled && ctx.Err() != nil {
				return expired()
			}
			return v, err
		}
		last, lastStatus, polled = v, status, true
		if opts != nil && opts.OnPoll != nil {
			opts.OnPoll(status)
		}
		if done(status) {
			return v, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return expired()
		case <-t.C:
		}
		delay = min(maxDelay, delay*3/2)
	}
}

// WaitServer polls GET /servers/{id} while the status equals currentStatus ("" → BUILD), like kamaki's
// wait_server_while, and returns the server in its new status.
func (c *ComputeClient) WaitServer(ctx context.Context, id int64, currentStatus string, opts *WaitOptions) (*Server, error) {
	if currentStatus == "" {
		currentStatus = StatusBuild
	}
	return waitFor(ctx, fmt.Sprintf("server %d", id), opts, c.pollServer(id), func(s string) bool { return s != currentStatus })
}

// WaitServerUntil polls GET /servers/{id} until the status equals targetStatus ("" → ACTIVE), like kamaki's
// wait_server_until. Unlike kamaki it stops early with an error when the server reaches ERROR or DELETED
// (unless that is the target), since it would never leave them.
func (c *ComputeClient) WaitServerUntil(ctx context.Context, id int64, targetStatus string, opts *WaitOptions) (*Server, error) {
	if targetStatus == "" {
		targetStatus = StatusActive
	}
	srv, err := waitFor(ctx, fmt.Sprintf("server %d", id), opts, c.pollServer(id), func(s string) bool {
		return s == targetStatus || s == StatusError || s == StatusDeleted
	})
	if err == nil && srv.Status != targetStatus {
		return srv, &synnefo.ClientError{Message: fmt.Sprintf("server %d reached %s while waiting for %s", id, srv.Status, targetStatus)}
	}
	return srv, err
}

func (c *ComputeClient) pollServer(id int64) func(context.Context) (*Server, string, error) {
	return func(ctx context.Context) (*Server, string, error) {
		s, err := c.GetServer(ctx, id)
		if err != nil {
			return nil, "", err
		}
		return s, s.Status, nil
	}
}
