package pithos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// SwiftAuth performs Swift v1.0 authentication (GET authURL with X-Auth-User/X-Auth-Key) and returns
// the storage URL and token.
func SwiftAuth(ctx context.Context, authURL, user, key string, opts synnefo.Options) (storageURL, token string, err error) {
	hc, err := synnefo.NewClient(authURL, "", opts)
	if err != nil {
		return "", "", fmt.Errorf("pithos: %w", err)
	}
	h := http.Header{}
	h.Set("X-Auth-User", user)
	h.Set("X-Auth-Key", key)
	resp, err := hc.Do(ctx, &synnefo.Request{Method: http.MethodGet, Header: h})
	if err != nil {
		return "", "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	storageURL, token = resp.Header.Get("X-Storage-Url"), resp.Header.Get("X-Auth-Token")
	if storageURL == "" || token == "" {
		return "", "", &synnefo.ClientError{Status: resp.StatusCode, Message: "auth reply without X-Storage-Url or X-Auth-Token"}
	}
	return storageURL, token, nil
}

// NewSwift authenticates with Swift v1.0 auth and returns a client for the storage URL's account.
func NewSwift(ctx context.Context, authURL, user, key string, opts synnefo.Options) (*Client, error) {
	storageURL, token, err := SwiftAuth(ctx, authURL, user, key, opts)
	if err != nil {
		return nil, err
	}
	c, err := New(storageURL, token, opts)
	if err != nil {
		return nil, err
	}
	if c.Account == "" {
		return nil, fmt.Errorf("pithos: cannot find the account in storage URL %s", storageURL)
	}
	return c, nil
}

func (c *Client) segmentContainer(container string) string {
	if c.cfg.SegmentContainer != "" {
		return c.cfg.SegmentContainer
	}
	return container + "_segments"
}

// swiftUpload stores src on a store without hashmaps: one streamed PUT (chunked when the size is
// unknown), or segments plus a DLO manifest when it is larger than Config.LargeObjectThreshold.
func (c *Client) swiftUpload(ctx context.Context, container, name string, src io.Reader, opts UploadOptions) (*PutResult, error) {
	ra, size := sizedReaderAt(src, opts.Size)
	limit := c.cfg.LargeObjectThreshold
	if size >= 0 && size <= limit {
		body := src
		if ra != nil {
			body = io.NewSectionReader(ra, 0, size)
		}
		return c.PutObject(ctx, container, name, body, size, opts.PutOptions)
	}
	return c.swiftSegments(ctx, container, name, src, ra, size, opts)
}

// swiftSegments uploads src as numbered segments under <segcontainer>/<name>/<timestamp>/ and then
// the manifest object. With an unknown size the first threshold bytes are streamed straight to the
// object; only if more data follows does that object become segment 0 (server-side copy).
func (c *Client) swiftSegments(ctx context.Context, container, name string, src io.Reader, ra io.ReaderAt, size int64, opts UploadOptions) (*PutResult, error) {
	segc := c.segmentContainer(container)
	if _, err := c.CreateContainer(ctx, segc, CreateContainerOptions{}); err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("%s/%d/", name, time.Now().UnixNano())
	segName := func(i int) string { return fmt.Sprintf("%s%08d", prefix, i) }
	segSize := c.cfg.SegmentSize
	segOpts := PutOptions{ContentType: "application/octet-stream"}
	i := 0
	if ra != nil {
		for off := int64(0); off < size; off += segSize {
			n := min(segSize, size-off)
			if _, err := c.PutObject(ctx, segc, segName(i), io.NewSectionReader(ra, off, n), n, segOpts); err != nil {
				return nil, err
			}
			i++
		}
	} else {
		br := bufio.NewReader(src)
		if size < 0 {
			// Stream the first piece to the object itself: most unknown-size uploads are small.
			limit := c.cfg.LargeObjectThreshold
			res, err := c.PutObject(ctx, container, name, io.LimitReader(br, limit), -1, opts.PutOptions)
			if err != nil {
				return nil, err
			}
			if _, err := br.Peek(1); errors.Is(err, io.EOF) {
				return res, nil
			} else if err != nil {
				return nil, fmt.Errorf("pithos: reading upload data: %w", err)
			}
			if _, err := c.CopyObject(ctx, container, name, segc, segName(i), CopyOptions{}); err != nil {
				return nil, err
			}
			i++
		}
		for {
			if _, err := br.Peek(1); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("pithos: reading upload data: %w", err)
			}
			if _, err := c.PutObject(ctx, segc, segName(i), io.LimitReader(br, segSize), -1, segOpts); err != nil {
				return nil, err
			}
			i++
		}
	}
	po := opts.PutOptions
	h := http.Header{}
	applyPut(po, h, "application/octet-stream")
	h.Set("X-Object-Manifest", encodeHeader(segc+"/"+prefix))
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodPut, Path: c.objectPath(container, name),
		Query: jsonQuery(), Header: h, Success: []int{http.StatusCreated, http.StatusOK, http.StatusAccepted}})
	if err != nil {
		return nil, err
	}
	return putResult(resp.Header), nil
}
