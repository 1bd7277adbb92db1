package synnefo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStalled is the cause of a request that made no progress for
// Options.IOTimeout: no byte of its body was taken, no reply header came,
// or a read of the reply body got nothing, for that long. Such a request is
// not retried (the server is hung or gone; another attempt would wait as
// long again); its error wraps ErrStalled.
var ErrStalled = errors.New("no progress")

type progressKey struct{}

// WithProgress returns a context whose requests (Client.Do) call fn each
// time bytes of a request or reply body move or a reply arrives: a caller
// that bounds a whole operation by its progress (a commit of many requests)
// watches them with it. fn must be quick and safe for concurrent use.
func WithProgress(ctx context.Context, fn func()) context.Context {
	if prev, ok := ctx.Value(progressKey{}).(func()); ok {
		inner := fn
		fn = func() { prev(); inner() }
	}
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressOf(ctx context.Context) func() {
	fn, _ := ctx.Value(progressKey{}).(func())
	return fn
}

// stallWatch cancels one attempt of a request when it makes no progress for
// d: while the request is sent and its reply awaited, and during each read
// of the reply body. Time the caller spends between reads does not count.
type stallWatch struct {
	d        time.Duration
	cancel   context.CancelCauseFunc
	progress func()
	last     atomic.Int64 // unix nanoseconds of the latest progress
	waiting  atomic.Int32 // > 0 while the network is awaited
	mu       sync.Mutex
	timer    *time.Timer
	stopped  bool
}

// watch returns the attempt's context and its watch; (ctx, nil) when
// neither an I/O timeout nor a progress hook applies.
func (c *Client) watch(ctx context.Context) (context.Context, *stallWatch) {
	prog := progressOf(ctx)
	d := c.opts.IOTimeout
	if d <= 0 && prog == nil {
		return ctx, nil
	}
	actx, cancel := context.WithCancelCause(ctx)
	w := &stallWatch{d: d, cancel: cancel, progress: prog}
	w.last.Store(time.Now().UnixNano())
	w.waiting.Store(1) // until the reply's headers arrive
	if d > 0 {
		w.timer = time.AfterFunc(d, w.check)
	}
	return actx, w
}

func (w *stallWatch) moved() {
	w.last.Store(time.Now().UnixNano())
	if w.progress != nil {
		w.progress()
	}
}

// check runs when the timer fires: it cancels the attempt if the network
// has been awaited for d without progress, else re-arms.
func (w *stallWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	idle := time.Since(time.Unix(0, w.last.Load()))
	if w.waiting.Load() > 0 && idle >= w.d {
		w.cancel(fmt.Errorf("%w for %s (I/O timeout)", ErrStalled, w.d))
		return
	}
	next := w.d
	if w.waiting.Load() > 0 {
		next = w.d - idle
	}
	w.timer.Reset(max(next, time.Millisecond))
}

// stop ends the watch and releases the attempt's context.
func (w *stallWatch) stop() {
	w.mu.Lock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.cancel(nil)
}

// gotReply records the reply's headers: from now only body reads wait.
func (w *stallWatch) gotReply() {
	w.moved()
	w.waiting.Store(0)
}

// stalled returns the stall error if the watch cancelled the attempt.
func (w *stallWatch) stalled(ctx context.Context) error {
	if err := context.Cause(ctx); errors.Is(err, ErrStalled) {
		return err
	}
	return nil
}

// watchedBody is a request body whose reads are progress.
type watchedBody struct {
	r io.Reader
	w *stallWatch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.w.moved()
	}
	return n, err
}

func (b *watchedBody) Close() error {
	if c, ok := b.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// WriteTo hands a body that writes itself (an io.WriterTo) the
// connection, each of its writes counting as progress: the transport uses
// it for a chunked body, which then goes out without a copy.
func (b *watchedBody) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := b.r.(io.WriterTo); ok {
		return wt.WriteTo(&watchedWriter{w: w, watch: b.w})
	}
	return io.Copy(w, struct{ io.Reader }{b})
}

// watchedWriter is the connection as a watchedBody's WriteTo sees it.
type watchedWriter struct {
	w     io.Writer
	watch *stallWatch
}

// watchedPiece is the most a watchedWriter writes before it counts
// progress: a body that writes a 4 MiB block in one call still shows
// progress on a slow link.
const watchedPiece = 1 << 20

func (ww *watchedWriter) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := ww.w.Write(p[done:min(len(p), done+watchedPiece)])
		done += n
		if n > 0 {
			ww.watch.moved()
		}
		if err != nil || n == 0 {
			return done, err
		}
	}
	return done, nil
}

// watchedReply is a reply body: each read waits on the network; Close ends
// the watch.
type watchedReply struct {
	rc   io.ReadCloser
	w    *stallWatch
	ctx  context.Context
	once sync.Once
}

func (b *watchedReply) Read(p []byte) (int, error) {
	b.w.waiting.Add(1)
	n, err := b.rc.Read(p)
	b.w.waiting.Add(-1)
	if n > 0 {
		b.w.moved()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if serr := b.w.stalled(b.ctx); serr != nil {
			err = fmt.Errorf("synnefo: reading the reply: %w", serr)
		}
	}
	return n, err
}

func (b *watchedReply) Close() error {
	err := b.rc.Close()
	b.once.Do(b.w.stop)
	return err
}

// readBody reads a reply body whole, in one allocation when its length is
// known (a large JSON reply, such as a terabyte's hashmap, is not copied
// through ever larger buffers).
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= 1<<30 {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(resp.Body)
}
