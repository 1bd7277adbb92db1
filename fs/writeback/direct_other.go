//go:build !linux

package writeback

// writeBlockFileDirect writes a block file through the page cache: direct
// I/O is used on Linux only.
func writeBlockFileDirect(path string, data []byte) error {
	return writeBlockFile(path, data, false)
}
