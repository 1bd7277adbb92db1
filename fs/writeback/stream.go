package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/pithosfs/pithosfs/pithos/object"
)

// Streamed uploads (plain Swift, Config.StreamUploads).
//
// A file that replaces an object's whole content (a new file, or one
// truncated to 0) and is written sequentially is sent while it is written:
// when the writer fills block 0, one chunked PUT of the object starts, and
// every block the writer fills after it is handed to that PUT in order. A
// handed block is sealed (a write to it copies it), written to the network
// and, meanwhile, to a journal file with O_DIRECT; then its memory is freed.
// close() (the commit) sends the blocks not yet handed and ends the body;
// the object becomes the new version when Swift answers the PUT, and not a
// moment before: Swift stores nothing of a PUT whose body did not end.
//
// Anything the stream cannot carry ends it (it is aborted: the request is
// cut, so the server keeps nothing of it): a write into a block already
// handed, a truncate, a file growing past Client.Config().
// LargeObjectThreshold (the commit uploads it as segments), a failed
// request. The file's blocks are all still in its dirty layer — in memory or
// in journal files — so the commit then takes the ordinary path, which
// uploads them from there: nothing is lost, the data is only sent twice.

// stream is one streamed PUT of a File.
type stream struct {
	f      *File
	ctx    context.Context // the PUT's: ends when it is aborted or answered
	cancel context.CancelFunc
	body   *streamBody
	next   int64 // blocks [0, next) are handed to the stream
	ctype  string
	meta   map[string]string
	done   chan struct{} // closed when the PUT has returned
	res    *object.PutResult
	err    error

	// The commit's If-Match check (a HEAD), started by takeStream while
	// the blocks handed earlier still drain into the request.
	checkETag string
	check     chan error
}

// streamItem is one block handed to a stream.
type streamItem struct {
	i    int64
	b    *block // nil: a block of the commit's snapshot (immutable, nothing to release)
	data []byte // its bytes to send (logical length)
	mem  bool   // b was in memory when handed (else in a journal file)
}

// errStreamEnded is the cause of a stream cut for a reason of the writer's.
var errStreamEnded = errors.New("writeback: streamed upload abandoned")

// streamAfterWrite is called by WriteAt (f.mu held) after it wrote block
// i up to byte end of the block: it reports whether a stream should start
// (the writer has just filled block 0 of a file that replaces its object's
// content: WriteAt then calls startStream, without f.mu), hands block i to
// the stream when it is the next one and now full, and aborts the stream
// when the write went into a block already handed.
func (f *File) streamAfterWrite(i, end int64) (start bool) {
	st, bs := f.stream, f.bs()
	switch {
	case st == nil:
		return i == 0 && end == bs && f.streamable()
	case i < st.next:
		f.abortStreamLocked("a write into a block already sent")
	case i == st.next && end == bs:
		if (i+1)*bs > f.m.cfg.Client.LargeObjectThreshold() {
			f.abortStreamLocked("the file outgrew one object (it is uploaded as segments)")
			return
		}
		f.handLocked(st, i)
	}
	return false
}

// streamable reports whether a stream may start now (f.mu held): streamed
// uploads are on, the object is on plain Swift, the file replaces its whole
// content (it is new, was truncated to 0, or its version is empty: dd's
// close of a dup()ed descriptor commits the new file empty first), no commit
// is under way and no stream of this version was abandoned.
func (f *File) streamable() bool {
	return f.m.cfg.StreamUploads && f.base.Swift && !f.noStream && f.frozen == nil && !f.committing &&
		(f.create || f.clip == 0 || f.base.Size == 0) && f.m.cfg.Client.LargeObjectThreshold() >= f.bs()
}

// startStream starts the PUT of a stream and hands it block 0, if the file
// still may stream. Called by WriteAt with f.wmu held and f.mu not held
// (the manager's lock comes before a file's).
func (f *File) startStream() {
	m := f.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.dirty[0]; f.stream != nil || !f.streamable() || b == nil || b.frozen || b.sealed || b.stored {
		m.wg.Done()
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	st := &stream{f: f, ctx: ctx, cancel: cancel, ctype: f.base.ContentType, meta: maps.Clone(f.base.Meta), done: make(chan struct{})}
	st.body = &streamBody{st: st, wake: make(chan struct{}, 1)}
	f.stream = st
	opts := object.PutOptions{ContentType: st.ctype, Meta: st.meta}
	if f.create {
		opts.IfNoneMatch = "*"
	}
	container, name := f.base.Container, f.base.Name
	go func() {
		defer m.wg.Done()
		res, err := m.cfg.Client.PutObject(ctx, container, name, st.body, -1, opts)
		if err == nil && !st.body.ended() {
			err = errors.New("writeback: streamed PUT answered before its body ended")
		}
		st.res, st.err = res, err
		st.body.stop(err)
		cancel()
		close(st.done)
	}()
	f.handLocked(st, 0)
}

// handLocked seals dirty block i and hands it to st (f.mu held). Until the
// stream is done with it, it counts as an early-upload round: a writer
// short of memory waits for it (File.newBlock).
func (f *File) handLocked(st *stream, i int64) {
	b := f.dirty[i]
	if b == nil || b.frozen || b.sealed || b.stored {
		f.abortStreamLocked("block not in the dirty layer")
		return
	}
	b.sealed = true
	st.next = i + 1
	f.rounds++
	if f.roundWake == nil {
		f.roundWake = make(chan struct{})
	}
	if !st.body.push(streamItem{i: i, b: b, data: b.data, mem: b.data != nil}) {
		f.releaseItemLocked(streamItem{i: i, b: b}, "")
		f.abortStreamLocked("the request ended")
	}
}

// abortStreamLocked cuts f's stream, if any (f.mu held); no stream starts
// again before the next commit.
func (f *File) abortStreamLocked(why string) {
	st := f.stream
	if st == nil {
		return
	}
	f.stream, f.noStream = nil, true
	f.m.log.Debug("writeback: streamed upload abandoned; the commit uploads the file", "name", f.base.Name,
		"why", why)
	for _, it := range st.body.stopTake(fmt.Errorf("%w: %s", errStreamEnded, why)) {
		if it.b != nil {
			f.releaseItemLocked(it, "")
		}
	}
	st.cancel()
	go st.body.checkDrained()
}

// abort cuts the stream's request: the server keeps nothing of it.
func (st *stream) abort(err error) {
	st.body.stop(err)
	st.cancel()
}

// releaseItemLocked ends the sealing of a handed block (f.mu held): file,
// when not "", is the journal file now holding its bytes, which it then
// keeps instead of its memory; a block replaced by a write meanwhile is
// dropped.
func (f *File) releaseItemLocked(it streamItem, file string) {
	b := it.b
	b.sealed = false
	if file != "" {
		b.file = file
		f.settleName(file)
	}
	switch {
	case f.gone || f.dirty[it.i] != b:
		b.frozen = false
		f.drop(b)
	case file != "":
		// Written to the request and to its journal file: nothing reads
		// the buffer any more.
		f.recycleMem(b)
	}
	f.rounds--
	close(f.roundWake)
	f.roundWake = make(chan struct{})
}

// sent is called by the body once item it is written to the request (or
// the request failed): the block keeps the journal file written meanwhile
// and leaves memory.
func (st *stream) sent(it streamItem, file string) {
	if it.b == nil {
		return
	}
	f := st.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releaseItemLocked(it, file)
}

// takeStream detaches f's stream for the commit (nil when none): writes
// from now on hand nothing to it. It waits until every block handed is
// sent, so the blocks are plain ones again when the commit freezes them; a
// stream that cannot finish within ctx is aborted. Meanwhile it checks
// that the object is still the version the file was opened at (when it
// replaces one), for finishStream: the HEAD's round trip overlaps the
// drain instead of following it.
func (f *File) takeStream(ctx context.Context) *stream {
	f.mu.Lock()
	st := f.stream
	f.stream, f.noStream = nil, false
	etag, create := f.base.ETag, f.create
	container, name := f.base.Container, f.base.Name
	f.mu.Unlock()
	if st == nil {
		return nil
	}
	if !create && etag != "" {
		st.checkETag, st.check = etag, make(chan error, 1)
		c := f.m.cfg.Client
		go func() {
			_, err := c.ObjectInfo(st.ctx, container, name, object.GetOptions{Conditions: object.Conditions{IfMatch: etag}})
			st.check <- err
		}()
	}
	select {
	case <-st.body.drained():
	case <-st.done:
	case <-ctx.Done():
		st.abort(ctx.Err())
	}
	return st
}

// finishStream completes a commit through its stream: the snapshot's blocks
// from st.next on are sent, the body ends and the PUT's reply is awaited.
// On success it returns the result (the object's content type and metadata
// are set afterwards when they changed since the PUT began); on any failure
// the stream is aborted, its reply awaited, and ok is false: the caller
// commits the ordinary way.
func (m *Manager) finishStream(ctx context.Context, st *stream, rec *record, src blockSource) (*object.PutResult, bool) {
	fail := func(err error) (*object.PutResult, bool) {
		st.abort(err)
		<-st.done
		m.stats.streamFallbacks.Add(1)
		m.log.Info("writeback: streamed upload failed; uploading the file from the journal", "container", rec.Container,
			"name", rec.Name, "error", err)
		return nil, false
	}
	select {
	case <-st.done:
		return fail(st.err)
	default:
	}
	bs, c := rec.BlockSize, m.cfg.Client
	if rec.Size < st.next*bs || rec.Size > c.LargeObjectThreshold() {
		return fail(fmt.Errorf("%w: size %d", errStreamEnded, rec.Size))
	}
	if rec.IfMatch != "" {
		// As the ordinary Swift commit does: the object must still be the
		// version the file was opened at (a race window remains), checked
		// by takeStream's HEAD when it asked about that very version.
		if err := st.checked(ctx, rec); err != nil {
			return fail(err)
		}
	}
	for i := st.next; i*bs < rec.Size; i++ {
		data, err := src(ctx, i)
		if err != nil {
			return fail(err)
		}
		if !st.body.push(streamItem{i: i, data: data[:min(bs, rec.Size-i*bs)]}) {
			return fail(st.body.cause())
		}
	}
	st.body.end()
	select {
	case <-st.done:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if st.err != nil {
		return fail(st.err)
	}
	res := st.res
	if rec.ContentType != st.ctype || !maps.Equal(rec.Meta, st.meta) {
		// The attributes changed while the data streamed (the mtime moves
		// with every write): set them on the new object. The data is on the
		// server: should this fail, the commit stands with the attributes
		// of the moment the stream began.
		opts := object.MetaOptions{Meta: rec.Meta, Replace: true}
		if rec.ContentType != st.ctype {
			opts.ContentType = rec.ContentType
		}
		if _, err := c.UpdateObjectMeta(ctx, rec.Container, rec.Name, opts); err != nil {
			m.log.Warn("writeback: setting the attributes of a streamed object", "container", rec.Container,
				"name", rec.Name, "error", err)
		}
	}
	m.stats.streamed.Add(1)
	return res, true
}

// checked returns the outcome of the If-Match check of rec's commit: the
// HEAD takeStream started, or a new one when it asked about another version
// or none.
func (st *stream) checked(ctx context.Context, rec *record) error {
	if st.check != nil && st.checkETag == rec.IfMatch {
		select {
		case err := <-st.check:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	_, err := st.f.m.cfg.Client.ObjectInfo(ctx, rec.Container, rec.Name, object.GetOptions{Conditions: object.Conditions{IfMatch: rec.IfMatch}})
	return err
}

// streamBody is the body of a streamed PUT: the blocks handed to it, in
// order, until end.
type streamBody struct {
	st   *stream
	wake chan struct{} // signalled when items arrive or the body stops

	mu       sync.Mutex
	items    []streamItem
	inFlight bool          // an item is being written
	ending   bool          // no more items: EOF after the queue
	err      error         // stopped: the request failed or was aborted
	eof      bool          // the body returned io.EOF
	drain    chan struct{} // closed when the queue is empty and nothing is in flight
	cur      []byte        // Read: the rest of the item being read
}

// push queues an item; false when the body has stopped.
func (b *streamBody) push(it streamItem) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil || b.ending {
		return false
	}
	b.items = append(b.items, it)
	b.signal()
	return true
}

func (b *streamBody) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// end marks the last item queued.
func (b *streamBody) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ending = true
	b.signal()
}

func (b *streamBody) ended() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.eof
}

func (b *streamBody) cause() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		return errStreamEnded
	}
	return b.err
}

// stop ends the body with err (nil: after a successful PUT) and releases
// the items never sent.
func (b *streamBody) stop(err error) {
	for _, it := range b.stopTake(err) {
		b.st.sent(it, "")
	}
	b.checkDrained()
}

// stopTake ends the body with err and returns the items never sent, for
// the caller to release.
func (b *streamBody) stopTake(err error) []streamItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
		if b.err == nil {
			b.err = io.ErrClosedPipe
		}
	}
	left := b.items
	b.items = nil
	b.signal()
	return left
}

// drained returns a channel closed once every queued item is sent.
func (b *streamBody) drained() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drain == nil {
		b.drain = make(chan struct{})
		if len(b.items) == 0 && !b.inFlight {
			close(b.drain)
		}
	}
	return b.drain
}

func (b *streamBody) checkDrained() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drain != nil && len(b.items) == 0 && !b.inFlight {
		select {
		case <-b.drain:
		default:
			close(b.drain)
		}
	}
}

// take waits for the next item; ok false at the end (err nil: io.EOF).
func (b *streamBody) take() (streamItem, bool, error) {
	for {
		b.mu.Lock()
		switch {
		case b.err != nil:
			err := b.err
			b.mu.Unlock()
			return streamItem{}, false, err
		case len(b.items) > 0:
			it := b.items[0]
			b.items = b.items[1:]
			b.inFlight = true
			b.mu.Unlock()
			return it, true, nil
		case b.ending:
			b.eof = true
			b.mu.Unlock()
			return streamItem{}, false, nil
		}
		b.mu.Unlock()
		<-b.wake
	}
}

// load returns the bytes of a handed item (reading a spilled block from its
// journal file) and starts its O_DIRECT journal copy when it is in memory;
// wait returns the copy's file name ("" when there is none).
func (b *streamBody) load(it streamItem) (data []byte, wait func() string, err error) {
	f := b.st.f
	if it.b == nil {
		return it.data, func() string { return "" }, nil
	}
	if !it.mem {
		f.mu.Lock()
		name := it.b.file
		f.mu.Unlock()
		data, err := f.ref(name).readAll()
		return data, func() string { return "" }, err
	}
	name, err := f.newFileName()
	if err != nil {
		return it.data, func() string { return "" }, nil
	}
	done := make(chan error, 1)
	ref := f.ref(name)
	go func() { done <- ref.put(it.data) }()
	return it.data, func() string {
		if <-done != nil {
			f.mu.Lock()
			f.settleName(name) // given up: nothing names it
			f.release(name)
			f.mu.Unlock()
			return ""
		}
		return name
	}, nil
}

// finish ends an item's use by the body.
func (b *streamBody) finish(it streamItem, file string) {
	b.st.sent(it, file)
	b.mu.Lock()
	b.inFlight = false
	b.mu.Unlock()
	b.checkDrained()
}

// WriteTo writes the items to w as they come, each with one Write: the
// HTTP transport uses it, so a block goes from its buffer to the
// connection without a copy.
func (b *streamBody) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		it, ok, err := b.take()
		if !ok {
			return total, err
		}
		data, wait, err := b.load(it)
		if err != nil {
			b.finish(it, "")
			return total, err
		}
		// In pieces of streamPiece bytes: each is progress for the
		// client's I/O timeout.
		for len(data) > 0 && err == nil {
			var n int
			n, err = w.Write(data[:min(len(data), streamPiece)])
			total += int64(n)
			data = data[n:]
		}
		b.finish(it, wait())
		if err != nil {
			return total, err
		}
	}
}

// streamPiece is the largest write of a streamed body to the connection.
const streamPiece = 1 << 20

// Read is io.Reader for a transport that does not use WriteTo: each item
// is copied, then released at once.
func (b *streamBody) Read(p []byte) (int, error) {
	if len(b.cur) == 0 {
		it, ok, err := b.take()
		if !ok {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		data, wait, err := b.load(it)
		if err == nil {
			b.cur = append(b.cur[:0], data...)
		}
		b.finish(it, wait())
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// Close is called by the transport when it is done with the body, having
// sent it whole or not: what was not sent is released.
func (b *streamBody) Close() error {
	b.stop(errStreamEnded)
	return nil
}
