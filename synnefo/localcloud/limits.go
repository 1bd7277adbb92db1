package localcloud

import (
	"context"
	"io"
)

// DefaultMaxSourceBytes is how much data one POST with X-Source-Object (an
// append or range write from another object, or the object itself) may
// copy when Config.MaxSourceBytes is 0: 5 GiB, the largest single upload.
const DefaultMaxSourceBytes int64 = 5 << 30

func (c *Cloud) maxSourceBytes() int64 {
	if c.cfg.MaxSourceBytes > 0 {
		return c.cfg.MaxSourceBytes
	}
	return DefaultMaxSourceBytes
}

// checkWriteAccess answers 403 unless the request's user may write the
// request's object.
func (c *Cloud) checkWriteAccess(p *preq) *fault {
	var out *fault
	_ = c.store.view(func(t *txn) error {
		out = t.writeAccess(p.user.UUID, p.acct, p.cont, p.obj)
		return nil
	})
	return out
}

// ctxReader reads r until ctx ends: a server-side copy stops when the
// client that asked for it goes away.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
