package pithos

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// CopyOptions are the settings of a server-side copy or move.
type CopyOptions struct {
	// Delimiter also copies/moves every object named <src><Delimiter>… to <dst><Delimiter>… (a
	// directory subtree; the source object itself should exist, e.g. a directory marker).
	Delimiter         string
	SourceAccount     string // default: the client's account
	SourceVersion     int64  // copy only: copy this version (restore)
	ContentType       string // "" keeps the source's type
	IgnoreContentType bool
	Meta              map[string]string // merged over the source's metadata; "" deletes a key
	Sharing           *Sharing          // destination permissions (the source's are not copied)
	Public            *bool
	// Conditions: with PUT (the default) they are checked against the destination (If-None-Match "*"
	// = no clobber); with UseMethod (COPY/MOVE) against the source.
	Conditions
	// UseMethod sends the COPY/MOVE method with a Destination header instead of PUT X-Copy-From /
	// X-Move-From.
	UseMethod bool
}

// CopyObject copies src to dst server-side (201). The copy gets a new UUID.
func (c *Client) CopyObject(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts CopyOptions) (*PutResult, error) {
	return c.transfer(ctx, false, srcContainer, srcName, dstContainer, dstName, opts)
}

// MoveObject moves (renames) src to dst server-side, keeping the object's UUID. On plain Swift,
// which has no move, it copies then deletes (subtrees object by object).
func (c *Client) MoveObject(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts CopyOptions) (*PutResult, error) {
	caps, err := c.Capabilities(ctx, srcContainer)
	if err != nil {
		return nil, err
	}
	if !caps.Hashmaps {
		return c.swiftMove(ctx, srcContainer, srcName, dstContainer, dstName, opts)
	}
	return c.transfer(ctx, true, srcContainer, srcName, dstContainer, dstName, opts)
}

func (c *Client) transfer(ctx context.Context, move bool, srcContainer, srcName, dstContainer, dstName string, opts CopyOptions) (*PutResult, error) {
	h := http.Header{}
	if opts.ContentType != "" {
		h.Set("Content-Type", opts.ContentType)
	}
	setMeta(h, "X-Object-Meta-", opts.Meta)
	if opts.Sharing != nil {
		h.Set("X-Object-Sharing", encodeHeader(opts.Sharing.String()))
	}
	if opts.Public != nil {
		h.Set("X-Object-Public", strconv.FormatBool(*opts.Public))
	}
	applyConditions(opts.Conditions, h)
	if !move && opts.SourceVersion > 0 {
		h.Set("X-Source-Version", strconv.FormatInt(opts.SourceVersion, 10))
	}
	q := jsonQuery()
	if opts.Delimiter != "" {
		q.Set("delimiter", opts.Delimiter)
	}
	if opts.IgnoreContentType {
		q.Set("ignore_content_type", "")
	}
	req := &synnefo.Request{Query: q, Header: h, Success: []int{http.StatusCreated, http.StatusAccepted, http.StatusOK}}
	if opts.UseMethod {
		req.Method = "COPY"
		if move {
			req.Method = "MOVE"
		}
		req.Path = c.objectPath(srcContainer, srcName)
		h.Set("Destination", encodeHeader("/"+dstContainer+"/"+dstName))
		if opts.SourceAccount != "" && opts.SourceAccount != c.Account {
			// The request goes to the source account; the destination is ours.
			req.Path = "/" + opts.SourceAccount + "/" + srcContainer + "/" + srcName
			h.Set("Destination-Account", encodeHeader(c.Account))
		}
		req.Idempotent = !move
		req.NotIdempotent = move
	} else {
		req.Method = http.MethodPut
		req.Path = c.objectPath(dstContainer, dstName)
		from := "X-Copy-From"
		if move {
			from = "X-Move-From"
		}
		h.Set(from, encodeHeader("/"+srcContainer+"/"+srcName))
		if opts.SourceAccount != "" {
			h.Set("X-Source-Account", encodeHeader(opts.SourceAccount))
		}
		req.NotIdempotent = move
	}
	resp, err := c.do(ctx, req)
	if err != nil && move && synnefo.StatusOf(err) == 0 && c.moved(ctx, srcContainer, srcName, dstContainer, dstName, opts.SourceAccount) {
		// The reply was lost but the move happened (a move is never replayed:
		// the replay would fail with 404 on the vanished source).
		return &PutResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	res := putResult(resp.Header)
	if move {
		res.Version = 0 // Pithos+ sends a tuple repr here after moves (§8.5): HEAD the destination
	}
	return res, nil
}

// swiftMove copies and then deletes, object by object for a subtree.
func (c *Client) swiftMove(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts CopyOptions) (*PutResult, error) {
	delim := opts.Delimiter
	opts.Delimiter, opts.UseMethod = "", false
	res, err := c.CopyObject(ctx, srcContainer, srcName, dstContainer, dstName, opts)
	if err != nil {
		return nil, err
	}
	if delim != "" {
		l, err := c.ListObjects(ctx, srcContainer, ListOptions{Prefix: srcName + delim})
		if err != nil {
			return nil, err
		}
		for _, o := range l.Objects {
			rest := o.Name[len(srcName):]
			if _, err := c.CopyObject(ctx, srcContainer, o.Name, dstContainer, dstName+rest, opts); err != nil {
				return nil, err
			}
			if err := c.DeleteObject(ctx, srcContainer, o.Name, DeleteOptions{}); err != nil {
				return nil, err
			}
		}
	}
	if err := c.DeleteObject(ctx, srcContainer, srcName, DeleteOptions{}); err != nil {
		return nil, err
	}
	return res, nil
}

// moved reports whether a move whose reply was lost took effect: the source
// is gone and the destination exists.
func (c *Client) moved(ctx context.Context, srcContainer, srcName, dstContainer, dstName, srcAccount string) bool {
	src := c
	if srcAccount != "" && srcAccount != c.Account {
		src = c.WithAccount(srcAccount)
	}
	if _, err := src.ObjectInfo(ctx, srcContainer, srcName, GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		return false
	}
	_, err := c.ObjectInfo(ctx, dstContainer, dstName, GetOptions{})
	return err == nil
}
