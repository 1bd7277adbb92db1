// Package fault names, in domain terms, why a request to a Synnefo service
// (object store, identity, compute, images) failed: not found, precondition
// failed, conflict, forbidden, over quota, unavailable… The service clients'
// errors match these with errors.Is (package synnefo's ClientError maps its
// HTTP status here, in Of: the one place a status becomes a meaning), so the
// layers above them (the mount, the write-back journal) decide on meanings,
// never on status codes. It imports only the standard library: a package
// that must not know HTTP can still tell the failures apart.
package fault

import "errors"

// The domain errors. A service error matches at most one of them, but
// for the two that refine another: ErrNotEmpty (also ErrConflict) and
// ErrUnreachable (also ErrUnavailable).
var (
	// ErrNotFound: the object, container, account or resource does not
	// exist (404, 410).
	ErrNotFound = errors.New("not found")
	// ErrNotModified: an If-None-Match or If-Modified-Since condition held;
	// the caller's copy is current (304).
	ErrNotModified = errors.New("not modified")
	// ErrPrecondition: an If-Match (or If-None-Match: *) condition failed:
	// the object changed, or exists, since the caller looked (412).
	ErrPrecondition = errors.New("precondition failed")
	// ErrConflict: the request conflicts with the resource's state, e.g. a
	// server in the wrong state, a network in use (409).
	ErrConflict = errors.New("conflict")
	// ErrNotEmpty: a container that still holds objects cannot be deleted.
	// The object store answers it with a 409, so it also matches
	// ErrConflict; the client that knows the request returns it.
	ErrNotEmpty = errors.New("not empty")
	// ErrUnauthorized: the token is missing, wrong or expired (401); a new
	// token may succeed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the user may not do this (403).
	ErrForbidden = errors.New("forbidden")
	// ErrQuota: the request would exceed a quota or size limit (413).
	ErrQuota = errors.New("over quota")
	// ErrBusy: the server asks to be asked again later (408, 429).
	ErrBusy = errors.New("try again later")
	// ErrUnavailable: no usable reply: a server error (5xx) or no reply at
	// all (connection refused, reset, timed out) after the client's retries.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnreachable: no server was there to answer: the connection was
	// refused, the host unreachable, its name unresolved. It also
	// matches ErrUnavailable. (A server that accepts the connection and
	// stalls is not unreachable: it is ErrUnavailable once the I/O timeout
	// gives up on it.)
	ErrUnreachable = errors.New("server unreachable")
	// ErrInvalid: the server refused the request itself: bad input (400),
	// no length (411), a range it cannot serve (416), a method it does not
	// allow (405)… any 4xx not named above. Retrying the same request is
	// pointless.
	ErrInvalid = errors.New("invalid request")
)

// Of returns the domain error of an HTTP status: nil for a success (1xx,
// 2xx, 3xx but 304) and for 0 (no reply: callers use ErrUnavailable).
func Of(status int) error {
	switch {
	case status == 304:
		return ErrNotModified
	case status < 400:
		return nil
	case status == 401:
		return ErrUnauthorized
	case status == 403:
		return ErrForbidden
	case status == 404 || status == 410:
		return ErrNotFound
	case status == 408 || status == 429:
		return ErrBusy
	case status == 409:
		return ErrConflict
	case status == 412:
		return ErrPrecondition
	case status == 413:
		return ErrQuota
	case status < 500:
		return ErrInvalid
	default:
		return ErrUnavailable
	}
}

// Refused reports whether err is a request the server refused for good:
// retrying it unchanged cannot succeed (not found, conflict, forbidden,
// invalid). A precondition, quota, expired token or busy server can change,
// so they are not refusals in this sense.
func Refused(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrForbidden) ||
		errors.Is(err, ErrInvalid)
}
