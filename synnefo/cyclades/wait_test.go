package cyclades

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/pithosfs/pithosfs/synnefo"
)

// TestWaitForDeadlineDuringPoll drives waitFor's deadline handling without a clock: the context ends inside a
// poll (the request fails with the context's error) or between polls, and either way the caller gets the last
// polled value and a ClientError wrapping context.DeadlineExceeded. This is the race that made
// TestWaitServerHonoursDeadline fail about one run in six.
func TestWaitForDeadlineDuringPoll(t *testing.T) {
	for _, tc := range []struct {
		name string
		// expireAt is the poll (1-based) during which the context ends; duringRequest makes that poll fail.
		expireAt      int
		duringRequest bool
		wantStatus    string
		wantPolls     int
	}{
		{"during the second request", 2, true, "BUILD", 2},
		{"between polls", 2, false, "BUILD", 2},
		{"during the first request", 1, true, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx2 := newExpiringContext()
			expire := ctx2.expire
			polls := 0
			poll := func(ctx context.Context) (*Server, string, error) {
				polls++
				if polls == tc.expireAt {
					expire()
					if tc.duringRequest {
						return nil, "", &synnefo.ClientError{Message: "GET /servers/42", Err: ctx.Err()}
					}
				}
				return &Server{ID: 42, Status: "BUILD"}, "BUILD", nil
			}
			s, err := waitFor(ctx2, "server 42", &WaitOptions{Interval: 1, MaxInterval: 1}, poll, func(s string) bool { return s != "BUILD" })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			var ce *synnefo.ClientError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %T %v, want *synnefo.ClientError", err, err)
			}
			if polls != tc.wantPolls {
				t.Errorf("%d polls, want %d", polls, tc.wantPolls)
			}
			if tc.wantStatus == "" {
				if s != nil {
					t.Errorf("server %+v, want none (no poll succeeded)", s)
				}
				return
			}
			if s == nil || s.Status != tc.wantStatus {
				t.Fatalf("server %+v, want the last polled one (%s)", s, tc.wantStatus)
			}
		})
	}
}

// expiringContext is a context whose deadline passes when the test says so (expire), not by a clock.
type expiringContext struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newExpiringContext() *expiringContext {
	return &expiringContext{Context: context.Background(), done: make(chan struct{})}
}

func (c *expiringContext) expire()               { c.once.Do(func() { close(c.done) }) }
func (c *expiringContext) Done() <-chan struct{} { return c.done }

func (c *expiringContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
