package cache

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Blocks hosted by object files. A block fetched while an ObjectWriter
// writes the object it belongs to is written once, by the disk tier's
// writer, into the object file at its place, and nowhere else: before,
// the disk tier wrote it to a block file of its own, and the object file's
// Finish copied that file into the object file again (copy_file_range: a
// page-cache read and write of every byte, 0.3–0.45 CPU s per GiB after a
// cold read, and the object's bytes on disk twice). The disk tier then
// finds the block inside the object file (hosted): reads of it (another
// object sharing it, a handle opened for writing) read that range and
// verify it as a block file is verified; another object file copies it
// from there. A hosted block takes no room of its own in the disk tier:
// its object file is counted once, by the space it takes, and evicting the
// object file forgets the blocks it hosts. An object file that is dropped
// before it is complete (its reader stopped early) first copies the blocks
// it hosts into block files of their own (spillHosted), so a partial read
// still leaves its blocks cached.

// objHost is an object file (or its temporary file, while written) that
// hosts blocks. Guarded by diskTier.mu.
type objHost struct {
	name string // the object file's name (x<hex>)
	// path is where its bytes are: the temporary file while it is written,
	// the object file once in place.
	path   string
	blocks []string // names of the blocks it hosts (some may be gone)
	// written: this process wrote it, from blocks it had verified (see
	// diskEntry.written).
	written bool
}

// hostedBlock locates a block inside an object file.
type hostedBlock struct {
	host   *objHost
	off, n int64             // the block's stored bytes (trailing zeros stripped)
	trail  *[trailerLen]byte // opaque keys: the checksum a block file would end with
}

// hostClaim says that block idx of the object w writes has a block name:
// when the disk tier is about to write that block, it writes it into w's
// file instead.
type hostClaim struct {
	w   *ObjectWriter
	idx int
}

// claimBlocks registers w's blocks (keys[i] is block i's) with the disk
// tier, so that it writes them into w's file. Invalid keys are skipped.
func (d *diskTier) claimBlocks(w *ObjectWriter, keys []Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, k := range keys {
		if k.validate() != nil {
			continue
		}
		_, name := k.fileName()
		d.claims[name] = append(d.claims[name], hostClaim{w: w, idx: i})
		w.claimed = append(w.claimed, name)
	}
}

// unclaimLocked removes w's claims. d.mu is held.
func (d *diskTier) unclaimLocked(w *ObjectWriter) {
	for _, name := range w.claimed {
		cl := d.claims[name]
		kept := cl[:0]
		for _, c := range cl {
			if c.w != w {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			delete(d.claims, name)
		} else {
			d.claims[name] = kept
		}
	}
	w.claimed = nil
}

// storeHosted writes a queued block into the object files that claim it,
// instead of a block file, and reports whether any took it.
func (d *diskTier) storeHosted(job diskJob, name string) bool {
	d.mu.Lock()
	cl := append([]hostClaim(nil), d.claims[name]...)
	_, hosted := d.hosted[name]
	d.mu.Unlock()
	if len(cl) == 0 || hosted {
		return false
	}
	var trail *[trailerLen]byte
	if !job.key.hash {
		t := opaqueTrailer(job.key, job.blk.data)
		trail = &t
	}
	took := false
	for _, c := range cl {
		if c.w.writeHosted(c.idx, job.blk.data) {
			if !took {
				d.host(c.w, name, int64(c.idx)*c.w.bs, int64(len(job.blk.data)), trail)
			}
			took = true
		}
	}
	if took {
		d.stats.objectBlocksHosted.Add(1)
	}
	return took
}

// host records that w's file holds the block name at off.
func (d *diskTier) host(w *ObjectWriter, name string, off, n int64, trail *[trailerLen]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.hosted[name]; ok || d.closed {
		return
	}
	if _, ok := d.index[name]; ok {
		return // a block file of its own meanwhile
	}
	d.hosted[name] = hostedBlock{host: w.host, off: off, n: n, trail: trail}
	w.host.blocks = append(w.host.blocks, name)
}

// hostedBytes is what a block of n bytes takes in an object file.
func hostedBytes(n int64) int64 { return (n + 4095) &^ 4095 }

// unhostLocked forgets the blocks the object file name hosts (it is being
// removed). d.mu is held.
func (d *diskTier) unhostLocked(name string) {
	h := d.hosts[name]
	if h == nil {
		return
	}
	delete(d.hosts, name)
	d.forgetHostLocked(h)
}

func (d *diskTier) forgetHostLocked(h *objHost) {
	for _, b := range h.blocks {
		if hb, ok := d.hosted[b]; ok && hb.host == h {
			delete(d.hosted, b)
		}
	}
	h.blocks = nil
	h.path = ""
}

// lookupHostedLocked returns where the block name is hosted and marks its
// object file most recently used. d.mu is held.
func (d *diskTier) lookupHostedLocked(name string) (hostedBlock, string, bool) {
	hb, ok := d.hosted[name]
	if !ok || hb.host.path == "" {
		return hostedBlock{}, "", false
	}
	d.touchLocked(hb.host.name) // absent while the file is being written
	return hb, hb.host.path, true
}

// readHosted reads and verifies a hosted block, as read does a block file.
func (d *diskTier) readHosted(k Key, name string, pool *bufPool) (*blockBuf, bool) {
	for try := 0; try < 2; try++ {
		d.mu.Lock()
		hb, p, ok := d.lookupHostedLocked(name)
		d.mu.Unlock()
		if !ok {
			return nil, false
		}
		blk, err := readHostedRange(k, p, hb, pool)
		var corrupt *corruptError
		switch {
		case err == nil:
			now := time.Now()
			_ = os.Chtimes(p, now, now) // LRU order for the next Open; best effort
			return blk, true
		case errors.Is(err, os.ErrNotExist):
			continue // renamed into place meanwhile, or evicted: look again
		case errors.As(err, &corrupt):
			d.stats.corruptDisk.Add(1)
			d.log.Warn("cache: corrupt block in an object file, discarding the file and fetching again",
				"path", p, "error", err)
			d.dropHost(hb.host)
			return nil, false
		default:
			d.log.Warn("cache: read block from an object file", "path", p, "error", err)
			return nil, false
		}
	}
	return nil, false
}

// dropHost removes an object file whose content failed verification (or
// forgets the blocks of a temporary one).
func (d *diskTier) dropHost(h *objHost) {
	d.mu.Lock()
	if _, ok := d.index[h.name]; ok && d.hosts[h.name] == h {
		d.mu.Unlock()
		d.drop(h.name, true)
		return
	}
	d.forgetHostLocked(h)
	d.mu.Unlock()
}

// readHostedRange reads the block hb locates in the file at path into a
// buffer of pool (when it fits one) and verifies it.
func readHostedRange(k Key, path string, hb hostedBlock, pool *bufPool) (*blockBuf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf []byte
	if hb.n <= poolBlockSize {
		buf, _ = pool.get(poolBlockSize)
	} else {
		buf = make([]byte, hb.n)
	}
	data := buf[:hb.n]
	_, err = f.ReadAt(data, hb.off)
	if err == nil {
		switch {
		case k.hash:
			err = verify(k, data, "disk")
		case hb.trail == nil || opaqueTrailer(k, data) != *hb.trail:
			err = errors.New("cache: opaque block fails its checksum")
		}
		if err != nil {
			err = &corruptError{err}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		err = &corruptError{err} // shorter than it should be
	}
	if err != nil {
		if hb.n <= poolBlockSize {
			pool.put(buf)
		}
		return nil, err
	}
	if hb.n > poolBlockSize {
		return plainBlock(data), nil
	}
	return newBlock(data, buf, pool), nil
}

// shardOf is the shard directory of the block file name.
func shardOf(name string) string {
	if len(name) == 65 && name[0] == opaquePrefix {
		return name[1:3]
	}
	return name[:2]
}

// spillHosted gives the blocks w's file hosts block files of their own
// (copied by the kernel), before the file is dropped unfinished, and
// forgets them in w's file.
func (c *Cache) spillHosted(w *ObjectWriter) {
	d := c.disk
	type spill struct {
		name string
		hb   hostedBlock
	}
	var todo []spill
	d.mu.Lock()
	for _, b := range w.host.blocks {
		if hb, ok := d.hosted[b]; ok && hb.host == w.host {
			todo = append(todo, spill{b, hb})
		}
	}
	d.mu.Unlock()
	for _, s := range todo {
		size, err := d.copyOut(w.f, s.name, s.hb)
		d.mu.Lock()
		if hb, ok := d.hosted[s.name]; ok && hb.host == w.host {
			delete(d.hosted, s.name)
		}
		if _, have := d.index[s.name]; err == nil && !have && !d.closed {
			d.index[s.name] = d.order.PushFront(&diskEntry{shard: shardOf(s.name), name: s.name, size: size, written: true})
			d.bytes += size
			d.stats.hostedSpilled.Add(1)
		} else if err == nil {
			_ = os.Remove(d.path(shardOf(s.name), s.name))
		}
		d.mu.Unlock()
	}
	d.evictOver()
}

// copyOut writes the block hb locates in src to its own block file.
func (d *diskTier) copyOut(src *os.File, name string, hb hostedBlock) (int64, error) {
	shard := shardOf(name)
	if err := os.MkdirAll(filepath.Join(d.dir, shard), 0o700); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(d.tmp, "blk-*")
	if err != nil {
		return 0, err
	}
	roff, woff := hb.off, int64(0)
	for err == nil && woff < hb.n {
		var m int
		m, err = unix.CopyFileRange(int(src.Fd()), &roff, int(f.Fd()), &woff, int(hb.n-woff), 0)
		if err == nil && m == 0 {
			err = errors.New("cache: object file shorter than a block it hosts")
		}
	}
	size := woff
	if err == nil && hb.trail != nil {
		var n int
		n, err = f.WriteAt(hb.trail[:], woff)
		size += int64(n)
	}
	return d.finish(f, shard, name, size, err)
}

// hostsSuffix names the file beside an object file that lists the blocks
// it hosts (objects/x<hex>.hosts), so that they are found there after a
// restart: one line per block, "<block name> <offset> <length> <opaque
// checksum in hex, or ->". Written before the object file is renamed into
// place and removed with it; one without its object file is removed at
// Open. Blocks listed there are read back and verified like any block
// found on disk at Open (a crash may have left the file short or holed).
const hostsSuffix = ".hosts"

// writeHostsFile writes the list of the blocks h hosts beside the object
// file name and returns the space it takes (0 when there is nothing to
// list or it could not be written: the blocks are then not found there
// after a restart, nothing worse).
func (d *diskTier) writeHostsFile(name string, h *objHost) int64 {
	var b bytes.Buffer
	d.mu.Lock()
	for _, bn := range h.blocks {
		hb, ok := d.hosted[bn]
		if !ok || hb.host != h {
			continue
		}
		trail := "-"
		if hb.trail != nil {
			trail = hex.EncodeToString(hb.trail[:])
		}
		fmt.Fprintf(&b, "%s %d %d %s\n", bn, hb.off, hb.n, trail)
	}
	d.mu.Unlock()
	if b.Len() == 0 {
		return 0
	}
	f, err := os.CreateTemp(d.tmp, "hosts-*")
	if err != nil {
		return 0
	}
	_, err = f.Write(b.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), d.path(objectsShard, name)+hostsSuffix)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return 0
	}
	return hostedBytes(int64(b.Len()))
}

// loadHostsFiles reads, at Open, the lists of hosted blocks of the object
// files found (hostsFiles: object file name → the list's size), and
// removes the lists whose object file is gone or that do not parse.
func (d *diskTier) loadHostsFiles(hostsFiles map[string]int64) {
	for name, size := range hostsFiles {
		el, ok := d.index[name]
		var blocks map[string]hostedBlock
		var err error
		h := &objHost{name: name, path: d.path(objectsShard, name)}
		if ok {
			blocks, err = readHostsFile(h.path+hostsSuffix, h)
		}
		if !ok || err != nil {
			_ = os.Remove(d.path(objectsShard, name) + hostsSuffix)
			continue
		}
		el.Value.(*diskEntry).size += size
		d.bytes += size
		d.hosts[name] = h
		for bn, hb := range blocks {
			if _, have := d.index[bn]; have {
				continue
			}
			if _, have := d.hosted[bn]; have {
				continue
			}
			d.hosted[bn] = hb
			h.blocks = append(h.blocks, bn)
		}
	}
}

func readHostsFile(path string, h *objHost) (map[string]hostedBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	blocks := make(map[string]hostedBlock)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 || len(fields[0]) < 64 || !validName(shardOf(fields[0]), fields[0]) {
			return nil, fmt.Errorf("cache: bad line in %s", path)
		}
		off, err1 := strconv.ParseInt(fields[1], 10, 64)
		n, err2 := strconv.ParseInt(fields[2], 10, 64)
		if err1 != nil || err2 != nil || off < 0 || n < 0 || n > 1<<30 {
			return nil, fmt.Errorf("cache: bad line in %s", path)
		}
		hb := hostedBlock{host: h, off: off, n: n}
		if fields[3] != "-" {
			var t [trailerLen]byte
			if raw, err := hex.DecodeString(fields[3]); err != nil || len(raw) != trailerLen {
				return nil, fmt.Errorf("cache: bad line in %s", path)
			} else {
				copy(t[:], raw)
			}
			hb.trail = &t
		}
		blocks[fields[0]] = hb
	}
	return blocks, sc.Err()
}
