package fs

import (
	"context"
	"errors"
	"net/http"
	"syscall"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/synnefo"
)

// errnoOf maps an object-store error to the errno the kernel gets. Callers
// with a more specific meaning for a status (409 on rmdir, 412 on a
// no-clobber rename) check it before falling back here.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		return syscall.EINTR
	}
	if en, ok := err.(syscall.Errno); ok {
		return en // our own
	}
	if errors.Is(err, writeback.ErrFileTooLarge) {
		return syscall.EFBIG
	}
	// Transport errors (connection refused, timeouts after the client's
	// retries) have no status: EIO, never the socket's errno.
	switch synnefo.StatusOf(err) {
	case http.StatusNotFound:
		return syscall.ENOENT
	case http.StatusUnauthorized, http.StatusForbidden:
		return syscall.EACCES
	case http.StatusConflict:
		return syscall.ENOTEMPTY
	case http.StatusPreconditionFailed:
		return syscall.EEXIST
	case http.StatusRequestEntityTooLarge:
		return syscall.EDQUOT // quota (Pithos answers 413 for nothing else)
	case http.StatusLengthRequired, http.StatusBadRequest:
		return syscall.EINVAL
	}
	return syscall.EIO
}

// fail maps err to an errno and logs it once, with the operation, the
// object path and the HTTP status. ENOENT is expected (lookups of missing
// names) and logged at debug level only.
func (s *fsys) fail(op, path string, err error) syscall.Errno {
	return s.failAs(op, path, err, errnoOf(err))
}

func (s *fsys) failAs(op, path string, err error, errno syscall.Errno) syscall.Errno {
	fields := []zap.Field{zap.String("op", op), zap.String("path", path), zap.Int("status", synnefo.StatusOf(err)),
		zap.String("errno", errno.Error()), zap.Error(err)}
	switch errno {
	case syscall.ENOENT, syscall.EINTR, syscall.EEXIST, syscall.ENOTEMPTY:
		s.log.Debug("fs: "+op, fields...)
	default:
		s.stats.errors.Add(1)
		s.log.Warn("fs: "+op+" failed", fields...)
	}
	return errno
}

func zapErr(err error) zap.Field { return zap.Error(err) }
