package writeback

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// directAlign is the alignment O_DIRECT needs of buffers and lengths.
const directAlign = 4096

// writeBlockFileDirect creates (or replaces) a block file with data written
// with O_DIRECT: from data's buffer to the disk, without a copy in the page
// cache, which costs about as much CPU as the upload of the same bytes.
// Early-uploaded blocks are kept this way until their commit. It falls back
// to writeBlockFile when data is not aligned or the file system refuses
// O_DIRECT.
func writeBlockFileDirect(path string, data []byte) error {
	if len(data) == 0 || len(data)%directAlign != 0 || uintptr(unsafe.Pointer(&data[0]))%directAlign != 0 {
		return writeBlockFile(path, data, false)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_DIRECT, 0o600)
	if errors.Is(err, syscall.EINVAL) {
		return writeBlockFile(path, data, false)
	}
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return writeBlockFile(path, data, false)
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writeback: journal: %w", err)
	}
	return nil
}
