//go:build !linux

package cache

import (
	"errors"
	"os"
)

var errNoDirect = errors.New("cache: direct I/O not supported")

// directWriter is unavailable off Linux: block files go through the page
// cache.
type directWriter struct{}

func (w *directWriter) write(f *os.File, parts [][]byte) (int64, error) { return 0, errNoDirect }
