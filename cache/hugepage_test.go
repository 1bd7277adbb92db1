package cache

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestHugeSpan(t *testing.T) {
	const M = 1 << 20
	for _, tc := range []struct {
		name         string
		p, n, lo, hi uintptr
	}{
		{"aligned 4 MiB: two huge pages", 64 * M, 4 * M, 64 * M, 68 * M},
		{"8 KiB past a boundary: one", 64*M + 8192, 4 * M, 66 * M, 68 * M},
		{"ends 8 KiB short of a boundary: one", 62*M + 8192, 4 * M, 64 * M, 66 * M},
		{"no whole huge page inside", 64*M + 8192, 2 * M, 66 * M, 66 * M},
		{"small buffer", 64 * M, 4096, 64 * M, 64 * M},
		{"empty", 64*M + 1, 0, 66 * M, 66 * M},
	} {
		lo, hi := hugeSpan(tc.p, tc.n)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: hugeSpan(%#x, %#x) = [%#x, %#x), want [%#x, %#x)", tc.name, tc.p, tc.n, lo, hi, tc.lo, tc.hi)
		}
		if hi > lo && (lo < tc.p || hi > tc.p+tc.n) {
			t.Errorf("%s: span outside the buffer", tc.name)
		}
	}
}

// A buffer from the pool is advised and still an ordinary buffer.
func TestPoolBufferHuge(t *testing.T) {
	p := newBufPool(NewBudget(64 << 20))
	b, ok := p.get(poolBlockSize)
	if !ok || len(b) != poolBlockSize {
		t.Fatalf("get: %d bytes, recyclable %v", len(b), ok)
	}
	for i := range b {
		if b[i] != 0 {
			t.Fatalf("fresh buffer byte %d = %d", i, b[i])
		}
		b[i] = byte(i)
	}
	if b[poolBlockSize-1] != byte((poolBlockSize-1)%256) {
		t.Fatal("write lost")
	}
}

// A fresh pool buffer's ends, outside the huge pages it covers whole, are
// resident before anything writes them (MADV_POPULATE_WRITE): they were
// faulted in 4 KiB at a time while the buffer was first filled.
func TestPoolBufferEndsPopulated(t *testing.T) {
	p := newBufPool(NewBudget(64 << 20))
	for range 3 {
		b, _ := p.get(poolBlockSize)
		vec := make([]byte, len(b)/os.Getpagesize())
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			t.Fatal(e)
		}
		if vec[0]&1 == 0 || vec[len(vec)-1]&1 == 0 {
			t.Errorf("buffer at %p: first page resident %v, last %v", &b[0], vec[0]&1 == 1, vec[len(vec)-1]&1 == 1)
		}
	}
}
