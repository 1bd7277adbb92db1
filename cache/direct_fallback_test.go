package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDiskTierFallsBackWithoutDirectIO: with direct I/O off (as after a
// file system refused it), blocks are still written, through the page
// cache.
func TestDiskTierFallsBackWithoutDirectIO(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, Config{Dir: dir})
	c.disk.direct = false
	data := block(9, 10000)
	k := hashKey(data)
	if err := c.Put(k, data); err != nil {
		t.Fatal(err)
	}
	c.disk.flush()
	shard, name := k.fileName()
	got, err := os.ReadFile(filepath.Join(dir, blocksDir, shard, name))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("buffered block file: %d bytes, %v", len(got), err)
	}
}
