package pithos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
)

// GetHashmap returns an object's hashmap (GET ?hashmap&format=json) with the object's headers. Use
// opts.IfMatch to fail (412) if the object changed, opts.Version for an older version.
func (c *Client) GetHashmap(ctx context.Context, container, name string, opts GetOptions) (*Hashmap, *ObjectInfo, error) {
	opts, err := c.pin(ctx, container, name, opts)
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	applyConditions(opts.Conditions, h)
	q := getQuery(opts)
	q.Set("hashmap", "")
	var reply hashmapReply
	resp, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: c.objectPath(container, name),
		Query: q, Header: h, Success: []int{http.StatusOK}}, nil, &reply)
	if err != nil {
		return nil, nil, err
	}
	hm := Hashmap{BlockSize: reply.BlockSize, BlockHash: reply.BlockHash, Bytes: reply.Bytes, Hashes: reply.Hashes}
	if hm.BlockSize <= 0 {
		return nil, nil, fmt.Errorf("pithos: %s/%s: hashmap reply without block size", container, name)
	}
	info := objectInfoFromHeader(name, resp.Header)
	info.Bytes = hm.Bytes // Content-Length is the JSON's length here
	c.versionTimes(info)
	return &hm, info, nil
}

// ReadBlock reads block index of the object described by hm (a range GET clamped to the object's
// size; nothing is requested for an empty object). opts.IfMatch should carry the object's ETag.
func (c *Client) ReadBlock(ctx context.Context, container, name string, hm *Hashmap, index int, opts GetOptions) ([]byte, error) {
	if index < 0 || index >= len(hm.Hashes) {
		return nil, fmt.Errorf("pithos: block %d out of range (%d blocks)", index, len(hm.Hashes))
	}
	return c.ReadRange(ctx, container, name, int64(index)*hm.BlockSize, hm.BlockSize, hm.Bytes, opts)
}

// DownloadOptions are the settings of DownloadObject.
type DownloadOptions struct {
	GetOptions
	// Resume, when set (usually the destination file itself), is checked block by block: a block whose
	// local bytes already hash to the remote hash is neither downloaded nor rewritten.
	Resume io.ReaderAt
	// Concurrency bounds parallel block downloads (0 = Config.Concurrency).
	Concurrency int
}

// DownloadStats reports what a download did.
type DownloadStats struct {
	Blocks     int   // blocks of the object
	Fetched    int   // distinct blocks requested from the server
	Reused     int   // blocks found in Resume
	BytesFetch int64 // body bytes received
}

// DownloadObject writes the object to w. On Pithos+ it reads the hashmap, fetches each distinct block
// once with a range GET (If-Match the hashmap's ETag, in parallel) and writes it at every offset that
// uses it; blocks Resume already holds are skipped. Manifest objects are streamed with one GET. If w has Truncate(int64) error (an *os.File) it
// is truncated to the object's size. On plain Swift the object is streamed with one GET.
func (c *Client) DownloadObject(ctx context.Context, container, name string, w io.WriterAt, opts DownloadOptions) (*ObjectInfo, *DownloadStats, error) {
	caps, err := c.Capabilities(ctx, container)
	if err != nil {
		return nil, nil, err
	}
	if !caps.Hashmaps {
		return c.streamDownload(ctx, container, name, w, opts)
	}
	hm, info, err := c.GetHashmap(ctx, container, name, opts.GetOptions)
	if err != nil {
		return nil, nil, err
	}
	if info.Manifest != "" {
		// A manifest object's data is its parts, which its own (empty) hashmap does not describe.
		return c.streamDownload(ctx, container, name, w, opts)
	}
	st := &DownloadStats{Blocks: len(hm.Hashes)}
	if hm.Bytes > 0 {
		if err := c.fetchBlocks(ctx, container, name, hm, info.ETag, w, opts, st); err != nil {
			return nil, st, err
		}
	}
	if t, ok := w.(interface{ Truncate(int64) error }); ok {
		if err := t.Truncate(hm.Bytes); err != nil {
			return nil, st, fmt.Errorf("pithos: truncating download of %s: %w", name, err)
		}
	}
	return info, st, nil
}

// blockUse is one place a block goes: its index and length.
type blockUse struct {
	index  int
	length int64
}

func (c *Client) fetchBlocks(ctx context.Context, container, name string, hm *Hashmap, etag string, w io.WriterAt, opts DownloadOptions, st *DownloadStats) error {
	bs := hm.BlockSize
	uses := map[string][]blockUse{}
	var order []string
	for i, h := range hm.Hashes {
		off := int64(i) * bs
		if off >= hm.Bytes {
			break
		}
		u := blockUse{i, min(bs, hm.Bytes-off)}
		if opts.Resume != nil && localHas(opts.Resume, off, u.length, h) {
			st.Reused++
			continue
		}
		if _, ok := uses[h]; !ok {
			order = append(order, h)
		}
		uses[h] = append(uses[h], u)
	}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = c.cfg.Concurrency
	}
	get := opts.GetOptions
	if etag != "" && get.IfMatch == "" {
		get.IfMatch = etag
	}
	get.IfNoneMatch, get.IfModifiedSince = "", time.Time{} // would turn block reads into 304s
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	fetched := make([]int64, len(order))
	pool := sync.Pool{New: func() any { b := make([]byte, bs); return &b }}
	for k, h := range order {
		us := uses[h]
		// Fetch the longest use: a short last block is a prefix of the same hash's full block.
		src := us[0]
		for _, u := range us[1:] {
			if u.length > src.length {
				src = u
			}
		}
		g.Go(func() error {
			bp := pool.Get().(*[]byte)
			defer pool.Put(bp)
			data, err := c.readRangeInto(gctx, container, name, int64(src.index)*bs, (*bp)[:src.length], get)
			if err != nil {
				return err
			}
			fetched[k] = int64(len(data))
			if int64(len(data)) != src.length {
				return fmt.Errorf("pithos: %s block %d: got %d bytes, want %d", name, src.index, len(data), src.length)
			}
			// A full block must hash to its entry; a short last block may carry stale bytes past EOF (§9.4).
			if src.length == bs && hashmap.BlockHashHex(data) != h {
				return fmt.Errorf("pithos: %s block %d: hash mismatch", name, src.index)
			}
			for _, u := range us {
				if _, err := w.WriteAt(data[:u.length], int64(u.index)*bs); err != nil {
					return fmt.Errorf("pithos: writing block %d of %s: %w", u.index, name, err)
				}
			}
			return nil
		})
	}
	err := g.Wait()
	st.Fetched = len(order)
	for _, n := range fetched {
		st.BytesFetch += n
	}
	return err
}

// localHas reports whether the length bytes at off of r hash to h (trailing zeros stripped).
func localHas(r io.ReaderAt, off, length int64, h string) bool {
	buf := make([]byte, length)
	n, err := r.ReadAt(buf, off)
	if int64(n) != length || (err != nil && !errors.Is(err, io.EOF)) {
		return false
	}
	return hashmap.BlockHashHex(buf) == h
}

// streamDownload copies the whole object (Swift: no hashmaps) into w.
func (c *Client) streamDownload(ctx context.Context, container, name string, w io.WriterAt, opts DownloadOptions) (*ObjectInfo, *DownloadStats, error) {
	obj, err := c.GetObject(ctx, container, name, opts.GetOptions)
	if err != nil {
		return nil, nil, err
	}
	defer obj.Body.Close()
	n, err := io.Copy(io.NewOffsetWriter(w, 0), obj.Body)
	st := &DownloadStats{Blocks: 1, Fetched: 1, BytesFetch: n}
	if err != nil {
		return nil, st, fmt.Errorf("pithos: downloading %s: %w", name, err)
	}
	if t, ok := w.(interface{ Truncate(int64) error }); ok {
		if err := t.Truncate(n); err != nil {
			return nil, st, err
		}
	}
	obj.Info.Bytes = n
	return obj.Info, st, nil
}
