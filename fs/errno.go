package fs

import (
	"syscall"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/fs/errmap"
)

// errnoOf maps a failure to the errno the kernel gets: the mount's one
// table, fs/errmap (shared with fs/control). Callers with a more specific
// meaning for a domain error (a failed If-None-Match on a no-clobber rename,
// a name that vanished while a commit is pending) check it with errors.Is
// before falling back here.
func errnoOf(err error) syscall.Errno { return errmap.Errno(err) }

// fail maps err to an errno and logs it once, with the operation, the
// object path and the HTTP status. ENOENT is expected (lookups of missing
// names) and logged at debug level only.
func (s *fsys) fail(op, path string, err error) syscall.Errno {
	return s.failAs(op, path, err, errnoOf(err))
}

func (s *fsys) failAs(op, path string, err error, errno syscall.Errno) syscall.Errno {
	fields := []zap.Field{zap.String("op", op), zap.String("path", path), zap.Int("status", errmap.Status(err)),
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
