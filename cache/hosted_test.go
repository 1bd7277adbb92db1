package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
)

// hostedObject is an object of four blocks for the hosted-block tests:
// full, with trailing zeros, full, and a short last one under an opaque
// key; fetches counts the fetches of its blocks.
type hostedObject struct {
	blocks  []ObjectBlock
	data    [][]byte
	fetches atomic.Int32
}

func newHostedObject(seed byte) *hostedObject {
	const bs = 4 << 20
	o := &hostedObject{data: [][]byte{
		bytes.Repeat([]byte{seed}, bs),
		append(bytes.Repeat([]byte{seed + 1}, 1000), make([]byte, bs-1000)...),
		bytes.Repeat([]byte{seed + 2}, bs),
		bytes.Repeat([]byte{seed + 3}, 5000),
	}}
	for i, b := range o.data {
		s := sha256.Sum256(bytes.TrimRight(b, "\x00"))
		key := HashKey(hex.EncodeToString(s[:]))
		if i == len(o.data)-1 {
			key = OpaqueKey("obj:last" + string(rune('a'+seed)))
		}
		o.blocks = append(o.blocks, ObjectBlock{key, len(b), func(ctx context.Context, buf []byte) ([]byte, error) {
			o.fetches.Add(1)
			return append(buf[:0], b...), nil
		}})
	}
	return o
}

func (o *hostedObject) size() int64 {
	var n int64
	for _, b := range o.data {
		n += int64(len(b))
	}
	return n
}

func (o *hostedObject) keys() []Key {
	keys := make([]Key, len(o.blocks))
	for i, b := range o.blocks {
		keys[i] = b.Key
	}
	return keys
}

// readHosted reads blocks idx of o through c as a sequential reader does
// (fs/handle_read.go): get, wait for the disk tier, drop from memory,
// offer to w.
func readHosted(t *testing.T, c *Cache, w *ObjectWriter, o *hostedObject, idx ...int) {
	t.Helper()
	refs := make([]*Ref, len(o.blocks))
	for _, i := range idx {
		ref, err := c.GetRef(context.Background(), o.blocks[i].Key, o.blocks[i].Size, o.blocks[i].Fetch)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	synctest.Wait() // the loads queue their blocks for the disk tier after handing them over
	c.disk.flush()
	for _, i := range idx {
		c.Drop(o.blocks[i].Key)
		w.Add(int64(i), o.blocks[i].Key, refs[i])
		refs[i].Release()
	}
}

// blockFiles lists the disk tier's block files (object files aside).
func blockFiles(t *testing.T, c *Cache) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(c.disk.dir, "[0-9a-f][0-9a-f]", "*"))
	return all
}

// getBlock reads block i of o through c (from memory dropped first) and
// checks its bytes.
func getBlock(t *testing.T, c *Cache, o *hostedObject, i int) {
	t.Helper()
	c.Drop(o.blocks[i].Key)
	got, err := c.Get(context.Background(), o.blocks[i].Key, o.blocks[i].Size, func(ctx context.Context) ([]byte, error) {
		return o.blocks[i].Fetch(ctx, make([]byte, o.blocks[i].Size))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, o.data[i]) {
		t.Fatalf("block %d: wrong bytes", i)
	}
}

func objectFileBytes(t *testing.T, c *Cache, id string, size int64) []byte {
	t.Helper()
	f, ok := c.ObjectFile(id, size)
	if !ok {
		t.Fatalf("no object file %s", id)
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	return got
}

// openHostingCache opens a cache with room in memory and on disk for a few
// objects of 4 MiB blocks.
func openHostingCache(t *testing.T) *Cache {
	t.Helper()
	c, err := Open(Config{MemBytes: 64 << 20, Dir: t.TempDir(), DiskBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestObjectWriterHostsBlocks: the blocks of an object read whole are
// written to disk once, into its object file (no block files, nothing
// copied at Finish, the disk tier counting the object's bytes once); they
// are found there by later reads and by another object's file, verified.
func TestObjectWriterHostsBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := openHostingCache(t)
		defer c.Close()
		o := newHostedObject(1)
		w := c.NewObjectWriter("o", o.size(), 4<<20, o.keys())
		readHosted(t, c, w, o, 0, 1, 2, 3)
		if files := blockFiles(t, c); len(files) != 0 {
			t.Errorf("block files written beside the object file: %v", files)
		}
		w.Finish(true, func() []ObjectBlock { return o.blocks })
		<-w.ended
		st := c.Stats()
		if st.ObjectBlocksHosted != 4 || st.ObjectBlocksCopied != 0 || st.ObjectFiles != 1 || o.fetches.Load() != 4 {
			t.Errorf("stats %+v, %d fetches: want 4 blocks hosted, none copied, 1 object file, 4 fetches", st, o.fetches.Load())
		}
		want := bytes.Join(o.data, nil)
		if !bytes.Equal(objectFileBytes(t, c, "o", o.size()), want) {
			t.Fatal("object file content differs")
		}
		fi, _ := os.Stat(c.disk.path(objectsShard, objectName("o")))
		list, _ := os.Stat(c.disk.path(objectsShard, objectName("o")) + hostsSuffix)
		if used := diskUsed(fi) + hostedBytes(list.Size()); st.DiskBytes != used {
			t.Errorf("disk tier counts %d bytes, want the object file and its list of blocks alone (%d)", st.DiskBytes, used)
		}

		// Each block, the opaque one included, is a disk hit now.
		for i := range o.blocks {
			getBlock(t, c, o, i)
		}
		if st2 := c.Stats(); o.fetches.Load() != 4 || st2.DiskHits-st.DiskHits != 4 {
			t.Errorf("re-reads: %d fetches, %d disk hits; want no fetch, 4 disk hits", o.fetches.Load()-4, st2.DiskHits-st.DiskHits)
		}

		// Another object made of blocks 2 and 0: copied from the object file.
		c.Drop(o.blocks[0].Key)
		c.Drop(o.blocks[2].Key)
		st = c.Stats()
		if err := c.Assemble(context.Background(), "o2", []ObjectBlock{o.blocks[2], o.blocks[0]}); err != nil {
			t.Fatal(err)
		}
		if st2 := c.Stats(); st2.ObjectBlocksCopied-st.ObjectBlocksCopied != 2 || o.fetches.Load() != 4 {
			t.Errorf("second object: %d blocks copied, %d fetches; want 2 copied, none fetched", st2.ObjectBlocksCopied-st.ObjectBlocksCopied, o.fetches.Load()-4)
		}
		if !bytes.Equal(objectFileBytes(t, c, "o2", int64(len(o.data[2])+len(o.data[0]))), append(bytes.Clone(o.data[2]), o.data[0]...)) {
			t.Fatal("second object file content differs")
		}

		// Corrupt bytes in the first object file: the block is fetched
		// again, never served wrong, and the object file is gone.
		p := c.disk.path(objectsShard, objectName("o"))
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteAt([]byte{0xff}, 2*(4<<20)+100)
		f.Close()
		st = c.Stats()
		getBlock(t, c, o, 2)
		if st2 := c.Stats(); st2.CorruptDiskBlocks-st.CorruptDiskBlocks != 1 || o.fetches.Load() != 5 || c.HasObjectFile("o") {
			t.Errorf("corrupt object file: %d corrupt, %d fetches, object file kept %v; want 1, 1, false",
				st2.CorruptDiskBlocks-st.CorruptDiskBlocks, o.fetches.Load()-4, c.HasObjectFile("o"))
		}
		if c.disk.contains(o.blocks[1].Key) {
			t.Error("a block of the removed object file still found on disk")
		}
	})
}

func diskUsed(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

// TestHostedPartialRead: an object file dropped unfinished (its reader
// stopped early) first gives the blocks it hosts files of their own, so
// they stay cached.
func TestHostedPartialRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := openHostingCache(t)
		defer c.Close()
		o := newHostedObject(1)
		w := c.NewObjectWriter("o", o.size(), 4<<20, o.keys())
		readHosted(t, c, w, o, 0, 1)
		w.Finish(false, func() []ObjectBlock { return o.blocks })
		<-w.ended
		st := c.Stats()
		if c.HasObjectFile("o") || st.HostedSpilled != 2 || len(blockFiles(t, c)) != 2 {
			t.Errorf("object file %v, stats %+v, block files %v: want no object file, blocks 0 and 1 spilled to files",
				c.HasObjectFile("o"), st, blockFiles(t, c))
		}
		if tmp, _ := filepath.Glob(filepath.Join(c.disk.tmp, "*")); len(tmp) != 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
		getBlock(t, c, o, 0)
		getBlock(t, c, o, 1)
		if n := o.fetches.Load(); n != 2 {
			t.Errorf("%d fetches, want 2 (the re-reads from disk)", n)
		}
		var files int64
		for _, p := range blockFiles(t, c) {
			fi, _ := os.Stat(p)
			files += fi.Size()
		}
		if got := c.Stats().DiskBytes; got != files {
			t.Errorf("disk tier counts %d bytes, its files hold %d", got, files)
		}
	})
}

// TestHostedEviction: evicting an object file forgets the blocks it hosts
// (they are fetched again), and the tier stays within its limit.
func TestHostedEviction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 26 << 20
		c, err := Open(Config{MemBytes: 64 << 20, Dir: t.TempDir(), DiskBytes: limit})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		o := newHostedObject(1)
		w := c.NewObjectWriter("o", o.size(), 4<<20, o.keys())
		readHosted(t, c, w, o, 0, 1, 2, 3)
		w.Finish(true, func() []ObjectBlock { return o.blocks })
		<-w.ended
		if !c.HasObjectFile("o") || !c.disk.contains(o.blocks[0].Key) {
			t.Fatal("no object file, or its blocks not found")
		}
		// Six other blocks push the object file out.
		for i := range 6 {
			b := bytes.Repeat([]byte{byte(100 + i)}, 4<<20)
			s := sha256.Sum256(b)
			if err := c.Put(HashKey(hex.EncodeToString(s[:])), b); err != nil {
				t.Fatal(err)
			}
		}
		c.disk.flush()
		if c.HasObjectFile("o") {
			t.Fatal("object file not evicted")
		}
		for _, b := range o.blocks {
			if c.disk.contains(b.Key) {
				t.Errorf("block %s of the evicted object file still found on disk", b.Key.id)
			}
		}
		if st := c.Stats(); st.DiskBytes > limit {
			t.Errorf("disk tier at %d bytes, limit %d", st.DiskBytes, limit)
		}
		getBlock(t, c, o, 2)
		if n := o.fetches.Load(); n != 5 {
			t.Errorf("%d fetches, want 5 (block 2 again)", n)
		}
	})
}

// TestHostedRestart: after a restart the blocks an object file hosts are
// found there again (read back and verified); a file whose bytes went bad
// is discarded and its blocks fetched; an object file being written when
// the process stopped leaves nothing behind.
func TestHostedRestart(t *testing.T) {
	dir := t.TempDir()
	o := newHostedObject(1)
	p := newHostedObject(10)
	synctest.Test(t, func(t *testing.T) {
		c, err := Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 256 << 20})
		if err != nil {
			t.Fatal(err)
		}
		w := c.NewObjectWriter("o", o.size(), 4<<20, o.keys())
		readHosted(t, c, w, o, 0, 1, 2, 3)
		w.Finish(true, func() []ObjectBlock { return o.blocks })
		<-w.ended
		// p is being written when the cache stops (no Finish: a crash).
		w = c.NewObjectWriter("p", p.size(), 4<<20, p.keys())
		readHosted(t, c, w, p, 0, 1)
		c.Close()
	})
	synctest.Test(t, func(t *testing.T) {
		c, err := Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 256 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if tmp, _ := filepath.Glob(filepath.Join(c.disk.tmp, "*")); len(tmp) != 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
		for i := range o.blocks {
			getBlock(t, c, o, i)
		}
		if n := o.fetches.Load(); n != 4 {
			t.Errorf("%d fetches after the restart, want none (the blocks are in the object file)", n-4)
		}
		getBlock(t, c, p, 0)
		if n := p.fetches.Load(); n != 3 {
			t.Errorf("%d fetches of the unfinished object's block 0, want 1", n-2)
		}
		fi, _ := os.Stat(c.disk.path(objectsShard, objectName("o")))
		if st := c.Stats(); st.DiskBytes > diskUsed(fi)+8<<20+16<<10 {
			t.Errorf("disk tier counts %d bytes; the object file takes %d", st.DiskBytes, diskUsed(fi))
		}
		// Bad bytes in the object file (as a machine crash may leave an
		// unsynced file): the block is fetched again, the file discarded.
		c.Close()
		path := c.disk.path(objectsShard, objectName("o"))
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteAt(make([]byte, 100), 4<<20+10)
		f.Close()
		c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 256 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		getBlock(t, c, o, 0)
		getBlock(t, c, o, 1)
		if n := o.fetches.Load(); n != 5 || c.HasObjectFile("o") {
			t.Errorf("%d fetches, object file kept %v: want block 1 fetched again and the file discarded", n-4, c.HasObjectFile("o"))
		}
	})
}

// TestHostedGapFilledAtFinish: a block the reader never offered the writer
// (the disk tier behind, the writer's queue full) is fetched at Finish into
// the object file, and found there afterwards like the others, not fetched
// again (TestMountRemountFromDiskCache failed on a loaded machine for it).
func TestHostedGapFilledAtFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := openHostingCache(t)
		defer c.Close()
		o := newHostedObject(1)
		w := c.NewObjectWriter("o", o.size(), 4<<20, o.keys())
		readHosted(t, c, w, o, 0, 1, 3)
		// The disk tier takes no block file for block 2 (as when it is
		// behind): the object file is its one copy on disk.
		c.disk.mu.Lock()
		c.disk.disabled = true
		c.disk.mu.Unlock()
		w.Finish(true, func() []ObjectBlock { return o.blocks })
		<-w.ended
		c.disk.mu.Lock()
		c.disk.disabled = false
		c.disk.mu.Unlock()
		if files := blockFiles(t, c); len(files) != 0 {
			t.Errorf("block files: %v", files)
		}
		if n := o.fetches.Load(); n != 4 {
			t.Fatalf("%d fetches, want 4 (block 2 at Finish)", n)
		}
		if !bytes.Equal(objectFileBytes(t, c, "o", o.size()), bytes.Join(o.data, nil)) {
			t.Fatal("object file content differs")
		}
		hits := c.Stats().DiskHits
		getBlock(t, c, o, 2)
		if n, h := o.fetches.Load(), c.Stats().DiskHits-hits; n != 4 || h != 1 {
			t.Errorf("block 2 after Finish: %d more fetches, %d disk hits; want 0 and 1 (hosted by the object file)", n-4, h)
		}
	})
}
