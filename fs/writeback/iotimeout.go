package writeback

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStalled is the cause of a commit (or early-upload round) whose
// requests made no progress for Config.IOTimeout.
var ErrStalled = errors.New("no progress")

// stallBound returns a context for the requests of one commit (or early-
// upload round) that is cancelled when none of them makes progress for
// Config.IOTimeout (Store.WithProgress: body bytes moving, replies
// arriving), and a func that ends the watch. The commit then fails like
// one that lost the server: its data stays in the journal and is retried
// in the background, and close() returns EIO instead of waiting for the
// server without bound. Without an IOTimeout it returns ctx as it is.
func (m *Manager) stallBound(ctx context.Context) (context.Context, func()) {
	d := m.cfg.IOTimeout
	if d <= 0 {
		return ctx, func() {}
	}
	actx, cancel := context.WithCancelCause(ctx)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		idle := time.Since(time.Unix(0, last.Load()))
		if idle >= d {
			cancel(fmt.Errorf("writeback: the server made %w for %s (--io-timeout)", ErrStalled, d))
			return
		}
		t.Reset(d - idle)
	}
	mu.Lock()
	t = time.AfterFunc(d, check)
	mu.Unlock()
	actx = m.cfg.Client.WithProgress(actx, func() { last.Store(time.Now().UnixNano()) })
	return actx, func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
		cancel(nil)
	}
}

// stalledErr returns err, or when ctx was ended by stallBound (and parent
// was not), a CommitError naming the stall: the server is unreachable, the
// commit is retried in the background.
func stalledErr(ctx, parent context.Context, container, name string, err error) error {
	if err == nil || parent.Err() != nil {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
		return &CommitError{Container: container, Name: name, Err: cause}
	}
	return err
}
