package pithos

import (
	"context"
	"fmt"

	"github.com/pithosfs/pithosfs/synnefo"
)

// Errors. Every call's error matches one of the domain errors of package
// fault when the server answered (errors.Is(err, fault.ErrNotFound),
// fault.ErrPrecondition for a failed If-Match, fault.ErrNotEmpty for a
// container DELETE refused because of its objects, fault.ErrQuota,
// fault.ErrUnavailable for no reply or a 5xx, fault.ErrUnreachable too
// when no server was there…), and wraps the
// *synnefo.ClientError with the request and the server's reason for the
// log. Callers decide on those meanings; HTTP status codes stay in this
// package and package synnefo.

// MissingBlocksError is a hashmap commit the server still answers with a
// conflict listing blocks it lacks after the client uploaded them
// Config.MaxHashmapRounds times (the blocks keep vanishing: a concurrent
// purge, a misbehaving server). Retrying later may succeed.
type MissingBlocksError struct {
	Container, Name string
	Missing         []string // the hashes the last reply listed
	Rounds          int
}

func (e *MissingBlocksError) Error() string {
	return fmt.Sprintf("pithos: %s/%s: server still missing %d blocks after %d hashmap PUTs",
		e.Container, e.Name, len(e.Missing), e.Rounds)
}

// FailFast returns a context whose requests are not retried when no server
// is there to answer (connection refused, host unreachable, name
// unresolved): they fail at once with an error matching
// fault.ErrUnreachable. For a caller with someone waiting and an answer of
// its own for that case; a slow or failing server is retried as usual.
func FailFast(ctx context.Context) context.Context { return synnefo.WithFailFast(ctx) }
