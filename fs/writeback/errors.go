package writeback

import (
	"context"
	"errors"
	"fmt"

	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// QuotaError reports a commit the server refused for lack of quota (413). The
// data stays in the journal; fs maps it to ENOSPC or EDQUOT.
type QuotaError struct {
	Container, Name string
	Err             error
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("writeback: %s/%s: over quota: %v", e.Container, e.Name, e.Err)
}

func (e *QuotaError) Unwrap() error { return e.Err }

// CommitError reports a commit that did not reach the server. The data stays
// in the journal; a transient failure (Permanent false: network, 5xx) is
// retried in the background, a permanent one (the server refused the request
// with a 4xx) on the next Commit and at the next mount's Recover. fs maps it
// to EIO.
type CommitError struct {
	Container, Name string
	Permanent       bool
	Err             error
}

func (e *CommitError) Error() string {
	kind := "commit failed (will retry)"
	if e.Permanent {
		kind = "commit refused"
	}
	return fmt.Sprintf("writeback: %s/%s: %s: %v", e.Container, e.Name, kind, e.Err)
}

func (e *CommitError) Unwrap() error { return e.Err }

// ConflictError reports that the object changed on the server after the file
// was opened (If-Match failed): the user's version was committed as
// ConflictName beside the original, which is untouched. The File now stands
// for ConflictName.
type ConflictError struct {
	Container, Name string
	ConflictName    string
	ETag            string // ETag of the conflict copy
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("writeback: %s/%s changed on the server; this version was saved as %s", e.Container, e.Name, e.ConflictName)
}

// classify turns an error of the object-store client into QuotaError or
// CommitError. Journal (local disk) errors are returned as they are.
func classify(container, name string, err error) error {
	if err == nil {
		return nil
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return err
	}
	switch {
	case errors.Is(err, fault.ErrQuota):
		return &QuotaError{Container: container, Name: name, Err: err}
	case fault.Refused(err) || errors.Is(err, fault.ErrUnauthorized) || errors.Is(err, fault.ErrPrecondition):
		// The server refused this request; only a changed request (a new
		// token, a conflict copy) can succeed.
		return &CommitError{Container: container, Name: name, Permanent: true, Err: err}
	}
	return &CommitError{Container: container, Name: name, Err: err}
}

// unreachable reports whether err is a commit that failed for want of the
// server (a network error or a 5xx after the client's retries) rather than
// because it refused the commit or the local disk failed.
func unreachable(err error) bool {
	var c *CommitError
	if !errors.As(err, &c) || c.Permanent || errors.Is(err, context.Canceled) {
		return false
	}
	return !errors.Is(err, fault.ErrBusy) && !errors.Is(err, fault.ErrNotModified)
}

// retryable reports whether a background retry can help.
func retryable(err error) bool {
	var q *QuotaError
	if errors.As(err, &q) {
		return true
	}
	var c *CommitError
	if errors.As(err, &c) {
		return !c.Permanent
	}
	return false
}
