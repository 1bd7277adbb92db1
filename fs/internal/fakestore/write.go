package fakestore

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// maxHashmapRounds is how often CommitHashmap uploads missing blocks before
// it gives up with a *pithos.MissingBlocksError (the client's default).
const maxHashmapRounds = 3

// put makes hashes (size bytes) the new current version of cont/name once
// opts' preconditions hold (under mu): the uuid of the object it replaces
// (or uuid, when set, or a new one), its sharing and public state unless
// opts sets them.
func (s *Store) put(method, cont, name string, hashes []string, size int64, opts object.PutOptions, uuid string) (*object.PutResult, error) {
	ct, err := s.container(method, cont)
	if err != nil {
		return nil, err
	}
	cur := ct.objects[name]
	if err := s.checkWrite(method, cont, name, cur, opts.Conditions); err != nil {
		return nil, err
	}
	if size == 0 {
		hashes = []string{hashmap.EmptyHash}
	}
	now := s.c.tick()
	v := &version{hashes: hashes, info: object.Info{Name: name, Bytes: size, ContentType: opts.ContentType,
		ContentEncoding: opts.ContentEncoding, ContentDisposition: opts.ContentDisposition,
		Meta: cloneMeta(opts.Meta), ModifiedBy: s.account, UUID: uuid,
		Version: s.c.next(), VersionTimestamp: now, LastModified: now}}
	if v.info.ContentType == "" {
		v.info.ContentType = "application/octet-stream"
	}
	v.info.Hash = etagOf(hashes)
	v.info.ETag = v.info.Hash
	if cur != nil {
		v.info.Sharing, v.info.Public = cur.info.Sharing, cur.info.Public
		if uuid == "" {
			v.info.UUID = cur.info.UUID
		}
	}
	if v.info.UUID == "" {
		v.info.UUID = fmt.Sprintf("uuid-%d", s.c.next())
	}
	v.share(opts.Sharing, opts.Public)
	ct.set(name, v)
	return &object.PutResult{ETag: v.info.ETag, Version: v.info.Version}, nil
}

// set makes v the current version of name (under mu).
func (ct *container) set(name string, v *version) {
	ct.objects[name] = v
	if ct.versioning == "none" {
		ct.history[name] = nil
	}
	ct.history[name] = append(ct.history[name], v)
}

// PutObject stores body (size bytes, -1: unknown) as the object.
func (s *Store) PutObject(ctx context.Context, container, name string, body io.Reader, size int64, opts object.PutOptions) (*object.PutResult, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = io.ReadAll(body); err != nil {
			return nil, fmt.Errorf("fakestore: reading the body of %s/%s: %w", container, name, err)
		}
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, s.failure("PUT", container, name, fault.ErrInvalid)
	}
	if err := s.enter(ctx, "PutObject", container, name); err != nil {
		return nil, err
	}
	defer s.unlock()
	return s.put("PUT", container, name, s.c.storeBlocks(data), int64(len(data)), opts, "")
}

// UploadObject stores src whole.
func (s *Store) UploadObject(ctx context.Context, container, name string, src io.Reader, opts object.UploadOptions) (*object.PutResult, error) {
	return s.PutObject(ctx, container, name, src, -1, opts.PutOptions)
}

// PutHashmap makes the object hm when every block is stored, else returns
// the hashes the store lacks (result nil), as a 409 reply lists them.
func (s *Store) PutHashmap(ctx context.Context, container, name string, hm *hashmap.Map, opts object.PutOptions) (*object.PutResult, []string, error) {
	if err := s.enter(ctx, "PutHashmap", container, name); err != nil {
		return nil, nil, err
	}
	defer s.unlock()
	if _, err := s.container("PUT", container); err != nil {
		return nil, nil, err
	}
	if hm.Bytes < 0 || (hm.Bytes > 0 && int64(len(hm.Hashes)) != hashmap.NumBlocks(hm.Bytes, s.c.BlockSize)) {
		return nil, nil, s.failure("PUT", container, name, fault.ErrInvalid)
	}
	var missing []string
	seen := map[string]bool{}
	hashes := make([]string, len(hm.Hashes))
	for i, h := range hm.Hashes {
		if !hashmap.IsHexHash(h) {
			return nil, nil, s.failure("PUT", container, name, fault.ErrInvalid)
		}
		h = strings.ToLower(h)
		hashes[i] = h
		if _, ok := s.c.blocks[h]; !ok && !seen[h] {
			missing = append(missing, h)
		}
		seen[h] = true
	}
	if len(missing) > 0 {
		return nil, missing, nil
	}
	res, err := s.put("PUT", container, name, hashes, hm.Bytes, opts, "")
	return res, nil, err
}

// CommitHashmap is PutHashmap, uploading the blocks the store lacks from
// blocks, until the object is made.
func (s *Store) CommitHashmap(ctx context.Context, container, name string, hm *hashmap.Map, blocks object.BlockSource, opts object.CommitOptions) (*object.PutResult, error) {
	var missing []string
	for range maxHashmapRounds + 1 {
		res, m, err := s.PutHashmap(ctx, container, name, hm, opts.PutOptions)
		if err != nil || m == nil {
			return res, err
		}
		missing = m
		for _, h := range m {
			data, err := blocks(ctx, h)
			if err != nil {
				return nil, err
			}
			err = s.UploadHashedBlock(ctx, container, h, data)
			if opts.Release != nil {
				opts.Release(data)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return nil, &pithos.MissingBlocksError{Container: container, Name: name, Missing: missing, Rounds: maxHashmapRounds}
}

// UploadHashedBlock stores one block (under the hash of its bytes, as the
// server computes it).
func (s *Store) UploadHashedBlock(ctx context.Context, container, hash string, data []byte) error {
	if err := s.enter(ctx, "UploadHashedBlock", container, ""); err != nil {
		return err
	}
	defer s.unlock()
	if _, err := s.container("POST", container); err != nil {
		return err
	}
	if int64(len(data)) > s.c.BlockSize {
		return s.failure("POST", container, "", fault.ErrInvalid)
	}
	s.c.storeBlocks(data)
	return nil
}

// UpdateObjectMeta changes an object's metadata (a new version with the
// same data); Pithos+ ignores ContentType here.
func (s *Store) UpdateObjectMeta(ctx context.Context, container, name string, opts object.MetaOptions) (*object.PutResult, error) {
	if err := s.enter(ctx, "UpdateObjectMeta", container, name); err != nil {
		return nil, err
	}
	defer s.unlock()
	ct, cur, err := s.object("POST", container, name)
	if err != nil {
		return nil, err
	}
	if err := s.checkWrite("POST", container, name, cur, opts.Conditions); err != nil {
		return nil, err
	}
	v := &version{hashes: cur.hashes, info: *infoOf(cur)}
	v.info.Meta = mergeMeta(cur.info.Meta, opts.Meta, opts.Replace)
	if opts.ContentEncoding != "" {
		v.info.ContentEncoding = opts.ContentEncoding
	}
	if opts.ContentDisposition != "" {
		v.info.ContentDisposition = opts.ContentDisposition
	}
	now := s.c.tick()
	v.info.Version, v.info.VersionTimestamp, v.info.LastModified, v.info.ModifiedBy = s.c.next(), now, now, s.account
	ct.set(name, v)
	return &object.PutResult{ETag: v.info.ETag, Version: v.info.Version}, nil
}

// mergeMeta returns base with changes applied (an empty value deletes a
// key), or changes alone when replace.
func mergeMeta(base, changes map[string]string, replace bool) map[string]string {
	out := map[string]string{}
	if !replace {
		for k, v := range base {
			out[k] = v
		}
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}
