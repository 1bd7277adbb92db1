package pithos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/pithosfs/pithosfs/synnefo"
)

// WriteOptions are the preconditions of an in-place data write (POST, Pithos+ only).
type WriteOptions struct {
	Conditions
}

// AppendObject appends size bytes of data at the end of an existing object (POST ?update with
// Content-Range: bytes */*). size < 0 sends the data chunked. Not retried (an append is not
// idempotent) unless the data provably never left.
func (c *Client) AppendObject(ctx context.Context, container, name string, data io.Reader, size int64, opts WriteOptions) (*PutResult, error) {
	return c.postData(ctx, container, name, "bytes */*", data, size, opts, false)
}

// WriteAt overwrites (or, at offset = size, appends) len(data) bytes at offset of an existing object
// (Content-Range: bytes <offset>-<end>/*). The server refuses offsets past the end (416): no holes.
func (c *Client) WriteAt(ctx context.Context, container, name string, offset int64, data []byte, opts WriteOptions) (*PutResult, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("pithos: empty write")
	}
	cr := fmt.Sprintf("bytes %d-%d/*", offset, offset+int64(len(data))-1)
	return c.postData(ctx, container, name, cr, bytes.NewReader(data), int64(len(data)), opts, true)
}

func (c *Client) postData(ctx context.Context, container, name, contentRange string, data io.Reader, size int64, opts WriteOptions, idempotent bool) (*PutResult, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Range", contentRange)
	applyConditions(opts.Conditions, h)
	req := &synnefo.Request{Method: http.MethodPost, Path: c.objectPath(container, name), Query: jsonQuery("update"),
		Header: h, Success: []int{http.StatusNoContent, http.StatusOK, http.StatusAccepted}}
	req.Idempotent = idempotent
	setBody(req, data, size)
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return putResult(resp.Header), nil
}

// TruncateObject sets an object's size. Shrinking uses POST with X-Object-Bytes (the object copied onto
// itself, §15.3); growing appends zeros, since Pithos+ cannot grow an object with X-Object-Bytes.
func (c *Client) TruncateObject(ctx context.Context, container, name string, size int64, opts WriteOptions) (*PutResult, error) {
	info, err := c.ObjectInfo(ctx, container, name, GetOptions{Conditions: Conditions{IfMatch: opts.IfMatch}})
	if err != nil {
		return nil, err
	}
	switch {
	case size == info.Bytes:
		return &PutResult{ETag: info.ETag, Version: info.Version}, nil
	case size > info.Bytes:
		return c.AppendObject(ctx, container, name, io.LimitReader(zeroReader{}, size-info.Bytes), size-info.Bytes, opts)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Range", "bytes 0-0/*")
	h.Set("X-Source-Object", encodeHeader("/"+container+"/"+name))
	h.Set("X-Object-Bytes", strconv.FormatInt(size, 10))
	applyConditions(opts.Conditions, h)
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodPost, Path: c.objectPath(container, name),
		Query: jsonQuery("update"), Header: h, Idempotent: true,
		Success: []int{http.StatusNoContent, http.StatusOK, http.StatusAccepted}})
	if err != nil {
		return nil, err
	}
	return putResult(resp.Header), nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
