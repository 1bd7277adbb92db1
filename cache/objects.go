package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// Object files: a whole object assembled from its cached blocks into one
// file, <Dir>/blocks/objects/x<SHA-256 of the object's id>, sparse where
// the object has zeros, so that the mount can hand the kernel a file it
// reads directly (FUSE passthrough). They count against the disk tier's
// limit (by the space they occupy) and are evicted with the blocks, least
// recently used first.
const (
	objectsShard = "objects"
	// objectShare bounds an object file to this fraction of the disk tier
	// (assembling a larger one would evict most of the cache for one file).
	objectShare = 2
)

// ErrNoObjectFile is returned by Assemble when there is no disk tier, its
// writes are off, or the object is too large for it.
var ErrNoObjectFile = errors.New("cache: no room for an object file")

// ObjectBlock is one block of an object to assemble: its key, its length
// (the last block may be shorter) and how to fetch it when neither tier
// holds it.
type ObjectBlock struct {
	Key   Key
	Size  int
	Fetch FetchIntoFunc
}

func objectName(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "x" + hex.EncodeToString(sum[:])
}

// ObjectFile opens the assembled file of the object named id, if there is
// one of size bytes. The caller closes it. The file may be evicted (and
// unlinked) while open; an open file stays readable.
func (c *Cache) ObjectFile(id string, size int64) (*os.File, bool) {
	if c.disk == nil {
		return nil, false
	}
	d := c.disk
	name := objectName(id)
	d.mu.Lock()
	ok := d.touchLocked(name)
	d.mu.Unlock()
	if !ok {
		return nil, false
	}
	p := d.path(objectsShard, name)
	f, err := os.Open(p)
	if err != nil {
		d.drop(name, false)
		return nil, false
	}
	if st, err := f.Stat(); err != nil || st.Size() != size {
		f.Close()
		d.drop(name, true)
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // LRU order for the next Open
	c.stats.objectFileOpens.Add(1)
	return f, true
}

// HasObjectFile reports whether the object named id has an assembled file.
func (c *Cache) HasObjectFile(id string) bool {
	if c.disk == nil {
		return false
	}
	c.disk.mu.Lock()
	defer c.disk.mu.Unlock()
	_, ok := c.disk.index[objectName(id)]
	return ok
}

// Assemble writes the object named id, made of blocks in order, into its
// object file, unless it has one. Each block comes from memory, the disk
// tier or its fetch, verified as Get verifies it; blocks this call brought
// into memory leave it again. Concurrent calls for one id assemble once
// (the others return ErrNoObjectFile at once).
func (c *Cache) Assemble(ctx context.Context, id string, blocks []ObjectBlock) error {
	var size int64
	for _, b := range blocks {
		size += int64(b.Size)
	}
	name := objectName(id)
	have, err := c.claimObject(name, size)
	if have || err != nil {
		return err
	}
	used, err := c.assemble(ctx, name, size, blocks)
	return c.settleObject(name, used, err)
}

// claimObject marks the object file name of size bytes as being written,
// unless it exists (have), is being written already, or cannot be written
// (ErrNoObjectFile: no disk tier, writes off, too large for it). A claim
// ends with settleObject.
func (c *Cache) claimObject(name string, size int64) (have bool, err error) {
	d := c.disk
	if d == nil {
		return false, ErrNoObjectFile
	}
	d.mu.Lock()
	_, have = d.index[name]
	_, busy := d.assembling[name]
	off := d.disabled || d.closed || size > d.limit/objectShare
	if !have && !busy && !off {
		d.assembling[name] = struct{}{}
	}
	d.mu.Unlock()
	switch {
	case have:
		return true, nil
	case busy || off:
		return false, ErrNoObjectFile
	}
	c.stats.objectsAssembling.Add(1)
	return false, nil
}

// settleObject ends a claim: the file now at the object file name (err nil)
// takes used bytes of the disk tier.
func (c *Cache) settleObject(name string, used int64, err error) error {
	return c.settleHost(name, used, err, nil)
}

// settleWriter is settleObject for the file of an ObjectWriter: the blocks
// it hosts are found there from now on, or forgotten with it.
func (c *Cache) settleWriter(w *ObjectWriter, used int64, err error) error {
	return c.settleHost(w.name, used, err, w)
}

func (c *Cache) settleHost(name string, used int64, err error, w *ObjectWriter) error {
	d := c.disk
	d.mu.Lock()
	delete(d.assembling, name)
	if w != nil {
		d.unclaimLocked(w)
		d.bytes -= w.onDisk // counted below as the file it is now, if any
		w.onDisk = 0
		if err == nil && len(w.host.blocks) > 0 && !d.closed {
			w.host.path = d.path(objectsShard, name)
			d.hosts[name] = w.host
		} else {
			d.forgetHostLocked(w.host)
		}
	}
	if err == nil {
		d.index[name] = d.order.PushFront(&diskEntry{shard: objectsShard, name: name, size: used})
		d.bytes += used
	}
	d.mu.Unlock()
	c.stats.objectsAssembling.Add(-1)
	if err != nil {
		return err
	}
	c.stats.objectFiles.Add(1)
	d.evictOver()
	return nil
}

// AssembleAsync runs Assemble in the background (one object at a time),
// cancelled by Close; it reports whether it started. Failures are logged at
// debug level: the object is then read through the cache as before.
func (c *Cache) AssembleAsync(id string, blocks []ObjectBlock) bool {
	c.mu.Lock()
	if c.closed || c.disk == nil {
		c.mu.Unlock()
		return false
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		if err := c.asmSem.Acquire(c.ctx, 1); err != nil {
			return
		}
		defer c.asmSem.Release(1)
		if err := c.Assemble(c.ctx, id, blocks); err != nil && !errors.Is(err, ErrNoObjectFile) && c.ctx.Err() == nil {
			c.log.Debug("cache: object file not assembled", "error", err)
		}
	}()
	return true
}

// assemble writes the file and returns the disk space it takes.
func (c *Cache) assemble(ctx context.Context, name string, size int64, blocks []ObjectBlock) (int64, error) {
	f, direct, err := c.createObjectTemp(size)
	if err != nil {
		return 0, err
	}
	if err := c.fillObject(ctx, f, &direct, blocks, nil, nil); err != nil {
		closeDirect(direct)
		return 0, discardObjectTemp(f, err)
	}
	closeDirect(direct)
	return c.finishObjectTemp(f, name)
}

// createObjectTemp creates the temporary file of an object file of size
// bytes (sparse: unwritten ranges are holes) and, when direct I/O is on, a
// second descriptor of it for O_DIRECT writes (nil otherwise).
func (c *Cache) createObjectTemp(size int64) (*os.File, *os.File, error) {
	d := c.disk
	if err := os.MkdirAll(filepath.Join(d.dir, objectsShard), 0o700); err != nil {
		return nil, nil, err
	}
	f, err := os.CreateTemp(d.tmp, "obj-*")
	if err != nil {
		return nil, nil, err
	}
	if err := f.Truncate(size); err != nil {
		return nil, nil, discardObjectTemp(f, err)
	}
	return f, openDirect(f.Name(), d.direct), nil
}

// discardObjectTemp closes and removes a temporary object file and returns
// err, wrapped.
func discardObjectTemp(f *os.File, err error) error {
	f.Close()
	_ = os.Remove(f.Name())
	return fmt.Errorf("cache: assembling an object file: %w", err)
}

func closeDirect(direct *os.File) {
	if direct != nil {
		direct.Close()
	}
}

// fillObject writes each block of blocks not marked in have (nil: none is)
// at its place in f: from memory when there, else copied from its disk-tier
// file by the kernel (copyDiskBlock), else from its fetch, verified as Get
// verifies it; blocks this call brought into memory leave it again. wrote,
// when not nil, is told of each block written from memory or a fetch (its
// stored bytes at off), once the cache has let go of it.
func (c *Cache) fillObject(ctx context.Context, f *os.File, direct **os.File, blocks []ObjectBlock, have []bool,
	wrote func(b ObjectBlock, off, n int64)) error {
	var at int64
	for i, b := range blocks {
		if have != nil && have[i] {
			at += int64(b.Size)
			continue
		}
		id := b.Key.memID()
		had := c.mem.contains(id)
		if !had && c.copyDiskBlock(b, f, at) {
			at += int64(b.Size)
			continue
		}
		blk, err := c.get(ctx, b.Key, b.Size, fetchFunc{into: b.Fetch}, modeRef)
		if err != nil {
			return err
		}
		n := int64(len(blk.data))
		werr := writeObjectPart(f, direct, blk.data, at)
		blk.release()
		if !had {
			c.Drop(b.Key)
		}
		if werr != nil {
			return werr
		}
		if wrote != nil {
			wrote(b, at, n)
		}
		at += int64(b.Size)
	}
	return nil
}

// copyDiskBlock copies block b from its disk-tier file to off of f with
// copy_file_range, and reports whether it did: no read into the daemon, no
// second hash. The block was verified when it was fetched, and the object
// file the copy goes into is read by the kernel unverified anyway
// (passthrough), so hashing it again bought nothing that the object file
// itself has. Reading each block back and hashing it cost more CPU than the
// cold read before it. Only files this process wrote are copied: one found
// on disk at Open may have been cut short by a crash. A file of the wrong
// length is not copied either; the caller then reads the block through the
// cache, which verifies it.
func (c *Cache) copyDiskBlock(b ObjectBlock, f *os.File, off int64) bool {
	d := c.disk
	shard, name := b.Key.fileName()
	path, start, n := "", int64(0), int64(-1)
	d.mu.Lock()
	if el, ok := d.index[name]; ok {
		if el.Value.(*diskEntry).written && d.touchLocked(name) {
			path = d.path(shard, name)
		}
	} else if hb, p, ok := d.lookupHostedLocked(name); ok && hb.host.written {
		path, start, n = p, hb.off, hb.n // inside an object file (hosted.go)
	}
	d.mu.Unlock()
	if path == "" {
		return false
	}
	src, err := os.Open(path)
	if err != nil {
		return false
	}
	defer src.Close()
	if n < 0 {
		st, err := src.Stat()
		if err != nil {
			return false
		}
		n = st.Size()
		if !b.Key.hash {
			n -= trailerLen
		}
	}
	if n < 0 || n > int64(b.Size) {
		return false
	}
	roff, end := start, start+n
	woff := off
	for roff < end {
		m, err := unix.CopyFileRange(int(src.Fd()), &roff, int(f.Fd()), &woff, int(end-roff), 0)
		if err != nil || m == 0 {
			return false
		}
	}
	c.stats.diskCopies.Add(1)
	return true
}

// finishObjectTemp closes a complete temporary object file, moves it to
// the object file name and returns the disk space it takes (its caller
// indexes it).
func (c *Cache) finishObjectTemp(f *os.File, name string) (int64, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return 0, discardObjectTemp(f, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return 0, err
	}
	if err := os.Rename(f.Name(), c.disk.path(objectsShard, name)); err != nil {
		_ = os.Remove(f.Name())
		return 0, err
	}
	return st.Blocks * 512, nil
}

// openDirect opens path for O_DIRECT writes, or returns nil when direct I/O
// is off or refused (the object file is then written through the page
// cache alone).
func openDirect(path string, on bool) *os.File {
	if !on {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}

// writeObjectPart writes a block's bytes at off of an object file: the part
// that direct I/O can take (aligned start, offset and length) with O_DIRECT,
// from the block's own buffer to the disk, the rest (at most Align-1 bytes)
// through the page cache. Written through the page cache, the object file
// cost more of the daemon's CPU than the cold read that preceded it. A
// direct write the file system refuses turns direct I/O off (*direct = nil)
// and is done again through the page cache.
func writeObjectPart(f *os.File, direct **os.File, data []byte, off int64) error {
	n := len(data) &^ (diskfile.Align - 1)
	if d := *direct; d != nil && n > 0 && off%diskfile.Align == 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(data)))%diskfile.Align == 0 {
		if _, err := d.WriteAt(data[:n], off); err == nil {
			data, off = data[n:], off+int64(n)
		} else {
			d.Close()
			*direct = nil
		}
	}
	if len(data) == 0 {
		return nil
	}
	_, err := f.WriteAt(data, off)
	return err
}
