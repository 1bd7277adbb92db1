package synnefo

import (
	"context"
	"errors"
	"syscall"
)

type failFastKey struct{}

// WithFailFast returns a context whose requests (Client.Do) are not retried
// when the server is not there (Unreachable): a caller with a user waiting
// and an answer of its own for that case (a directory's last listing) gets
// the error at once instead of after the client's retries (4–5 s by
// default, a minute when each dial times out). A server that answers
// slowly or with an error is retried as without it.
func WithFailFast(ctx context.Context) context.Context {
	return context.WithValue(ctx, failFastKey{}, true)
}

func failFast(ctx context.Context) bool {
	v, _ := ctx.Value(failFastKey{}).(bool)
	return v
}

// Unreachable reports whether a transport error says that no server is
// there to answer: the connection could not be made (refused, no route,
// the dial timed out, the name did not resolve). A connection the peer
// reset is not: a server was there (an overloaded proxy, a restart), and
// the request is retried as before; nor is a stalled request (ErrStalled)
// or a cancelled one.
func Unreachable(err error) bool {
	if err == nil || errors.Is(err, ErrStalled) || errors.Is(err, context.Canceled) {
		return false
	}
	return neverSent(err) || errors.Is(err, syscall.ECONNREFUSED)
}
