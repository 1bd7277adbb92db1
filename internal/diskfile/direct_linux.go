package diskfile

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// directScratch is the size of the aligned buffer that unaligned data is
// copied through.
const directScratch = 1 << 20

// DirectWriter writes files with O_DIRECT: the data goes from the caller's
// buffer to the disk, without a second copy in the page cache (where it
// would cost as much CPU as the network transfer of the same bytes, and
// memory). Parts whose start is aligned go straight to disk; the rest goes
// through a scratch buffer allocated on first need, so a writer that only
// ever writes aligned data never allocates. A DirectWriter is not safe for
// concurrent use; its zero value is ready.
type DirectWriter struct {
	scratch []byte // directScratch bytes, Align-aligned; allocated on first use
}

func aligned(b []byte) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%Align == 0
}

// Write writes parts, concatenated, to the empty file f and returns the
// size written. It returns ErrNoDirect (with nothing useful written) when
// the file system does not support O_DIRECT.
func (w *DirectWriter) Write(f *os.File, parts [][]byte) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, ErrNoDirect
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
		return 0, ErrNoDirect
	}
	var total int64
	put := func(b []byte) error {
		_, err := f.Write(b)
		if errors.Is(err, syscall.EINVAL) && total == 0 {
			return ErrNoDirect
		}
		total += int64(len(b))
		return err
	}
	if len(parts) > 0 && aligned(parts[0]) {
		// The usual case: a block read from the network into its own
		// (page-aligned) buffer. Its aligned prefix goes straight to disk.
		n := len(parts[0]) &^ (Align - 1)
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
		if len(p) > 0 && w.scratch == nil {
			// Allocated here, on first need: a whole aligned block (a
			// journal copy, a fetched block) needs none, and 1 MiB of
			// fresh memory a write cost it 10 % of its CPU in clearing.
			buf := make([]byte, directScratch+Align)
			skip := (Align - int(uintptr(unsafe.Pointer(&buf[0]))%Align)) % Align
			w.scratch = buf[skip : skip+directScratch]
		}
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
		padded := (fill + Align - 1) &^ (Align - 1)
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

// WriteAtDirect writes data at off of the file at path (created, mode 0600,
// if missing) with O_DIRECT. data's start, its length and off must be
// Align-aligned (else nothing is written and the error is ErrNoDirect, as
// when the file system refuses direct I/O): the caller then writes through
// the page cache.
func WriteAtDirect(path string, data []byte, off int64) error {
	if !aligned(data) || len(data)%Align != 0 || off%Align != 0 {
		return ErrNoDirect
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_DIRECT, 0o600)
	if errors.Is(err, syscall.EINVAL) {
		return ErrNoDirect
	}
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return ErrNoDirect
	}
	return err
}
