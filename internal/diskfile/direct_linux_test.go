package diskfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// directSupported reports whether dir's file system accepts O_DIRECT.
func directSupported(t *testing.T, dir string) bool {
	t.Helper()
	fd, err := syscall.Open(filepath.Join(dir, "probe"), syscall.O_CREAT|syscall.O_WRONLY|syscall.O_DIRECT, 0o600)
	if err != nil {
		return false
	}
	_ = syscall.Close(fd)
	return true
}

// TestDirectWriterSizes writes files of every awkward size, from aligned
// and unaligned buffers, in one or two parts, and reads back exactly the
// bytes given.
func TestDirectWriterSizes(t *testing.T) {
	dir := t.TempDir()
	supported := directSupported(t, dir)
	var w DirectWriter
	sizes := []int{1, 511, 4095, 4096, 4097, directScratch - 1, directScratch, directScratch + 4097, 4<<20 - 3, 4 << 20}
	for _, n := range sizes {
		for _, shift := range []int{0, 1} { // 1: an unaligned buffer
			for _, trailer := range []bool{false, true} {
				t.Run(fmt.Sprintf("%d/shift%d/trailer=%v", n, shift, trailer), func(t *testing.T) {
					buf := make([]byte, n+shift)
					copy(buf[shift:], pattern(n))
					parts := [][]byte{buf[shift:]}
					want := bytes.Clone(buf[shift:])
					if trailer {
						parts = append(parts, bytes.Repeat([]byte{0xa5}, 32))
						want = append(want, parts[1]...)
					}
					f, err := os.CreateTemp(dir, "blk-*")
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					size, err := w.Write(f, parts)
					if !supported {
						if !errors.Is(err, ErrNoDirect) {
							t.Fatalf("no O_DIRECT here, yet write = %d, %v", size, err)
						}
						return
					}
					if err != nil || size != int64(len(want)) {
						t.Fatalf("write = %d, %v; want %d", size, err, len(want))
					}
					got, err := os.ReadFile(f.Name())
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("file holds %d bytes (%v), want the %d written", len(got), err, len(want))
					}
				})
			}
		}
	}
}

// pattern is n bytes that differ from block to block of the alignment.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/4096)
	}
	return b
}

// An aligned part of aligned length goes straight to disk: the writer
// allocates no scratch buffer for it (writeback keeps each streamed or
// early-uploaded block this way, one DirectWriter per block).
func TestDirectWriterAlignedNeedsNoScratch(t *testing.T) {
	dir := t.TempDir()
	supported := directSupported(t, dir)
	raw := make([]byte, 64<<10+Align)
	skip := (Align - int(uintptr(unsafe.Pointer(&raw[0]))%Align)) % Align
	buf := raw[skip : skip+64<<10]
	copy(buf, pattern(len(buf)))
	f, err := os.Create(filepath.Join(dir, "blk"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w DirectWriter
	n, err := w.Write(f, [][]byte{buf})
	if w.scratch != nil {
		t.Fatal("the scratch buffer was allocated for aligned data")
	}
	if !supported {
		if !errors.Is(err, ErrNoDirect) {
			t.Fatalf("no O_DIRECT here, yet write = %d, %v", n, err)
		}
		return
	}
	if err != nil || n != int64(len(buf)) {
		t.Fatalf("write = %d, %v", n, err)
	}
	if got, err := os.ReadFile(f.Name()); err != nil || !bytes.Equal(got, buf) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
}
