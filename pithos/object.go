package pithos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/synnefo"
)

func objectInfoFromHeader(name string, h http.Header) *ObjectInfo {
	o := &ObjectInfo{
		Name:               name,
		Bytes:              headerInt(h, "Content-Length"),
		ContentType:        decodeHeader(h.Get("Content-Type")),
		ETag:               strings.Trim(h.Get("ETag"), `"`),
		Hash:               decodeHeader(h.Get("X-Object-Hash")),
		UUID:               decodeHeader(h.Get("X-Object-UUID")),
		Version:            headerInt(h, "X-Object-Version"),
		VersionTimestamp:   headerTime(h, "X-Object-Version-Timestamp"),
		LastModified:       headerTime(h, "Last-Modified"),
		ModifiedBy:         decodeHeader(h.Get("X-Object-Modified-By")),
		Meta:               readMeta(h, "X-Object-Meta-"),
		SharedBy:           decodeHeader(h.Get("X-Object-Shared-By")),
		AllowedTo:          decodeHeader(h.Get("X-Object-Allowed-To")),
		Public:             decodeHeader(h.Get("X-Object-Public")),
		ContentEncoding:    decodeHeader(h.Get("Content-Encoding")),
		ContentDisposition: decodeHeader(h.Get("Content-Disposition")),
		Manifest:           decodeHeader(h.Get("X-Object-Manifest")),
	}
	if cr := h.Get("Content-Range"); cr != "" {
		if i := strings.LastIndex(cr, "/"); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				o.Bytes = n
			}
		}
	}
	o.Sharing, _ = ParseSharing(decodeHeader(h.Get("X-Object-Sharing")))
	return o
}

func getQuery(g GetOptions) url.Values {
	q := jsonQuery()
	if g.Version > 0 {
		q.Set("version", strconv.FormatInt(g.Version, 10))
	}
	return q
}

// ObjectInfo returns an object's attributes and metadata (HEAD → 200). A failed precondition is a
// fault.ErrPrecondition (If-Match) or fault.ErrNotModified (If-None-Match).
func (c *Client) ObjectInfo(ctx context.Context, container, name string, opts GetOptions) (*ObjectInfo, error) {
	opts, err := c.pin(ctx, container, name, opts)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	applyConditions(opts.Conditions, h)
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodHead, Path: c.objectPath(container, name),
		Query: getQuery(opts), Header: h, Success: []int{http.StatusOK, http.StatusNoContent}})
	if err != nil {
		return nil, err
	}
	info := objectInfoFromHeader(name, resp.Header)
	c.versionTimes(info)
	return info, nil
}

// Object is an open object body. Close it.
type Object struct {
	Info *ObjectInfo
	Body io.ReadCloser
}

// GetObject opens the whole object (or a version) for reading.
func (c *Client) GetObject(ctx context.Context, container, name string, opts GetOptions) (*Object, error) {
	opts, err := c.pin(ctx, container, name, opts)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	applyConditions(opts.Conditions, h)
	resp, err := c.http.Do(ctx, &synnefo.Request{Method: http.MethodGet, Path: c.objectPath(container, name),
		Query: getQuery(opts), Header: h, Success: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	info := objectInfoFromHeader(name, resp.Header)
	c.versionTimes(info)
	return &Object{Info: info, Body: resp.Body}, nil
}

// ReadRange reads length bytes at offset of an object of the given size (size < 0: unknown, no
// clamping). The range is clamped to end at size-1, and no request is made for an empty object or an
// offset at or past the end: Pithos+ answers 416 to any range past EOF.
func (c *Client) ReadRange(ctx context.Context, container, name string, offset, length, size int64, opts GetOptions) ([]byte, error) {
	if offset < 0 || length < 0 {
		return nil, fmt.Errorf("pithos: bad range %d+%d", offset, length)
	}
	if size >= 0 {
		if offset >= size {
			return nil, nil
		}
		length = min(length, size-offset)
	}
	if length == 0 {
		return nil, nil
	}
	return c.readRangeInto(ctx, container, name, offset, make([]byte, length), opts)
}

// ReadRangeInto is ReadRange into the caller's buffer: it reads up to len(buf) bytes at offset
// (clamped like ReadRange's) into buf, overwriting it, and returns the part of buf filled.
func (c *Client) ReadRangeInto(ctx context.Context, container, name string, offset, size int64, buf []byte, opts GetOptions) ([]byte, error) {
	if offset < 0 {
		return nil, fmt.Errorf("pithos: bad range %d+%d", offset, len(buf))
	}
	length := int64(len(buf))
	if size >= 0 {
		if offset >= size {
			return buf[:0], nil
		}
		length = min(length, size-offset)
	}
	if length == 0 {
		return buf[:0], nil
	}
	return c.readRangeInto(ctx, container, name, offset, buf[:length], opts)
}

// readRangeInto fills buf from offset (the range must lie inside the object) and returns the bytes read.
// A reply whose body ends before its Content-Length (the connection dropped or was reset mid-body) is not
// a shorter object: the rest is asked for again (a range from where it stopped, the same pinned version),
// up to maxResumes times. Such a body used to be returned as it was, short: the block cache then refused
// it (its hash, or for a Swift object its length) and the read failed with EIO.
func (c *Client) readRangeInto(ctx context.Context, container, name string, offset int64, buf []byte, opts GetOptions) ([]byte, error) {
	opts, err := c.pin(ctx, container, name, opts)
	if err != nil {
		return nil, err
	}
	n := 0
	for resumes := 0; ; resumes++ {
		m, err := c.readRangeOnce(ctx, container, name, offset+int64(n), buf[n:], opts)
		n += m
		var re *requestError
		switch {
		case err == nil:
			return buf[:n], nil // all of it, or the object ends sooner
		case errors.As(err, &re):
			return nil, re.err // the request itself failed (the client retried what it could)
		case !synnefo.BodyRetryable(ctx, err) || resumes >= maxResumes:
			return nil, fmt.Errorf("pithos: reading %s/%s: %w", container, name, err)
		}
		c.log.Debug("pithos: reply cut mid-body; reading the rest", zap.String("container", container),
			zap.String("name", name), zap.Int64("offset", offset+int64(n)), zap.Int("resume", resumes+1), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("pithos: reading %s/%s: %w", container, name, ctx.Err())
		case <-time.After(time.Duration(resumes) * 100 * time.Millisecond):
		}
	}
}

// maxResumes bounds how often one range read asks again for the rest of a reply cut mid-body.
const maxResumes = 5

// errCut is a reply body that ended before its Content-Length.
var errCut = errors.New("reply cut short")

// requestError is a range read's request that failed (its status, or no reply after the client's
// retries), as opposed to its body.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// readRangeOnce makes one ranged GET into buf and returns the bytes read (fewer than len(buf) when the
// object ends sooner). A failed request is a *requestError; a body that ends before its Content-Length
// is errCut, and one that fails is the read's error, with the bytes read until then.
func (c *Client) readRangeOnce(ctx context.Context, container, name string, offset int64, buf []byte, opts GetOptions) (int, error) {
	length := int64(len(buf))
	h := http.Header{}
	applyConditions(opts.Conditions, h)
	h.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	resp, err := c.http.Do(ctx, &synnefo.Request{Method: http.MethodGet, Path: c.objectPath(container, name),
		Query: getQuery(opts), Header: h, Success: []int{http.StatusOK, http.StatusPartialContent}})
	if err != nil {
		return 0, &requestError{err}
	}
	defer resp.Body.Close()
	want := resp.ContentLength // of the range, or of the whole object for a 200
	if resp.StatusCode == http.StatusOK {
		// Range ignored by the server: skip to the offset.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			return 0, err
		}
		if want >= 0 {
			want = max(want-offset, 0)
		}
	}
	n, err := io.ReadFull(resp.Body, buf)
	switch {
	case err == nil:
		return n, nil
	case err == io.ErrUnexpectedEOF && want >= 0 && int64(n) < min(want, length):
		return n, errCut
	case err == io.ErrUnexpectedEOF:
		return n, nil // the object ends before the range
	}
	return n, err
}

func applyPut(p PutOptions, h http.Header, defaultType string) {
	ct := p.ContentType
	if ct == "" {
		ct = defaultType
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	if p.ContentEncoding != "" {
		h.Set("Content-Encoding", encodeHeader(p.ContentEncoding))
	}
	if p.ContentDisposition != "" {
		h.Set("Content-Disposition", encodeHeader(p.ContentDisposition))
	}
	setMeta(h, "X-Object-Meta-", p.Meta)
	if p.Sharing != nil {
		h.Set("X-Object-Sharing", encodeHeader(p.Sharing.String()))
	}
	if p.Public != nil {
		h.Set("X-Object-Public", strconv.FormatBool(*p.Public))
	}
	applyConditions(p.Conditions, h)
}

func putResult(h http.Header) *PutResult {
	v, _ := strconv.ParseInt(strings.TrimSpace(h.Get("X-Object-Version")), 10, 64)
	return &PutResult{ETag: strings.Trim(h.Get("ETag"), `"`), Version: v}
}

// PutObject stores body as the whole object in one request (a data PUT). size < 0 sends it chunked.
// A body of type *bytes.Reader, *strings.Reader, *bytes.Buffer or *io.SectionReader is replayed on retry.
func (c *Client) PutObject(ctx context.Context, container, name string, body io.Reader, size int64, opts PutOptions) (*PutResult, error) {
	h := http.Header{}
	applyPut(opts, h, "application/octet-stream")
	req := &synnefo.Request{Method: http.MethodPut, Path: c.objectPath(container, name), Query: jsonQuery(),
		Header: h, Success: []int{http.StatusCreated, http.StatusOK, http.StatusAccepted}}
	setBody(req, body, size)
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return putResult(resp.Header), nil
}

// setBody attaches body with its size; size 0 sends no body ("Content-Length: 0"), size < 0 chunked.
func setBody(req *synnefo.Request, body io.Reader, size int64) {
	if body == nil || size == 0 {
		return
	}
	req.Body = body
	req.ContentLength = size
	if size < 0 {
		req.ContentLength = -1
	}
	if sr, ok := body.(*io.SectionReader); ok {
		base, off, n := sr.Outer()
		pos, _ := sr.Seek(0, io.SeekCurrent)
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(base, off+pos, n-pos)), nil
		}
	}
}

// CreateDirectory creates a directory marker: a 0-byte object of type application/directory.
func (c *Client) CreateDirectory(ctx context.Context, container, name string, meta map[string]string) (*PutResult, error) {
	return c.PutObject(ctx, container, name, nil, 0, PutOptions{ContentType: DirectoryType, Meta: meta})
}

// DeleteOptions select a non-plain object DELETE.
type DeleteOptions struct {
	Delimiter string // also delete every object named <name><delimiter>… (the object itself must exist)
	Until     int64  // purge versions older than this Unix time instead of deleting
}

// DeleteObject deletes an object (204); 404 when missing or already deleted.
func (c *Client) DeleteObject(ctx context.Context, container, name string, opts DeleteOptions) error {
	q := jsonQuery()
	if opts.Delimiter != "" {
		q.Set("delimiter", opts.Delimiter)
	}
	if opts.Until > 0 {
		q.Set("until", strconv.FormatInt(opts.Until, 10))
	}
	_, err := c.do(ctx, &synnefo.Request{Method: http.MethodDelete, Path: c.objectPath(container, name), Query: q,
		Success: []int{http.StatusNoContent, http.StatusOK}})
	return err
}

// UpdateObjectMeta changes an object's metadata (POST → 202). Content-Type cannot be changed this way.
func (c *Client) UpdateObjectMeta(ctx context.Context, container, name string, opts MetaOptions) (*PutResult, error) {
	h := http.Header{}
	setMeta(h, "X-Object-Meta-", opts.Meta)
	if opts.ContentEncoding != "" {
		h.Set("Content-Encoding", encodeHeader(opts.ContentEncoding))
	}
	if opts.ContentDisposition != "" {
		h.Set("Content-Disposition", encodeHeader(opts.ContentDisposition))
	}
	if opts.Manifest != "" {
		h.Set("X-Object-Manifest", encodeHeader(opts.Manifest))
	}
	if opts.ContentType != "" {
		h.Set("Content-Type", opts.ContentType)
	}
	applyConditions(opts.Conditions, h)
	q := jsonQuery("update")
	if opts.Replace {
		q.Del("update")
	}
	return c.postObject(ctx, container, name, q, h)
}

// SetObjectMeta merges meta into an object's metadata; an empty value deletes a key.
func (c *Client) SetObjectMeta(ctx context.Context, container, name string, meta map[string]string) (*PutResult, error) {
	return c.UpdateObjectMeta(ctx, container, name, MetaOptions{Meta: meta})
}

// DeleteObjectMeta removes one metadata key.
func (c *Client) DeleteObjectMeta(ctx context.Context, container, name, key string) (*PutResult, error) {
	return c.SetObjectMeta(ctx, container, name, map[string]string{key: ""})
}

func (c *Client) postObject(ctx context.Context, container, name string, q url.Values, h http.Header) (*PutResult, error) {
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodPost, Path: c.objectPath(container, name), Query: q,
		Header: h, Success: []int{http.StatusAccepted, http.StatusNoContent, http.StatusOK}, Idempotent: true})
	if err != nil {
		return nil, err
	}
	return putResult(resp.Header), nil
}

// SetSharing sets an object's permissions; a zero Sharing removes them all.
func (c *Client) SetSharing(ctx context.Context, container, name string, s Sharing) error {
	h := http.Header{}
	h.Set("X-Object-Sharing", encodeHeader(s.String()))
	_, err := c.postObject(ctx, container, name, jsonQuery("update"), h)
	return err
}

// Publish makes an object public and returns its public URL.
func (c *Client) Publish(ctx context.Context, container, name string) (string, error) {
	h := http.Header{}
	h.Set("X-Object-Public", "true")
	if _, err := c.postObject(ctx, container, name, jsonQuery("update"), h); err != nil {
		return "", err
	}
	info, err := c.ObjectInfo(ctx, container, name, GetOptions{})
	if err != nil {
		return "", err
	}
	return info.Public, nil
}

// Unpublish removes an object's public URL.
func (c *Client) Unpublish(ctx context.Context, container, name string) error {
	h := http.Header{}
	h.Set("X-Object-Public", "false")
	_, err := c.postObject(ctx, container, name, jsonQuery("update"), h)
	return err
}

// Version is one entry of an object's version list.
type Version struct {
	ID        int64
	Timestamp time.Time
}

// ListVersions returns the object's versions, oldest first (GET ?version=list).
func (c *Client) ListVersions(ctx context.Context, container, name string) ([]Version, error) {
	q := jsonQuery()
	q.Set("version", "list")
	var reply struct {
		Versions [][2]flexString `json:"versions"`
	}
	if _, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: c.objectPath(container, name),
		Query: q, Success: []int{http.StatusOK}}, nil, &reply); err != nil {
		return nil, err
	}
	out := make([]Version, 0, len(reply.Versions))
	for _, v := range reply.Versions {
		id, err := strconv.ParseInt(string(v[0]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pithos: bad version id %q", v[0])
		}
		out = append(out, Version{ID: id, Timestamp: parseUnixDecimal(string(v[1]))})
	}
	return out, nil
}
