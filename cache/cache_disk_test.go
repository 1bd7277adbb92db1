package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/internal/zapslog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// The disk tier: corrupt blocks, the index across reopens, permissions, eviction, write failures.

func TestCorruptDiskBlockRefetched(t *testing.T) {
	cases := []struct {
		name    string
		opaque  bool
		corrupt func(t *testing.T, path string)
	}{
		{"flipped byte", false, flipByte},
		{"truncated", false, truncate},
		{"opaque flipped byte", true, flipByte},
		{"opaque truncated", true, truncate},
		{"opaque emptied", true, func(t *testing.T, p string) {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := block(7, 5000)
			key := hashKey(data)
			if tc.opaque {
				key = OpaqueKey("swift:/a/c/o@1#0")
			}
			c := openCache(t, Config{Dir: dir})
			var calls atomic.Int64
			if _, err := c.Get(context.Background(), key, len(data), countingFetch(data, &calls)); err != nil {
				t.Fatal(err)
			}
			_ = c.Close()
			shard, name := key.fileName()
			path := filepath.Join(dir, blocksDir, shard, name)
			tc.corrupt(t, path)

			core, logs := observer.New(zap.WarnLevel)
			c2 := openCache(t, Config{Dir: dir, Logger: zapslog.New(zap.New(core))})
			// Several readers at once: one detection, one log line, one refetch.
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					got, err := c2.Get(context.Background(), key, len(data), countingFetch(data, &calls))
					if err != nil || !bytes.Equal(got, data) {
						t.Errorf("Get: %v", err)
					}
				})
			}
			wg.Wait()
			if n := calls.Load(); n != 2 {
				t.Fatalf("fetches = %d, want 2 (initial + refetch)", n)
			}
			if st := c2.Stats(); st.CorruptDiskBlocks != 1 {
				t.Fatalf("CorruptDiskBlocks = %d", st.CorruptDiskBlocks)
			}
			if n := logs.FilterMessageSnippet("corrupt").Len(); n != 1 {
				t.Fatalf("%d corrupt log lines, want 1", n)
			}
			// The refetched block replaced the bad file.
			c2.settle()
			_ = c2.Close()
			c3 := openCache(t, Config{Dir: dir})
			if got, err := c3.Get(context.Background(), key, len(data), failFetch(t)); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("after repair: %v", err)
			}
		})
	}
}

func flipByte(t *testing.T, p string) {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x55
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, p string) {
	if err := os.Truncate(p, 100); err != nil {
		t.Fatal(err)
	}
}

func TestDiskIndexRebuiltAfterReopen(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, Config{Dir: dir})
	var keys []Key
	var blocks [][]byte
	for i := range 20 {
		data := block(uint64(100+i), 1000+i)
		k := hashKey(data)
		if _, err := c.Get(context.Background(), k, len(data), func(context.Context) ([]byte, error) { return data, nil }); err != nil {
			t.Fatal(err)
		}
		keys, blocks = append(keys, k), append(blocks, data)
	}
	if _, err := c.Get(context.Background(), OpaqueKey("swift:o@e#1"), 3, func(context.Context) ([]byte, error) { return []byte("xyz"), nil }); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	// Leftovers a crash could leave, and stray files, must not confuse the scan.
	tmp := filepath.Join(dir, blocksDir, tmpDir, "blk-123")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, blocksDir, "README"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	c2 := openCache(t, Config{Dir: dir})
	st := c2.Stats()
	if st.DiskBlocks != 21 {
		t.Fatalf("index has %d blocks, want 21", st.DiskBlocks)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file survived Open: %v", err)
	}
	for i, k := range keys {
		if !c2.Contains(k) {
			t.Fatalf("block %d not in rebuilt index", i)
		}
		got, err := c2.Get(context.Background(), k, len(blocks[i]), failFetch(t))
		if err != nil || !bytes.Equal(got, blocks[i]) {
			t.Fatalf("block %d: %v", i, err)
		}
	}
	if got, err := c2.Get(context.Background(), OpaqueKey("swift:o@e#1"), 3, failFetch(t)); err != nil || string(got) != "xyz" {
		t.Fatalf("opaque block: %q %v", got, err)
	}
	if st := c2.Stats(); st.DiskHits != 21 || st.Fetches != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// An opaque block file of the format before session 14 ("o" + hash, a SHA-256 trailer) is removed
// when the cache opens, not left on disk uncounted; the block is fetched again and kept in the new format.
func TestOldOpaqueBlockFileRemovedAtOpen(t *testing.T) {
	dir := t.TempDir()
	key, data := OpaqueKey("swift:o@e#1"), []byte("xyz")
	c := openCache(t, Config{Dir: dir})
	if _, err := c.Get(context.Background(), key, len(data), func(context.Context) ([]byte, error) { return data, nil }); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	shard, name := key.fileName()
	cur := filepath.Join(dir, blocksDir, shard, name)
	old := filepath.Join(dir, blocksDir, shard, "o"+name[1:])
	if err := os.Rename(cur, old); err != nil {
		t.Fatal(err)
	}

	c2 := openCache(t, Config{Dir: dir})
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old-format file survived Open: %v", err)
	}
	if st := c2.Stats(); st.DiskBlocks != 0 || st.DiskBytes != 0 {
		t.Fatalf("old-format file counted: %d blocks, %d bytes", st.DiskBlocks, st.DiskBytes)
	}
	var calls atomic.Int64
	if got, err := c2.Get(context.Background(), key, len(data), countingFetch(data, &calls)); err != nil || !bytes.Equal(got, data) || calls.Load() != 1 {
		t.Fatalf("Get: %q %v after %d fetches, want the block fetched again", got, err, calls.Load())
	}
}

// The opaque trailer is part of the files a cache keeps across versions: pinned (the value from a
// bitwise CRC-32C, reflected polynomial 0x82F63B78, written apart from this code).
func TestOpaqueTrailerValue(t *testing.T) {
	got := opaqueTrailer(OpaqueKey("swift:/a/c/o@1#0"), []byte("hello, block"))
	if want := [trailerLen]byte{0x21, 0x78, 0xa9, 0x4e}; got != want {
		t.Fatalf("trailer %x, want %x", got, want)
	}
}

func TestDiskPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := openCache(t, Config{Dir: dir})
	data := block(8, 100)
	if err := c.Put(hashKey(data), data); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	err := filepath.Walk(filepath.Join(dir, blocksDir), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDiskEvictionLRU(t *testing.T) {
	const bs = 1000
	dir := t.TempDir()
	// A memory tier too small for one block forces reads through the disk.
	c := openCache(t, Config{Dir: dir, DiskBytes: 5 * bs, MemBytes: 100})
	var keys []Key
	var blocks [][]byte
	add := func(i int) {
		data := block(uint64(400+i), bs)
		k := hashKey(data)
		keys, blocks = append(keys, k), append(blocks, data)
		if _, err := c.Get(context.Background(), k, bs, func(context.Context) ([]byte, error) { return data, nil }); err != nil {
			t.Fatal(err)
		}
		c.settle()
	}
	for i := range 5 {
		add(i)
	}
	// Reading block 0 from disk makes it the most recent: block 1 goes next.
	if _, err := c.Get(context.Background(), keys[0], bs, failFetch(t)); err != nil {
		t.Fatal(err)
	}
	add(5)
	for i, want := range []bool{true, false, true, true, true, true} {
		if c.Contains(keys[i]) != want {
			t.Fatalf("block %d: Contains = %v, want %v", i, !want, want)
		}
	}
	for i := 6; i < 30; i++ {
		add(i)
	}
	st := c.Stats()
	if st.DiskBytes > 5*bs || st.DiskBlocks != 5 || st.DiskEvictions != 25 {
		t.Fatalf("stats = %+v", st)
	}
	if n := countFiles(t, dir); n != 5 {
		t.Fatalf("%d files on disk, want 5", n)
	}
	_ = c.Close()

	// The order survives a remount (file mtimes): make block 25 the oldest
	// and reopen with room for three blocks.
	old := time.Now().Add(-time.Hour)
	shard, name := keys[25].fileName()
	if err := os.Chtimes(filepath.Join(dir, blocksDir, shard, name), old, old); err != nil {
		t.Fatal(err)
	}
	for i := 26; i < 30; i++ {
		ts := time.Now().Add(time.Duration(i-30) * time.Minute)
		shard, name := keys[i].fileName()
		if err := os.Chtimes(filepath.Join(dir, blocksDir, shard, name), ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	c2 := openCache(t, Config{Dir: dir, DiskBytes: 3 * bs})
	for i := 25; i < 30; i++ {
		if want := i >= 27; c2.Contains(keys[i]) != want {
			t.Fatalf("after reopen, block %d: Contains = %v, want %v", i, !want, want)
		}
	}
	if n := countFiles(t, dir); n != 3 {
		t.Fatalf("%d files on disk, want 3", n)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.Walk(filepath.Join(dir, blocksDir), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// failingFile is a tempFile whose writes fail, as on a full disk.
type failingFile struct {
	*os.File
	err error
}

func (f failingFile) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: f.err}
}

func TestDiskWriteFailures(t *testing.T) {
	cases := []struct {
		err      syscall.Errno
		disables bool
	}{
		{syscall.ENOSPC, true},
		{syscall.EDQUOT, true},
		{syscall.EIO, false},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			dir := t.TempDir()
			core, logs := observer.New(zap.WarnLevel)
			c := openCache(t, Config{Dir: dir, Logger: zapslog.New(zap.New(core))})
			var creates atomic.Int64
			c.disk.createTemp = func(dir string) (tempFile, error) {
				creates.Add(1)
				f, err := os.CreateTemp(dir, "blk-*")
				if err != nil {
					return nil, err
				}
				return failingFile{f, tc.err}, nil
			}
			var keys []Key
			for i := range 5 {
				data := block(uint64(500+i), 700)
				k := hashKey(data)
				keys = append(keys, k)
				got, err := c.Get(context.Background(), k, len(data), func(context.Context) ([]byte, error) { return data, nil })
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("Get with a failing disk: %v", err)
				}
				c.settle()
			}
			st := c.Stats()
			wantErrs, wantCreates := int64(5), int64(5)
			if tc.disables {
				wantErrs, wantCreates = 1, 1
			}
			if st.DiskWritesOff != tc.disables || st.DiskWriteErrors != wantErrs || creates.Load() != wantCreates {
				t.Fatalf("stats = %+v, creates = %d", st, creates.Load())
			}
			if logs.Len() != 1 {
				t.Fatalf("%d log lines, want 1: %v", logs.Len(), logs.All())
			}
			for _, k := range keys {
				if _, err := c.Get(context.Background(), k, 700, failFetch(t)); err != nil {
					t.Fatalf("memory tier lost a block: %v", err)
				}
			}
			if n := countFiles(t, dir); n != 0 {
				t.Fatalf("%d files left on disk, want 0", n)
			}
		})
	}
}
