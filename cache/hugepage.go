package cache

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of an x86-64 transparent huge page.
const hugePage = 2 << 20

// adviseHuge asks the kernel to back the 2 MiB-aligned stretches that lie
// wholly inside a newly allocated block buffer with transparent huge pages
// (madvise MADV_HUGEPAGE; nothing happens where THP is "never", and it is
// the default where THP is "always"). The first cold read of a mount makes
// the heap grow by about the memory budget, and every 4 KiB page of it was
// a page fault taken while the kernel copied a socket's bytes into the
// buffer: 25 000–29 000 faults per GiB read, about 8 % of the daemon's CPU
// on the 2-core VM the benchmarks run on (a fault is dear under its
// hypervisor). A huge page is one fault for 512 pages. Only stretches the
// buffer covers whole are advised, so no page is made resident that the
// buffer does not use; the advice is a hint, and an error is ignored.
//
// The heap places 4 MiB buffers at 8 KiB alignment, so about half of each
// buffer lies in the two partial stretches at its ends, which were faulted
// in 4 KiB at a time as the buffer was first filled. Those ends are
// populated at once (MADV_POPULATE_WRITE, one call each, Linux 5.14): the
// same pages, made resident without a fault each (a large write's first 12
// buffers: ~0.1 s of CPU less per mount; comparison.md, "Session 10 —
// write10"). Advising the ends' whole stretches instead saved twice that but
// made the heap's bytes beside each buffer resident too (+4 to +16 MiB of
// peak RSS under the mixed load).
func adviseHuge(b []byte) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo, hi := hugeSpan(p, uintptr(len(b)))
	if hi > lo {
		_ = unix.Madvise(b[lo-p:hi-p], unix.MADV_HUGEPAGE)
	} else {
		lo, hi = p, p // no huge page: populate it all
	}
	if lo > p {
		_ = unix.Madvise(b[:lo-p], unix.MADV_POPULATE_WRITE)
	}
	if hi < p+uintptr(len(b)) {
		_ = unix.Madvise(b[hi-p:], unix.MADV_POPULATE_WRITE)
	}
}

// hugeSpan is the stretch [lo, hi) of whole huge pages inside the n bytes
// at p (lo == hi when there is none).
func hugeSpan(p, n uintptr) (lo, hi uintptr) {
	lo = (p + hugePage - 1) &^ (hugePage - 1)
	hi = (p + n) &^ (hugePage - 1)
	if hi < lo {
		return lo, lo
	}
	return lo, hi
}
