// Package errmap is the mount's one table from a failure to the errno a FUSE
// call returns, shared by the object tree (package fs) and the cloud trees
// (fs/control). It decides on domain errors (package fault, the write-back
// journal's errors), never on HTTP status codes; Status, for log lines only,
// is the one place under fs/ that reads one. It knows nothing of nodes or
// requests.
package errmap

import (
	"context"
	"errors"
	"syscall"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// table is checked in order: ErrNotEmpty before ErrConflict, which it also
// matches.
var table = []struct {
	err   error
	errno syscall.Errno
}{
	{writeback.ErrFileTooLarge, syscall.EFBIG},
	{fault.ErrNotFound, syscall.ENOENT},
	{fault.ErrUnauthorized, syscall.EACCES},
	{fault.ErrForbidden, syscall.EACCES},
	// rmdir of a container with objects: what rmdir(2) says of a directory
	// with entries.
	{fault.ErrNotEmpty, syscall.ENOTEMPTY},
	// Any other conflict with the resource's state (a server mid-build, a
	// network in use, an object the server will not replace now): the
	// resource is busy, as EBUSY says; ENOTEMPTY would send the user looking
	// for entries that are not there.
	{fault.ErrConflict, syscall.EBUSY},
	// If-Match / If-None-Match: * failed: the name exists (or changed) since
	// we looked, as for O_EXCL and RENAME_NOREPLACE.
	{fault.ErrPrecondition, syscall.EEXIST},
	{fault.ErrQuota, syscall.EDQUOT},
	{fault.ErrInvalid, syscall.EINVAL},
}

// carrier is an error that names its errno itself (a control file's
// rejected spec: EINVAL with the reason, EACCES for a read-only directory).
type carrier interface{ Errno() syscall.Errno }

// Errno maps an error to the errno the kernel gets. Anything without a
// meaning here (no reply from the server, a 5xx, a busy server, a local
// disk error) is EIO, never the socket's errno.
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		return syscall.EINTR
	}
	if en, ok := err.(syscall.Errno); ok {
		return en // our own, unwrapped: a transport error's ECONNREFUSED is not
	}
	var c carrier
	if errors.As(err, &c) {
		return c.Errno()
	}
	for _, r := range table {
		if errors.Is(err, r.err) {
			return r.errno
		}
	}
	return syscall.EIO
}

// Commit maps a failed commit to what close() and fsync() return: EDQUOT
// when the server refused it for quota (the data stays in the journal and
// is retried), EIO for everything else (a conflict copy was saved, the
// server is unreachable, it refused the data): the data is never lost, and
// the reason is in the log and .pithosfs/uploads.
func Commit(err error) syscall.Errno {
	var qe *writeback.QuotaError
	if errors.As(err, &qe) {
		return syscall.EDQUOT
	}
	return syscall.EIO
}

// Spec maps the failure of a request a control file's spec made (create a
// server, register an image, run an action): a resource it names that does
// not exist (a flavor, an image, a network) makes the spec invalid, EINVAL;
// anything else as Errno.
func Spec(err error) syscall.Errno {
	var c carrier
	if !errors.As(err, &c) && errors.Is(err, fault.ErrNotFound) {
		return syscall.EINVAL
	}
	return Errno(err)
}

// Status is the HTTP status in err, 0 without one: for log lines only (the
// operation, the path, the status, the errno), never to decide.
func Status(err error) int { return synnefo.StatusOf(err) }
