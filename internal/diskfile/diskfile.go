// Package diskfile owns the ways pithosfs writes local files that must
// survive a crash or stay out of the page cache: an atomic replace (temporary
// file, fsync, rename, directory fsync) and O_DIRECT writes with a clean
// fallback. It knows files and bytes, nothing of blocks, caches or HTTP; the
// block cache, the write-back journal and the local cloud use it.
package diskfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Align is the alignment O_DIRECT needs of buffers, offsets and lengths
// (the largest logical block size in common use).
const Align = 4096

// ErrNoDirect means the file system refused direct I/O; the caller writes
// the file through the page cache instead.
var ErrNoDirect = errors.New("diskfile: direct I/O not supported")

// WriteAtomic replaces path with data: it writes a temporary file in the
// same directory, fsyncs it, renames it over path and fsyncs the directory,
// so after a crash path holds either its old or its new content, never a
// part. The file gets mode perm.
func WriteAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("diskfile: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("diskfile: write %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory, making the creations, renames and removals in
// it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("diskfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("diskfile: fsync %s: %w", dir, err)
	}
	return nil
}
