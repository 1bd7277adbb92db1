package pithos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
)

// spoolMemory is how much of a plain io.Reader is kept in memory before spooling to a temp file.
const spoolMemory = 8 << 20

// UploadObject stores src as container/name. On Pithos+ it hashes src into a hashmap, PUTs the
// hashmap, uploads exactly the blocks the server reports missing (in parallel, retried), and PUTs it
// again; blocks the server already has are never sent. An io.ReaderAt of known size is re-read per
// block; any other reader is spooled (to memory up to 8 MiB, then to a temp file). On plain Swift
// it streams the data (as segments plus a manifest above Config.LargeObjectThreshold).
func (c *Client) UploadObject(ctx context.Context, container, name string, src io.Reader, opts UploadOptions) (*PutResult, error) {
	caps, err := c.Capabilities(ctx, container)
	if err != nil {
		return nil, err
	}
	if !caps.Hashmaps {
		return c.swiftUpload(ctx, container, name, src, opts)
	}
	ra, size, cleanup, err := spool(src, opts.Size)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if size == 0 {
		return c.PutObject(ctx, container, name, nil, 0, opts.PutOptions)
	}
	if _, err := hashmap.NewHasher(caps.BlockHash); err != nil {
		return nil, err
	}
	bs := caps.BlockSize
	first := map[string]int64{} // hash → index of its first block
	hm, err := hashmap.HashReader(io.NewSectionReader(ra, 0, size), bs, func(i int, h string, _ []byte) error {
		if _, ok := first[h]; !ok {
			first[h] = int64(i)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pithos: hashing %s: %w", name, err)
	}
	hm.BlockHash = caps.BlockHash
	if hm.Bytes != size {
		return nil, fmt.Errorf("pithos: %s: read %d bytes, expected %d", name, hm.Bytes, size)
	}
	source := func(_ context.Context, h string) ([]byte, error) {
		i, ok := first[h]
		if !ok {
			return nil, fmt.Errorf("pithos: server asked for block %s not in %s", h, name)
		}
		off := i * bs
		buf := make([]byte, min(bs, size-off))
		if _, err := ra.ReadAt(buf, off); err != nil && !(errors.Is(err, io.EOF) && len(buf) > 0) {
			return nil, fmt.Errorf("pithos: re-reading block %d of %s: %w", i, name, err)
		}
		return buf, nil
	}
	return c.CommitHashmap(ctx, container, name, hm, source, CommitOptions{PutOptions: opts.PutOptions, Concurrency: opts.Concurrency})
}

// sizedReaderAt returns src as an io.ReaderAt with its size when both are known (size > 0 given, or
// src reports it: *bytes.Reader, *strings.Reader, *io.SectionReader, a regular *os.File); else nil, -1.
func sizedReaderAt(src io.Reader, size int64) (io.ReaderAt, int64) {
	ra, ok := src.(io.ReaderAt)
	if !ok {
		return nil, -1
	}
	if size > 0 {
		return ra, size
	}
	switch s := src.(type) {
	case interface{ Size() int64 }:
		return ra, s.Size()
	case *os.File:
		if st, err := s.Stat(); err == nil && st.Mode().IsRegular() {
			return ra, st.Size()
		}
	}
	return nil, -1
}

// spool turns src into an io.ReaderAt of known size.
func spool(src io.Reader, size int64) (io.ReaderAt, int64, func(), error) {
	noop := func() {}
	if ra, n := sizedReaderAt(src, size); ra != nil {
		return ra, n, noop, nil
	}
	if src == nil {
		return bytes.NewReader(nil), 0, noop, nil
	}
	head, err := io.ReadAll(io.LimitReader(src, spoolMemory+1))
	if err != nil {
		return nil, 0, noop, fmt.Errorf("pithos: reading upload data: %w", err)
	}
	if len(head) <= spoolMemory {
		return bytes.NewReader(head), int64(len(head)), noop, nil
	}
	f, err := os.CreateTemp("", "pithos-upload-*")
	if err != nil {
		return nil, 0, noop, fmt.Errorf("pithos: spooling upload: %w", err)
	}
	cleanup := func() { _ = f.Close(); _ = os.Remove(f.Name()) }
	_, err = f.Write(head)
	if err == nil {
		var n int64
		n, err = io.Copy(f, src)
		size = int64(len(head)) + n
	}
	if err != nil {
		cleanup()
		return nil, 0, noop, fmt.Errorf("pithos: spooling upload: %w", err)
	}
	return f, size, cleanup, nil
}

// CommitHashmap makes container/name the object described by hm: it PUTs the hashmap and, while the
// server answers 409 with missing blocks, uploads exactly those (read from blocks) and PUTs again, at
// most Config.MaxHashmapRounds times. Preconditions in opts (If-Match: the ETag the edit started
// from; If-None-Match: "*") are checked by the server on every PUT (fault.ErrPrecondition). A server that
// still lacks blocks after the last round is a *MissingBlocksError.
func (c *Client) CommitHashmap(ctx context.Context, container, name string, hm *Hashmap, blocks BlockSource, opts CommitOptions) (*PutResult, error) {
	var missing []string
	for round := 0; round < c.cfg.MaxHashmapRounds; round++ {
		res, m, err := c.PutHashmap(ctx, container, name, hm, opts.PutOptions)
		missing = m
		if err != nil {
			return nil, err
		}
		if len(missing) == 0 {
			return res, nil
		}
		c.log.Debug("pithos: uploading missing blocks", zap.String("object", name), zap.Int("blocks", len(missing)), zap.Int("round", round))
		if err := c.uploadBlocks(ctx, container, missing, blocks, opts.Concurrency, opts.Release); err != nil {
			return nil, err
		}
	}
	return nil, &MissingBlocksError{Container: container, Name: name, Missing: missing, Rounds: c.cfg.MaxHashmapRounds}
}

// PutHashmap sends PUT ?hashmap with hm. It returns the result on 201, or the missing block hashes
// the server listed in its 409 reply (result nil).
func (c *Client) PutHashmap(ctx context.Context, container, name string, hm *Hashmap, opts PutOptions) (*PutResult, []string, error) {
	req, err := hashmapRequest(hm)
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	applyPut(opts, h, "application/octet-stream")
	req.Method, req.Path, req.Query, req.Header = http.MethodPut, c.objectPath(container, name), jsonQuery("hashmap"), h
	req.Success = []int{http.StatusCreated, http.StatusConflict}
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return putResult(resp.Header), nil, nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, &synnefo.ClientError{Status: resp.StatusCode, Message: "reading 409 reply", Err: err}
	}
	var missing []string
	if err := json.Unmarshal(data, &missing); err != nil || len(missing) == 0 {
		// A 409 that is not a missing-block list is a real conflict.
		e := synnefo.NewHTTPError(resp.Status, resp.StatusCode, data)
		e.Method, e.URL = http.MethodPut, c.http.URL(&synnefo.Request{Path: c.objectPath(container, name)})
		return nil, nil, e
	}
	return nil, missing, nil
}

// UploadBlocks uploads the blocks with the given hashes to the container's block store, concurrency
// at a time (0 = Config.Concurrency). Each block is retried by the HTTP layer; blocks that still fail
// are retried in further rounds with backoff while rounds make progress (at most 3 rounds without
// progress). Client errors other than 408/429 (403, 413 quota, …) stop at once.
func (c *Client) UploadBlocks(ctx context.Context, container string, hashes []string, blocks BlockSource, concurrency int) error {
	return c.uploadBlocks(ctx, container, hashes, blocks, concurrency, nil)
}

// uploadBlocks is UploadBlocks calling release (if set) with each block's bytes once its upload is over.
func (c *Client) uploadBlocks(ctx context.Context, container string, hashes []string, blocks BlockSource, concurrency int, release func([]byte)) error {
	if concurrency <= 0 {
		concurrency = c.cfg.Concurrency
	}
	pending := dedupe(hashes)
	stalled := 0
	for round := 0; len(pending) > 0; round++ {
		failed, err := c.uploadRound(ctx, container, pending, blocks, concurrency, release)
		if err != nil {
			return err
		}
		if len(failed) == 0 {
			return nil
		}
		if len(failed) == len(pending) {
			stalled++
		} else {
			stalled = 0
		}
		if stalled >= 3 {
			return fmt.Errorf("pithos: %d blocks failed to upload: %w", len(failed), failed[0].err)
		}
		c.log.Debug("pithos: retrying failed blocks", zap.Int("failed", len(failed)), zap.Int("round", round))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(200<<min(round, 5)) * time.Millisecond):
		}
		pending = pending[:0]
		for _, f := range failed {
			pending = append(pending, f.hash)
		}
	}
	return nil
}

type blockFailure struct {
	hash string
	err  error
}

func (c *Client) uploadRound(ctx context.Context, container string, hashes []string, blocks BlockSource, concurrency int, release func([]byte)) ([]blockFailure, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	failures := make([]error, len(hashes))
	for i, h := range hashes {
		g.Go(func() error {
			data, err := blocks(gctx, h)
			if err != nil {
				return err
			}
			err = c.uploadBlock(gctx, container, data, h)
			if release != nil {
				release(data)
			}
			switch {
			case err == nil:
				return nil
			case permanent(err):
				return err
			}
			failures[i] = err
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var failed []blockFailure
	for i, err := range failures {
		if err != nil {
			failed = append(failed, blockFailure{hashes[i], err})
		}
	}
	return failed, nil
}

// permanent reports whether retrying cannot help: a context end, a hash mismatch or a 4xx reply other
// than 408/429.
func permanent(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errHashMismatch) {
		return true
	}
	s := synnefo.StatusOf(err)
	return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

var errHashMismatch = errors.New("pithos: server stored a different block hash")

// UploadBlock stores one block in the container's block store (POST ?update, Content-Type
// application/octet-stream) and returns its hash after checking the server's reply against it. An
// empty block is sent as one zero byte, which hashes the same.
func (c *Client) UploadBlock(ctx context.Context, container string, data []byte) (string, error) {
	want := hashmap.BlockHashHex(data)
	if err := c.uploadBlock(ctx, container, data, want); err != nil {
		return "", err
	}
	return want, nil
}

// UploadHashedBlock is UploadBlock for a block whose hash the caller has already computed
// (hashmap.BlockHashHex(data)): the server's reply is checked against hash without hashing data again.
func (c *Client) UploadHashedBlock(ctx context.Context, container, hash string, data []byte) error {
	return c.uploadBlock(ctx, container, data, strings.ToLower(hash))
}

// uploadBlock sends data and checks that the server stored it under want (so data that does not match
// its hash, e.g. a block source changed under us, is caught without hashing it again here).
func (c *Client) uploadBlock(ctx context.Context, container string, data []byte, want string) error {
	if len(data) == 0 {
		data = []byte{0}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	var reply []string
	if _, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodPost, Path: c.containerPath(container),
		Query: jsonQuery("update"), Header: h, Body: bytes.NewReader(data), ContentLength: int64(len(data)),
		Idempotent: true, Success: []int{http.StatusAccepted, http.StatusOK, http.StatusCreated}}, nil, &reply); err != nil {
		return err
	}
	if len(reply) == 0 || reply[0] != want {
		return fmt.Errorf("%w: expected %s, server replied %v", errHashMismatch, want, reply)
	}
	return nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
