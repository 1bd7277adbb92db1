package cache

import (
	"errors"
	"os"
	"sync"
)

// An object file used to be assembled after the read that made it
// worthwhile: every block read back from the disk tier and hashed again,
// and the blocks the disk tier had skipped (it skips blocks while the disk
// is behind the network) fetched again. For a 1 GiB cold read that was
// about as much CPU as the read itself, right after it. Now the blocks the
// disk tier has are copied from their files by the kernel at Finish
// (copyDiskBlock: no read into the daemon, no second hash), and an
// ObjectWriter writes the ones it skipped into the object file while the
// reader gets them, from the very buffers the reader was served (verified
// when they were fetched), in a goroutine of its own: the read never waits
// for it. A block it cannot take at once (its queue full, or no free room
// in the memory budget) is left out, and fetched at Finish the way
// Assemble fills a whole file. Since session 8 the disk tier writes the
// blocks a writer claims (NewObjectWriter's keys) into the object file
// instead of block files of their own (hosted.go), so for a whole-object
// read Finish has nothing left to copy; copies remain for blocks that were
// on disk already (an earlier read, another object).

// objectWriterQueue bounds the blocks waiting to be written into one object
// file. A block waiting is held (and charged to the budget) beyond the
// memory tier; one that finds the queue full is left for Finish. Kept
// short: when the writer took every block (a queue of 8, next to the disk
// tier's own queue of the same blocks), the budget's other users
// (prefetches, the disk tier's queue) evicted ~100 of 256 blocks read ahead
// in a 1 GiB read to make room, which were then fetched or read back again.
const objectWriterQueue = 4

// ObjectWriter writes one object file from the blocks a reader gets, in
// any order. Its methods are safe for concurrent use; a nil *ObjectWriter
// does nothing.
type ObjectWriter struct {
	c      *Cache
	name   string
	size   int64
	bs     int64
	f      *os.File
	direct *os.File   // O_DIRECT descriptor of f, nil without (guarded by wmu)
	wmu    sync.Mutex // one write into f at a time (the writer goroutine, the disk tier's)
	jobs   chan objectJob
	done   chan struct{} // the writer goroutine stopped
	ended  chan struct{} // Finish's work is done (tests wait for it)
	// host is the file as the disk tier sees it (hosted.go); claimed and
	// onDisk (the bytes written into the file, counted in the disk tier's
	// size until the file is settled) are guarded by diskTier.mu.
	host    *objHost
	claimed []string
	onDisk  int64
	hostWG  sync.WaitGroup // the disk tier's writes into f in progress

	mu      sync.Mutex
	added   []bool // handed to the writer (written or queued)
	written []bool // written (read by Finish once the writer has stopped)
	err     error  // the first write error: nothing more is written
	closed  bool   // no more Adds: Finish was called, or the cache closed
}

type objectJob struct {
	key    Key
	idx    int
	blk    *blockBuf
	charge int64
}

// NewObjectWriter starts writing the object file of the object named id, of
// size bytes in blocks of blockSize (the last may be shorter); keys names
// its blocks, in order (nil or an invalid key: unknown), so that the disk
// tier writes each block it is given to write into this file rather than a
// block file of its own (hosted.go). It returns nil when there is nothing
// to write: the file exists or is being written, or the disk tier cannot
// take it (ErrNoObjectFile's cases).
func (c *Cache) NewObjectWriter(id string, size, blockSize int64, keys []Key) *ObjectWriter {
	if c.disk == nil || size <= 0 || blockSize <= 0 {
		return nil
	}
	name := objectName(id)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.wg.Add(1) // the writer goroutine, or undone below
	c.mu.Unlock()
	if have, err := c.claimObject(name, size); have || err != nil {
		c.wg.Done()
		return nil
	}
	f, direct, err := c.createObjectTemp(size)
	if err != nil {
		_ = c.settleObject(name, 0, err)
		c.wg.Done()
		return nil
	}
	n := int((size + blockSize - 1) / blockSize)
	w := &ObjectWriter{c: c, name: name, size: size, bs: blockSize, f: f, direct: direct,
		jobs: make(chan objectJob, objectWriterQueue), done: make(chan struct{}), ended: make(chan struct{}),
		added: make([]bool, n), written: make([]bool, n),
		host: &objHost{name: name, path: f.Name(), written: true}}
	if len(keys) == n {
		c.disk.claimBlocks(w, keys)
	}
	go w.run()
	return w
}

// Add offers block idx, named key and held by ref (the block's stored
// bytes: its trailing zeros are the file's holes), for the object file. It
// takes only blocks the disk tier neither has nor is about to write (it
// skips blocks when the disk is behind the network): the others Finish
// copies from their files. Best when the
// caller has just dropped it from the memory tier (Drop), whose room in the
// budget it then takes over. It never blocks and never evicts: a block the
// writer cannot take now (queue full, no free room in the budget) is left
// for Finish. The writer takes a reference of its own; the caller keeps
// ref.
func (w *ObjectWriter) Add(idx int64, key Key, ref *Ref) {
	if w == nil || ref == nil || ref.b == nil {
		return
	}
	if d := w.c.disk; key.validate() == nil && d.contains(key) {
		// On disk, or queued for it: Finish copies it from its file
		// (copyDiskBlock) for no hash and no memory held meanwhile.
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.err != nil || idx < 0 || idx >= int64(len(w.added)) || w.added[idx] ||
		int64(len(ref.b.data)) > min(w.bs, w.size-idx*w.bs) || len(w.jobs) == cap(w.jobs) {
		return
	}
	// Only from the budget's free room: the caller has just dropped the
	// block from the memory tier (a sequential reader done with it), so
	// this takes over its room; evicting cached blocks for it would evict
	// blocks read ahead and not yet read.
	// The room is the charge the dropped block carries while its reader
	// holds it (blockBuf.keepCharge), which the job takes over.
	charge := ref.b.takeCharge()
	if charge == 0 {
		charge = int64(len(ref.b.data))
		if !w.c.budget.tryReserveFree(charge) {
			return
		}
	}
	ref.b.acquire()
	w.added[idx] = true
	w.jobs <- objectJob{key: key, idx: int(idx), blk: ref.b, charge: charge} // room checked above, under mu
}

// run writes the queued blocks until Finish or the cache's Close.
func (w *ObjectWriter) run() {
	defer w.c.wg.Done()
	defer close(w.done)
	for {
		select {
		case job, ok := <-w.jobs:
			if !ok {
				return
			}
			w.write(job)
		case <-w.c.ctx.Done():
			w.mu.Lock()
			w.closed = true
			if w.err == nil {
				w.err = ErrClosed
			}
			w.mu.Unlock()
			// No Add sends after closed: release what is queued.
			for {
				select {
				case job := <-w.jobs:
					w.write(job)
				default:
					return
				}
			}
		}
	}
}

func (w *ObjectWriter) write(job objectJob) {
	w.mu.Lock()
	failed := w.err != nil
	w.mu.Unlock()
	var err error
	if !failed {
		off, n := int64(job.idx)*w.bs, int64(len(job.blk.data))
		if err = w.writeAt(job.blk.data, off); err == nil && job.key.hash {
			// Found by the disk tier from now on (an opaque block would
			// need its checksum computed: not worth it here).
			_, name := job.key.fileName()
			w.c.disk.host(w, name, off, n, nil)
		}
	}
	job.blk.release()
	w.c.budget.Release(job.charge)
	w.mu.Lock()
	if err != nil && w.err == nil {
		w.err = err
	}
	w.written[job.idx] = !failed && err == nil
	w.mu.Unlock()
}

// writeAt writes a block's stored bytes at off of the file, and counts
// them in the disk tier's size.
func (w *ObjectWriter) writeAt(data []byte, off int64) error {
	w.wmu.Lock()
	err := writeObjectPart(w.f, &w.direct, data, off)
	w.wmu.Unlock()
	if err == nil {
		d := w.c.disk
		d.mu.Lock()
		d.bytes += hostedBytes(int64(len(data)))
		w.onDisk += hostedBytes(int64(len(data)))
		d.mu.Unlock()
	}
	return err
}

// writeHosted writes block idx, whose stored bytes are data, into the file
// for the disk tier, and reports whether it did: not once the writer is
// closed or failed, nor a block it has already.
func (w *ObjectWriter) writeHosted(idx int, data []byte) bool {
	w.mu.Lock()
	if w.closed || w.err != nil || idx < 0 || idx >= len(w.added) || w.added[idx] ||
		int64(len(data)) > min(w.bs, w.size-int64(idx)*w.bs) {
		w.mu.Unlock()
		return false
	}
	w.added[idx] = true
	w.hostWG.Add(1) // before closed is set (under mu): Finish waits for it
	w.mu.Unlock()
	defer w.hostWG.Done()
	err := w.writeAt(data, int64(idx)*w.bs)
	w.mu.Lock()
	if err != nil && w.err == nil {
		w.err = err
	}
	w.written[idx] = err == nil
	w.mu.Unlock()
	return err == nil
}

// Finish ends the writing, in the background. When every block was
// written, the object file takes its place; when some are missing and
// complete says the reader read the whole object (or it is all cached),
// they are filled in from blocks() as Assemble would (one object at a
// time); otherwise the file is dropped.
func (w *ObjectWriter) Finish(complete bool, blocks func() []ObjectBlock) {
	if w == nil {
		return
	}
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.jobs)
	}
	w.mu.Unlock()
	c := w.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-w.done
		w.hostWG.Wait()
		_ = w.finish(false, nil)
		close(w.ended)
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer close(w.ended)
		<-w.done
		w.hostWG.Wait()
		if err := w.finish(complete, blocks); err != nil && !errors.Is(err, ErrNoObjectFile) && c.ctx.Err() == nil {
			c.log.Debug("cache: object file not written", "error", err)
		}
	}()
}

// finish runs once the writer goroutine and the disk tier's writes into
// the file have stopped.
func (w *ObjectWriter) finish(complete bool, blocks func() []ObjectBlock) error {
	c := w.c
	defer closeDirect(w.direct)
	// drop: the file will not be an object file; the blocks it hosts get
	// files of their own first.
	drop := func(err error) error {
		c.spillHosted(w)
		return c.settleWriter(w, 0, discardObjectTemp(w.f, err))
	}
	missing := 0
	for _, ok := range w.written {
		if !ok {
			missing++
		}
	}
	if w.err != nil || (missing > 0 && !complete) {
		err := w.err
		if err == nil {
			err = ErrNoObjectFile
		}
		return drop(err)
	}
	if missing > 0 {
		if err := c.asmSem.Acquire(c.ctx, 1); err != nil {
			return drop(err)
		}
		err := c.fillGaps(w, blocks())
		c.asmSem.Release(1)
		if err != nil {
			return drop(err)
		}
	}
	c.stats.objectBlocksWritten.Add(int64(len(w.written) - missing))
	list := c.disk.writeHostsFile(w.name, w.host)
	used, err := c.finishObjectTemp(w.f, w.name)
	if err != nil && list > 0 {
		_ = os.Remove(c.disk.path(objectsShard, w.name) + hostsSuffix)
	}
	return c.settleWriter(w, used+list, err)
}

// fillGaps writes the blocks the writer did not into its file.
func (c *Cache) fillGaps(w *ObjectWriter, blocks []ObjectBlock) error {
	var size int64
	for _, b := range blocks {
		size += int64(b.Size)
	}
	if len(blocks) != len(w.written) || size != w.size {
		return ErrNoObjectFile
	}
	// A block written here is found there from now on, as the writer's own
	// are (write): fetched at Finish and dropped from the cache, it would
	// otherwise be on disk only where the disk tier cannot find it.
	return c.fillObject(c.ctx, w.f, &w.direct, blocks, w.written, func(b ObjectBlock, off, n int64) {
		if b.Key.hash {
			_, name := b.Key.fileName()
			c.disk.host(w, name, off, n, nil)
		}
	})
}

// tryReserveFree reserves n bytes from the budget's free room only: it
// never evicts cached blocks.
func (b *Budget) tryReserveFree(n int64) bool {
	if short, _, _ := b.tryTake(n, false); short != 0 {
		return false
	}
	b.took()
	return true
}
