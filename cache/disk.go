package cache

import (
	"container/list"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// The disk tier keeps one file per block under <Dir>/blocks/<xx>/<name>,
// where <name> is the block's hex hash (or "c" + SHA-256 of an opaque key)
// and <xx> its first two hex digits. Files are written to <Dir>/blocks/.tmp
// and renamed into place, so a reader never sees a partial block. A hash
// key's file holds the block stripped of trailing zeros; an opaque key's
// file holds the same followed by a CRC-32C trailer over the key and the
// data, which is how its corruption is detected (blockfile.go). Opaque
// files named "o" + hash hold the SHA-256 trailer of the format before
// session 14: the scan at Open removes them.
//
// LRU order is kept in memory while mounted and persisted through each
// file's mtime, which is set when the block is written and on every disk
// hit: at Open the directory is scanned and the index rebuilt oldest-first
// by mtime (atime is not used: relatime/noatime mounts do not keep it).
const (
	blocksDir    = "blocks"
	tmpDir       = ".tmp"
	diskQueueLen = 64 // jobs waiting for the writer (diskQueueBytes bounds their memory)
	// diskQueueBytes bounds the fetched blocks queued for the disk tier and
	// not yet written (8 Pithos blocks): when the disk falls behind the
	// network, further blocks are not written to it (DiskWritesSkipped),
	// rather than pinning ever more blocks in memory or holding reads back.
	diskQueueBytes = 32 << 20
	// diskJobMin is what a queued block counts against diskQueueBytes at
	// least (its file costs the writer that much however small it is).
	diskJobMin = 4096
	trailerLen = crc32.Size
)

// tempFile is what the disk tier writes a block into; a seam so tests can
// simulate a full disk.
type tempFile interface {
	io.Writer
	Close() error
	Name() string
}

type diskEntry struct {
	shard, name string
	size        int64
	// written: this process wrote the file, from a block it had verified
	// (not found by scan after a restart, when a crash may have cut it
	// short); object files copy such files without hashing them again.
	written bool
}

type diskJob struct {
	key     Key
	blk     *blockBuf     // stripped; the job holds a reference
	charge  diskCharge    // released once written
	flushed chan struct{} // set for a flush marker instead of a block
}

type diskTier struct {
	dir   string // <Dir>/blocks
	tmp   string
	limit int64
	log   *slog.Logger
	stats *counters

	createTemp func(dir string) (tempFile, error)
	// Used by the writer goroutine only: direct is cleared when the file
	// system refuses O_DIRECT.
	direct bool
	dw     diskfile.DirectWriter

	mu      sync.Mutex
	index   map[string]*list.Element // name → *diskEntry
	order   *list.List               // front is most recently used
	bytes   int64
	pending map[string]*blockBuf // queued for writing, readable meanwhile
	// assembling names the object files being written (objects.go).
	assembling map[string]struct{}
	// Blocks hosted by object files (hosted.go): where each is, the object
	// files in place that host blocks, and the blocks object files being
	// written want to host.
	hosted   map[string]hostedBlock
	hosts    map[string]*objHost
	claims   map[string][]hostClaim
	disabled bool // writes stopped (disk full or read-only)
	closed   bool
	errorLog bool // a write error other than "full" was logged

	senders sync.WaitGroup
	queue   chan diskJob
	done    chan struct{}
	queued  atomic.Int64 // bytes reserved by tryReserve (see diskQueueBytes)
	// budget, when set, is charged for queued blocks as well: a block that
	// waits for the disk may have left the memory tier, but its buffer is
	// still held, and --cache-mem is the ceiling for all of them.
	budget *Budget
}

func openDisk(dir string, limit int64, log *slog.Logger, st *counters) (*diskTier, error) {
	d := &diskTier{
		dir:        filepath.Join(dir, blocksDir),
		limit:      limit,
		log:        log,
		stats:      st,
		index:      make(map[string]*list.Element),
		order:      list.New(),
		pending:    make(map[string]*blockBuf),
		assembling: make(map[string]struct{}),
		hosted:     make(map[string]hostedBlock),
		hosts:      make(map[string]*objHost),
		claims:     make(map[string][]hostClaim),
		queue:      make(chan diskJob, diskQueueLen),
		done:       make(chan struct{}),
		direct:     true,
	}
	d.tmp = filepath.Join(d.dir, tmpDir)
	d.createTemp = func(dir string) (tempFile, error) { return os.CreateTemp(dir, "blk-*") }
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: create disk cache: %w", err)
	}
	if err := os.Chmod(d.dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: disk cache permissions: %w", err)
	}
	// Temporary files left by a crash are partial blocks: drop them.
	if err := os.RemoveAll(d.tmp); err != nil {
		return nil, fmt.Errorf("cache: clean temporary files: %w", err)
	}
	if err := os.Mkdir(d.tmp, 0o700); err != nil {
		if !isFull(err) {
			return nil, fmt.Errorf("cache: create disk cache: %w", err)
		}
		// Mounting with a full disk: serve what is cached, write nothing.
		d.disabled = true
		log.Warn("cache: disk cache is full or read-only; serving the blocks it holds but writing no more until the next mount",
			"dir", d.dir, "error", err)
	}
	if err := d.scan(); err != nil {
		return nil, err
	}
	d.evictOver()
	go d.writer()
	return d, nil
}

// oldOpaqueName reports whether name, in shard, is an opaque key's block
// file of the format before session 14 ("o" + hash, a SHA-256 trailer).
func oldOpaqueName(shard, name string) bool {
	return shard != objectsShard && len(name) == 65 && name[0] == 'o' && validName(shard, name[1:])
}

// validName reports whether name is a block file name that belongs in
// shard.
func validName(shard, name string) bool {
	hexPart := name
	if shard == objectsShard {
		if len(name) != 65 || name[0] != 'x' {
			return false
		}
		hexPart = name[1:]
	} else if len(name) == 65 && name[0] == opaquePrefix {
		hexPart = name[1:]
	}
	if len(hexPart) != 64 || (shard != objectsShard && hexPart[:2] != shard) {
		return false
	}
	for i := 0; i < len(hexPart); i++ {
		c := hexPart[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// scan rebuilds the index from the files under d.dir, oldest first.
func (d *diskTier) scan() error {
	shards, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("cache: scan disk cache: %w", err)
	}
	type found struct {
		e     *diskEntry
		mtime time.Time
	}
	var all []found
	hostsFiles := make(map[string]int64) // object file name → size of its hosts list
	for _, s := range shards {
		if !s.IsDir() || (len(s.Name()) != 2 && s.Name() != objectsShard) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(d.dir, s.Name()))
		if err != nil {
			return fmt.Errorf("cache: scan disk cache: %w", err)
		}
		for _, f := range files {
			if obj, ok := strings.CutSuffix(f.Name(), hostsSuffix); ok && s.Name() == objectsShard &&
				f.Type().IsRegular() && validName(objectsShard, obj) {
				if info, err := f.Info(); err == nil {
					hostsFiles[obj] = hostedBytes(info.Size())
				}
				continue
			}
			if !f.Type().IsRegular() || !validName(s.Name(), f.Name()) {
				if oldOpaqueName(s.Name(), f.Name()) {
					_ = os.Remove(filepath.Join(d.dir, s.Name(), f.Name())) // its trailer no longer checks
				}
				continue
			}
			info, err := f.Info()
			if err != nil {
				continue // removed meanwhile
			}
			size := info.Size()
			if st, ok := info.Sys().(*syscall.Stat_t); ok && s.Name() == objectsShard {
				size = st.Blocks * 512 // a sparse object file counts the space it takes
			}
			all = append(all, found{&diskEntry{shard: s.Name(), name: f.Name(), size: size}, info.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mtime.Before(all[j].mtime) })
	for _, f := range all {
		d.index[f.e.name] = d.order.PushFront(f.e)
		d.bytes += f.e.size
	}
	d.loadHostsFiles(hostsFiles)
	return nil
}

func (d *diskTier) path(shard, name string) string { return filepath.Join(d.dir, shard, name) }

// read returns a block from the disk tier. A file that fails verification
// is removed and reported as absent. A block that fits a buffer of pool is
// read into one, so that it is recycled once its readers and the memory tier
// let go: a reader re-reading blocks from disk would otherwise allocate a
// fresh 4 MiB buffer for each, whose garbage (tens of MiB a second under a
// few readers) the collector has to catch up with.
func (d *diskTier) read(k Key, pool *bufPool) (*blockBuf, bool) {
	shard, name := k.fileName()
	d.mu.Lock()
	if p, ok := d.pending[name]; ok {
		// The queued block itself (the job's reference keeps it alive
		// until here), for the memory tier to take over with its charge;
		// it used to be handed out for good and wrapped anew, a second
		// charge for the same bytes while they waited.
		p.acquire()
		d.mu.Unlock()
		return p, true
	}
	ok := d.touchLocked(name)
	d.mu.Unlock()
	if !ok {
		return d.readHosted(k, name, pool)
	}
	p := d.path(shard, name)
	blk, err := readBlockFile(k, p, pool)
	var corrupt *corruptError
	switch {
	case errors.As(err, &corrupt):
		d.stats.corruptDisk.Add(1)
		d.log.Warn("cache: corrupt block in disk cache, discarding it and fetching again",
			"path", p, "error", err)
		d.drop(name, true)
		return nil, false
	case err != nil:
		if !errors.Is(err, os.ErrNotExist) {
			d.log.Warn("cache: read disk block", "path", p, "error", err)
		}
		d.drop(name, false)
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // LRU order for the next Open; best effort
	return blk, true
}

// drop forgets a block or object file and, if remove, deletes its file.
// A block an object file hosts is forgotten there.
func (d *diskTier) drop(name string, remove bool) {
	d.mu.Lock()
	el, ok := d.index[name]
	if ok {
		e := d.order.Remove(el).(*diskEntry)
		delete(d.index, name)
		d.bytes -= e.size
		if e.shard == objectsShard {
			d.unhostLocked(name)
			_ = os.Remove(d.path(e.shard, e.name) + hostsSuffix)
		}
		if remove {
			_ = os.Remove(d.path(e.shard, e.name))
		}
	} else {
		delete(d.hosted, name)
	}
	d.mu.Unlock()
}

func (d *diskTier) contains(k Key) bool {
	_, name := k.fileName()
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.index[name]
	if !ok {
		_, ok = d.pending[name]
	}
	if !ok {
		_, ok = d.hosted[name]
	}
	return ok
}

// queueCharge is what a block of n bytes counts against diskQueueBytes.
func queueCharge(n int) int64 { return max(int64(n), diskJobMin) }

// diskCharge is what a queued block holds: bytes of diskQueueBytes, and
// of the memory budget.
type diskCharge struct{ queue, budget int64 }

// tryReserve reserves room in diskQueueBytes, and in the memory budget, for
// a fetched block of n bytes about to be queued, if the writer is not that
// far behind; when the budget has no room, only a block that would be alone
// in the queue goes ahead (so a budget smaller than a block still lets blocks
// reach the disk, one at a time). write hands it all back once the block is
// written (or found already there).
//
// A block the memory tier holds (charged) takes room in diskQueueBytes only:
// its charge stays with it until its last reference, blockBuf.keepCharge,
// which the disk writer's reference delays, even once handed out for good
// (blockBuf.queued). Before, such a block counted twice in the budget while
// it waited — up to the 32 MiB of the queue that bought nothing — and in a
// 1 GiB cold read that phantom room was what the reader's own reservations
// (its READ buffers, its loads) evicted blocks read ahead and not yet read
// to find: 20–40 of them, each read back from disk and hashed again or
// fetched again.
//
// A block the tier does not hold but that carries a charge (carried: a load
// charged past the limit, overBudgetLoads) reserves room of its own within
// the limit, which replaces that charge (the caller drops it), or skips the
// disk: queued, the load's charge would outlive the load by the wait for
// the disk, and loads past the limit would no longer be overBudgetLoads at
// a time.
func (d *diskTier) tryReserve(n int, charged, carried bool) (diskCharge, bool) {
	c := queueCharge(n)
	for {
		q := d.queued.Load()
		if q+c > diskQueueBytes && q > 0 {
			return diskCharge{}, false
		}
		if !d.queued.CompareAndSwap(q, q+c) {
			continue
		}
		ch := diskCharge{queue: c}
		switch {
		case d.budget == nil || charged:
		case d.budget.TryReserveAhead(c):
			ch.budget = c
		case q > 0 || carried:
			d.queued.Add(-c)
			return diskCharge{}, false
		}
		return ch, true
	}
}

func (d *diskTier) unreserve(ch diskCharge) {
	if ch.queue > 0 {
		d.queued.Add(-ch.queue)
	}
	if ch.budget > 0 {
		d.budget.Release(ch.budget)
	}
}

// write queues a block for writing; it waits while the queue is full.
// It takes over the caller's reference to blk, and the room charge the
// caller reserved with tryReserve (0 for none).
func (d *diskTier) write(k Key, blk *blockBuf, charge diskCharge) {
	_, name := k.fileName()
	d.mu.Lock()
	_, have := d.index[name]
	_, queued := d.pending[name]
	_, hosted := d.hosted[name]
	if d.closed || d.disabled || have || queued || hosted {
		d.mu.Unlock()
		blk.unqueue()
		blk.release()
		d.unreserve(charge)
		return
	}
	d.pending[name] = blk
	d.senders.Add(1)
	d.mu.Unlock()
	d.queue <- diskJob{key: k, blk: blk, charge: charge}
	d.senders.Done()
}

func (d *diskTier) writer() {
	defer close(d.done)
	for job := range d.queue {
		if job.flushed != nil {
			close(job.flushed)
			continue
		}
		d.store(job)
		job.blk.unqueue()
		job.blk.release()
		d.unreserve(job.charge)
	}
}

// isFull reports errors after which writing more blocks is pointless.
func isFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}

func (d *diskTier) store(job diskJob) {
	shard, name := job.key.fileName()
	d.mu.Lock()
	disabled := d.disabled
	d.mu.Unlock()
	if !disabled && d.storeHosted(job, name) {
		d.mu.Lock()
		delete(d.pending, name)
		d.mu.Unlock()
		d.evictOver()
		return
	}
	var size int64
	err := errors.New("disk writes disabled")
	if !disabled {
		size, err = d.writeFile(job.key, shard, name, job.blk.data)
	}
	d.mu.Lock()
	delete(d.pending, name)
	if err == nil {
		if el, ok := d.index[name]; ok { // replaced an existing file
			d.bytes -= d.order.Remove(el).(*diskEntry).size
		}
		d.index[name] = d.order.PushFront(&diskEntry{shard: shard, name: name, size: size, written: true})
		d.bytes += size
	} else if !disabled {
		switch {
		case isFull(err):
			d.disabled = true
			d.log.Warn("cache: disk cache is full or read-only; no more blocks will be written to it until the next mount (reads continue from memory and the network)",
				"dir", d.dir, "error", err)
		case !d.errorLog:
			d.errorLog = true
			d.log.Warn("cache: writing a block to the disk cache failed (further failures are counted in stats, not logged)",
				"dir", d.dir, "error", err)
		}
		d.stats.diskWriteErrors.Add(1)
	}
	d.mu.Unlock()
	if err == nil {
		d.evictOver()
	}
}

func (d *diskTier) writeFile(k Key, shard, name string, data []byte) (int64, error) {
	if err := os.MkdirAll(filepath.Join(d.dir, shard), 0o700); err != nil {
		return 0, err
	}
	f, err := d.createTemp(d.tmp)
	if err != nil {
		return 0, err
	}
	if of, ok := f.(*os.File); ok && d.direct {
		size, err := d.dw.Write(of, encode(k, data))
		if !errors.Is(err, diskfile.ErrNoDirect) {
			return d.finish(f, shard, name, size, err)
		}
		d.direct = false
		d.log.Debug("cache: the disk cache's file system refuses direct I/O; writing through the page cache", "dir", d.dir)
		_ = f.Close()
		_ = os.Remove(f.Name())
		if f, err = d.createTemp(d.tmp); err != nil {
			return 0, err
		}
	}
	var size int64
	for _, part := range encode(k, data) {
		n, werr := f.Write(part)
		size += int64(n)
		if werr != nil {
			err = werr
			break
		}
	}
	return d.finish(f, shard, name, size, err)
}

// finish closes a written temporary file and renames it into place, or
// removes it after an error.
func (d *diskTier) finish(f tempFile, shard, name string, size int64, err error) (int64, error) {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), d.path(shard, name))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return 0, err
	}
	return size, nil
}

// evictOver removes least recently used files until the tier fits its
// limit.
func (d *diskTier) evictOver() {
	var victims []string
	d.mu.Lock()
	for d.bytes > d.limit && d.order.Len() > 0 {
		e := d.order.Remove(d.order.Back()).(*diskEntry)
		delete(d.index, e.name)
		d.bytes -= e.size
		if e.shard == objectsShard {
			d.unhostLocked(e.name)
			victims = append(victims, d.path(e.shard, e.name)+hostsSuffix)
		}
		victims = append(victims, d.path(e.shard, e.name))
		d.stats.diskEvictions.Add(1)
	}
	d.mu.Unlock()
	for _, p := range victims {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.log.Warn("cache: evict disk block", "path", p, "error", err)
		}
	}
}

func (d *diskTier) usage() (blocks int, bytes int64, disabled bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len(), d.bytes, d.disabled
}

// flush waits until every block queued before it is written.
func (d *diskTier) flush() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.senders.Add(1)
	d.mu.Unlock()
	ch := make(chan struct{})
	d.queue <- diskJob{flushed: ch}
	d.senders.Done()
	<-ch
}

// close writes every queued block and stops the writer.
func (d *diskTier) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	d.mu.Unlock()
	d.senders.Wait()
	close(d.queue)
	<-d.done
}

// touchLocked reports whether the disk tier holds the file name and marks it
// most recently used. d.mu is held.
func (d *diskTier) touchLocked(name string) bool {
	el, ok := d.index[name]
	if ok {
		d.order.MoveToFront(el)
	}
	return ok
}
