package fakestore

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/object"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// etagMatches matches an If-Match / If-None-Match value ("*" or a list of
// ETags) against etag, as the server does.
func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.Trim(strings.TrimPrefix(strings.TrimSpace(e), "W/"), `"`)
		if e == "*" || strings.EqualFold(e, etag) {
			return true
		}
	}
	return false
}

// checkWrite applies a write's preconditions to the current object (nil:
// none): 412 as the server answers.
func (s *Store) checkWrite(method, cont, name string, cur *version, c object.Conditions) error {
	if c.IfMatch != "" && (cur == nil || !etagMatches(c.IfMatch, cur.info.ETag)) {
		return s.failure(method, cont, name, fault.ErrPrecondition)
	}
	if c.IfNoneMatch != "" && cur != nil && etagMatches(c.IfNoneMatch, cur.info.ETag) {
		return s.failure(method, cont, name, fault.ErrPrecondition)
	}
	return nil
}

// read returns the version a read selects (current, or opts.Version) once
// its preconditions hold (under mu).
func (s *Store) read(method, cont, name string, opts object.GetOptions) (*version, error) {
	ct, err := s.container(method, cont)
	if err != nil {
		return nil, err
	}
	v := ct.objects[name]
	if opts.Version != 0 {
		v = nil
		for _, h := range ct.history[name] {
			if h.info.Version == opts.Version {
				v = h
			}
		}
	}
	if v == nil {
		return nil, s.failure(method, cont, name, fault.ErrNotFound)
	}
	if opts.IfMatch != "" && !etagMatches(opts.IfMatch, v.info.ETag) {
		return nil, s.failure(method, cont, name, fault.ErrPrecondition)
	}
	if opts.IfNoneMatch != "" && etagMatches(opts.IfNoneMatch, v.info.ETag) {
		return nil, s.failure(method, cont, name, fault.ErrNotModified)
	}
	return v, nil
}

// infoOf is a copy of v's attributes a caller may keep.
func infoOf(v *version) *object.Info {
	info := v.info
	info.Meta = cloneMeta(v.info.Meta)
	return &info
}

func cloneMeta(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ObjectInfo is HEAD of an object.
func (s *Store) ObjectInfo(ctx context.Context, container, name string, opts object.GetOptions) (*object.Info, error) {
	if err := s.enter(ctx, "ObjectInfo", container, name); err != nil {
		return nil, err
	}
	defer s.unlock()
	v, err := s.read("HEAD", container, name, opts)
	if err != nil {
		return nil, err
	}
	return infoOf(v), nil
}

// GetObject is GET of a whole object.
func (s *Store) GetObject(ctx context.Context, container, name string, opts object.GetOptions) (*pithos.Object, error) {
	if err := s.enter(ctx, "GetObject", container, name); err != nil {
		return nil, err
	}
	defer s.unlock()
	v, err := s.read("GET", container, name, opts)
	if err != nil {
		return nil, err
	}
	return &pithos.Object{Info: infoOf(v), Body: io.NopCloser(bytes.NewReader(s.c.content(v)))}, nil
}

// GetHashmap is GET ?hashmap of an object.
func (s *Store) GetHashmap(ctx context.Context, container, name string, opts object.GetOptions) (*pithos.Hashmap, *object.Info, error) {
	if err := s.enter(ctx, "GetHashmap", container, name); err != nil {
		return nil, nil, err
	}
	defer s.unlock()
	v, err := s.read("GET", container, name, opts)
	if err != nil {
		return nil, nil, err
	}
	hm := &pithos.Hashmap{BlockSize: s.c.BlockSize, BlockHash: "sha256", Bytes: v.info.Bytes,
		Hashes: append([]string(nil), v.hashes...)}
	return hm, infoOf(v), nil
}

// ReadRange reads length bytes at offset of an object of size bytes (size
// < 0: unknown), clamped as the client clamps: no call at or past the end.
func (s *Store) ReadRange(ctx context.Context, container, name string, offset, length, size int64, opts object.GetOptions) ([]byte, error) {
	if size >= 0 {
		if offset >= size {
			return nil, nil
		}
		length = min(length, size-offset)
	}
	if length <= 0 {
		return nil, nil
	}
	return s.ReadRangeInto(ctx, container, name, offset, -1, make([]byte, length), opts)
}

// ReadRangeInto is ReadRange into buf; it returns the part of buf filled
// (short when the object is shorter than the caller thought).
func (s *Store) ReadRangeInto(ctx context.Context, container, name string, offset, size int64, buf []byte, opts object.GetOptions) ([]byte, error) {
	if size >= 0 {
		if offset >= size {
			return buf[:0], nil
		}
		buf = buf[:min(int64(len(buf)), size-offset)]
	}
	if len(buf) == 0 {
		return buf, nil
	}
	if err := s.enter(ctx, "ReadRange", container, name); err != nil {
		return nil, err
	}
	v, err := s.read("GET", container, name, opts)
	var data []byte
	if err == nil {
		data = s.c.content(v)
	}
	s.unlock()
	if err != nil {
		return nil, err
	}
	if offset >= int64(len(data)) {
		return nil, s.failure("GET", container, name, fault.ErrInvalid)
	}
	n := copy(buf, data[offset:])
	return buf[:n], nil
}
