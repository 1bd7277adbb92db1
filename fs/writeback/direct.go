package writeback

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// writeBlockFileDirect creates (or replaces) a block file with data written
// with O_DIRECT (diskfile.DirectWriter): from data's buffer to the disk,
// without a copy in the page cache, which costs about as much CPU as the
// upload of the same bytes. Early-uploaded blocks are kept this way until
// their commit. Only data that is aligned in place goes direct (so the
// writer never needs its scratch buffer); the rest, and file systems that
// refuse O_DIRECT, go through writeBlockFile.
func writeBlockFileDirect(path string, data []byte) error {
	if len(data) == 0 || len(data)%diskfile.Align != 0 || uintptr(unsafe.Pointer(&data[0]))%diskfile.Align != 0 {
		return writeBlockFile(path, data, false)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	var w diskfile.DirectWriter
	_, err = w.Write(f, [][]byte{data})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, diskfile.ErrNoDirect) {
		return writeBlockFile(path, data, false)
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writeback: journal: %w", err)
	}
	return nil
}
