package cache

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// directAlign is the alignment O_DIRECT needs of buffers, offsets and
// lengths (the largest logical block size in common use).
const directAlign = 4096

// directScratch is the size of the aligned buffer that unaligned data is
// copied through.
const directScratch = 1 << 20

// errNoDirect means the file system refused direct I/O; the caller writes
// the file through the page cache instead.
var errNoDirect = errors.New("cache: direct I/O not supported")

// directWriter writes block files with O_DIRECT: the data goes from the
// block's own buffer to the disk, without a second copy in the page cache
// (where it would cost as much CPU as the network read, and memory the
// kernel page cache of the mount already spends on the same bytes). Used by
// the disk tier's single writer goroutine only.
type directWriter struct {
	scratch []byte // directScratch bytes, directAlign-aligned; allocated on first use
}

func aligned(b []byte) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%directAlign == 0
}

// write writes parts, concatenated, to the empty file f and returns the
// size written. It returns errNoDirect (with nothing useful written) when
// the file system does not support O_DIRECT.
func (w *directWriter) write(f *os.File, parts [][]byte) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, errNoDirect
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if e == 0 {
			_, _, e = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags|syscall.O_DIRECT)
		}
		if e != 0 {
			ferr = e
		}
	}); err != nil || ferr != nil {
		return 0, errNoDirect
	}
	if w.scratch == nil {
		buf := make([]byte, directScratch+directAlign)
		skip := (directAlign - int(uintptr(unsafe.Pointer(&buf[0]))%directAlign)) % directAlign
		w.scratch = buf[skip : skip+directScratch]
	}
	var total int64
	put := func(b []byte) error {
		_, err := f.Write(b)
		if errors.Is(err, syscall.EINVAL) && total == 0 {
			return errNoDirect
		}
		total += int64(len(b))
		return err
	}
	if len(parts) > 0 && aligned(parts[0]) {
		// The usual case: a block read from the network into its own
		// (page-aligned) buffer. Its aligned prefix goes straight to disk.
		n := len(parts[0]) &^ (directAlign - 1)
		if n > 0 {
			if err := put(parts[0][:n]); err != nil {
				return 0, err
			}
		}
		parts = append([][]byte{parts[0][n:]}, parts[1:]...)
	}
	// The rest goes through the scratch buffer; the last write is padded
	// to the alignment and the file truncated back to its size.
	fill, size := 0, total
	for _, p := range parts {
		size += int64(len(p))
		for len(p) > 0 {
			n := copy(w.scratch[fill:], p)
			fill, p = fill+n, p[n:]
			if fill == len(w.scratch) {
				if err := put(w.scratch); err != nil {
					return 0, err
				}
				fill = 0
			}
		}
	}
	if fill > 0 {
		padded := (fill + directAlign - 1) &^ (directAlign - 1)
		clear(w.scratch[fill:padded])
		if err := put(w.scratch[:padded]); err != nil {
			return 0, err
		}
		if err := f.Truncate(size); err != nil {
			return 0, err
		}
	}
	return size, nil
}
