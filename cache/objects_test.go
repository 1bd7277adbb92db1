package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestAssembleObjectFile(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const bs = 4 << 20
	// Block 0 cached on disk; block 1 all zeros; block 2 fetched; block 3 short, opaque.
	b0 := bytes.Repeat([]byte{1}, bs)
	b2 := append(bytes.Repeat([]byte{2}, 1000), make([]byte, bs-1000)...)
	b3 := bytes.Repeat([]byte{3}, 5000)
	hk := func(b []byte) Key {
		s := sha256.Sum256(bytes.TrimRight(b, "\x00"))
		return HashKey(hex.EncodeToString(s[:]))
	}
	if err := c.Put(hk(b0), b0); err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	fetch := func(b []byte) FetchIntoFunc {
		return func(ctx context.Context, buf []byte) ([]byte, error) {
			fetches.Add(1)
			return append(buf[:0], b...), nil
		}
	}
	blocks := []ObjectBlock{
		{hk(b0), bs, fetch(b0)},
		{hk(make([]byte, bs)), bs, fetch(make([]byte, bs))},
		{hk(b2), bs, fetch(b2)},
		{OpaqueKey("obj:last"), len(b3), fetch(b3)},
	}
	want := bytes.Join([][]byte{b0, make([]byte, bs), b2, b3}, nil)
	if _, ok := c.ObjectFile("o1", int64(len(want))); ok {
		t.Fatal("object file before Assemble")
	}
	if err := c.Assemble(context.Background(), "o1", blocks); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3 (blocks 1-3; block 0 was cached)", n)
	}
	f, ok := c.ObjectFile("o1", int64(len(want)))
	if !ok {
		t.Fatal("no object file after Assemble")
	}
	got, _ := io.ReadAll(f)
	var st syscall.Stat_t
	_ = syscall.Fstat(int(f.Fd()), &st)
	f.Close()
	if !bytes.Equal(got, want) {
		t.Fatal("object file content differs")
	}
	if used := st.Blocks * 512; used > int64(len(want))-bs {
		t.Errorf("object file takes %d bytes on disk, want it sparse (< %d)", used, len(want)-bs)
	}
	if s := c.Stats(); s.ObjectFiles != 1 || s.MemBlocks > 1 {
		t.Errorf("stats %+v: want 1 object file and only block 0 in memory (assembly drops what it loaded)", s)
	}
	// Too large for the disk tier (more than half of it): refused.
	big := make([]ObjectBlock, 9)
	for i := range big {
		big[i] = blocks[1]
	}
	if err := c.Assemble(context.Background(), "o2", big); !errors.Is(err, ErrNoObjectFile) {
		t.Errorf("Assemble of 36 MiB into a 64 MiB disk tier: %v, want ErrNoObjectFile", err)
	}
	c.Close()

	// A new Open counts the file in the disk tier; a tier too small for it evicts it.
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.DiskBytes < int64(st.Blocks*512) || !c.HasObjectFile("o1") {
		t.Errorf("after reopening: disk bytes %d, object file %v", s.DiskBytes, c.HasObjectFile("o1"))
	}
	if _, ok := c.ObjectFile("o1", int64(len(want))+1); ok || c.HasObjectFile("o1") {
		t.Error("object file of the wrong size opened, or kept")
	}
	c.Close()
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Assemble(context.Background(), "o1", blocks); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = Open(Config{MemBytes: 64 << 20, Dir: dir, DiskBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.HasObjectFile("o1") {
		t.Error("object file kept in a disk tier smaller than it")
	}
}
