//go:build !linux

package diskfile

import "os"

// DirectWriter is unavailable off Linux: files go through the page cache.
type DirectWriter struct{}

// Write reports ErrNoDirect: direct I/O is used on Linux only.
func (w *DirectWriter) Write(f *os.File, parts [][]byte) (int64, error) { return 0, ErrNoDirect }

// WriteAtDirect reports ErrNoDirect: direct I/O is used on Linux only.
func WriteAtDirect(path string, data []byte, off int64) error { return ErrNoDirect }
