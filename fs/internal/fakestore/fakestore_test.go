package fakestore

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

var ctx = context.Background()

func newStore(t *testing.T) *Store {
	t.Helper()
	s := New("alice")
	s.Cloud().BlockSize = 16
	if _, err := s.CreateContainer(ctx, "c", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *Store, name, data string, opts pithos.PutOptions) (*pithos.PutResult, error) {
	t.Helper()
	return s.PutObject(ctx, "c", name, strings.NewReader(data), int64(len(data)), opts)
}

// TestHashesAndETag: an object is its blocks' hashes, and its ETag the
// Merkle top hash, as pithos/hashmap computes them.
func TestHashesAndETag(t *testing.T) {
	s := newStore(t)
	data := "0123456789abcdef0123456789abcdefxyz\x00\x00"
	res, err := put(t, s, "o", data, pithos.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hm, info, err := s.GetHashmap(ctx, "c", "o", pithos.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{hashmap.BlockHashHex([]byte(data[:16])), hashmap.BlockHashHex([]byte(data[16:32])), hashmap.BlockHashHex([]byte("xyz"))}
	if !slices.Equal(hm.Hashes, want) || hm.Bytes != int64(len(data)) {
		t.Fatalf("hashmap %+v, want %q", hm, want)
	}
	top, _ := hashmap.TopHash(want)
	if res.ETag != top || info.ETag != top || info.Hash != top {
		t.Fatalf("etag %s / %s, want %s", res.ETag, info.ETag, top)
	}
	got, err := s.ReadRange(ctx, "c", "o", 14, 30, info.Bytes, pithos.GetOptions{})
	if err != nil || string(got) != data[14:] {
		t.Fatalf("ReadRange: %q %v", got, err)
	}
}

// TestPreconditions: writes and reads check If-Match / If-None-Match as
// the server does, with the client's errors.
func TestPreconditions(t *testing.T) {
	s := newStore(t)
	first, _ := put(t, s, "o", "one", pithos.PutOptions{})
	cases := []struct {
		name string
		cond pithos.Conditions
		want error
	}{
		{"if-match current", pithos.Conditions{IfMatch: first.ETag}, nil},
		{"if-match stale", pithos.Conditions{IfMatch: "0000"}, fault.ErrPrecondition},
		{"if-none-match * over an object", pithos.Conditions{IfNoneMatch: "*"}, fault.ErrPrecondition},
		{"if-match *", pithos.Conditions{IfMatch: "*"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := put(t, s, "o", "x", pithos.PutOptions{Conditions: c.cond})
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if c.want == nil {
				info, _ := s.ObjectInfo(ctx, "c", "o", pithos.GetOptions{})
				first.ETag = info.ETag
			}
		})
	}
	if _, err := put(t, s, "new", "x", pithos.PutOptions{Conditions: pithos.Conditions{IfMatch: "*"}}); !errors.Is(err, fault.ErrPrecondition) {
		t.Errorf("if-match on a missing object: %v", err)
	}
	info, _ := s.ObjectInfo(ctx, "c", "o", pithos.GetOptions{})
	if _, err := s.ObjectInfo(ctx, "c", "o", pithos.GetOptions{Conditions: pithos.Conditions{IfNoneMatch: info.ETag}}); !errors.Is(err, fault.ErrNotModified) {
		t.Errorf("if-none-match on a read: %v", err)
	}
	if _, err := s.ObjectInfo(ctx, "c", "missing", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

// TestPutHashmapMissing: a hashmap PUT lists the blocks the store lacks;
// CommitHashmap uploads them and makes the object.
func TestPutHashmapMissing(t *testing.T) {
	s := newStore(t)
	blocks := map[string][]byte{}
	var hashes []string
	for _, b := range []string{"aaaaaaaaaaaaaaaa", "bbbb"} {
		h := hashmap.BlockHashHex([]byte(b))
		blocks[h] = []byte(b)
		hashes = append(hashes, h)
	}
	hm := &hashmap.Map{BlockSize: 16, BlockHash: "sha256", Bytes: 20, Hashes: hashes}
	res, missing, err := s.PutHashmap(ctx, "c", "o", hm, pithos.PutOptions{})
	if err != nil || res != nil || !slices.Equal(missing, hashes) {
		t.Fatalf("PutHashmap: %v %q %v", res, missing, err)
	}
	src := func(_ context.Context, h string) ([]byte, error) { return blocks[h], nil }
	if _, err := s.CommitHashmap(ctx, "c", "o", hm, src, pithos.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	o, _ := s.GetObject(ctx, "c", "o", pithos.GetOptions{})
	b, _ := io.ReadAll(o.Body)
	if string(b) != "aaaaaaaaaaaaaaaabbbb" {
		t.Fatalf("content %q", b)
	}
	lost := func(_ context.Context, h string) ([]byte, error) { return []byte("wrong"), nil }
	hm.Hashes[1] = hashmap.BlockHashHex([]byte("cccc"))
	var mb *pithos.MissingBlocksError
	if _, err := s.CommitHashmap(ctx, "c", "p", hm, lost, pithos.CommitOptions{}); !errors.As(err, &mb) {
		t.Fatalf("blocks that never arrive: %v", err)
	}
}

func TestListing(t *testing.T) {
	s := newStore(t)
	for _, n := range []string{"a", "b/", "b/c", "b/d/e", "f/g", "h"} {
		if _, err := put(t, s, n, "x", pithos.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		prefix, delim string
		limit         int
		objects, subs []string
	}{
		{"", "/", 0, []string{"a", "b/", "h"}, []string{"b/", "f/"}},
		{"b/", "/", 0, []string{"b/", "b/c"}, []string{"b/d/"}}, // the prefix's own marker too
		{"", "", 0, []string{"a", "b/", "b/c", "b/d/e", "f/g", "h"}, nil},
		{"", "/", 2, []string{"a", "b/", "h"}, []string{"b/", "f/"}}, // pages of 2
	}
	for _, c := range cases {
		var objs, subs []string
		for page, err := range s.ObjectPages(ctx, "c", pithos.ListOptions{Prefix: c.prefix, Delimiter: c.delim, Limit: c.limit}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Objects {
				objs = append(objs, o.Name)
			}
			subs = append(subs, page.Subdirs...)
		}
		if !slices.Equal(objs, c.objects) || !slices.Equal(subs, c.subs) {
			t.Errorf("list %q %q limit %d: %q %q, want %q %q", c.prefix, c.delim, c.limit, objs, subs, c.objects, c.subs)
		}
	}
}

// TestCopyMoveDelete: a subtree move keeps uuids, a copy makes new ones,
// a delete keeps versions.
func TestCopyMoveDelete(t *testing.T) {
	s := newStore(t)
	put(t, s, "d", "", pithos.PutOptions{ContentType: pithos.DirectoryType})
	put(t, s, "d/x", "1", pithos.PutOptions{})
	before, _ := s.ObjectInfo(ctx, "c", "d/x", pithos.GetOptions{})
	if _, err := s.MoveObject(ctx, "c", "d", "c", "e", pithos.CopyOptions{Delimiter: "/"}); err != nil {
		t.Fatal(err)
	}
	moved, err := s.ObjectInfo(ctx, "c", "e/x", pithos.GetOptions{})
	if err != nil || moved.UUID != before.UUID {
		t.Fatalf("moved: %+v %v", moved, err)
	}
	if _, err := s.ObjectInfo(ctx, "c", "d/x", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("source after move: %v", err)
	}
	if _, err := s.CopyObject(ctx, "c", "e/x", "c", "y", pithos.CopyOptions{Conditions: pithos.Conditions{IfNoneMatch: "*"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ObjectInfo(ctx, "c", "y", pithos.GetOptions{}); c.UUID == moved.UUID || c.ETag != moved.ETag {
		t.Fatalf("copy: %+v", c)
	}
	if err := s.DeleteObject(ctx, "c", "y", pithos.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h, _ := s.HistoryOf(ctx, "c")
	vs, err := s.ObjectVersions(ctx, h, "c", "y", nil)
	if err != nil || len(vs) != 1 || vs[0].Current {
		t.Fatalf("versions of a deleted object: %+v %v", vs, err)
	}
	files, _, _ := s.DeletedEntries(ctx, h, "c", "", s.Cloud().now, nil)
	if !slices.Contains(files, "y") {
		t.Fatalf("deleted entries %q", files)
	}
	if err := s.DeleteContainer(ctx, "c", pithos.DeleteContainerOptions{}); !errors.Is(err, fault.ErrNotEmpty) {
		t.Fatalf("delete of a container with objects: %v", err)
	}
}

func TestFaults(t *testing.T) {
	s := newStore(t)
	put(t, s, "o", "x", pithos.PutOptions{})
	f := &s.Cloud().Faults
	r := f.FailNth("ObjectInfo", 2, fault.ErrUnavailable)
	only := f.Add(Rule{Match: func(c Call) bool { return c.Name == "secret" }, Err: fault.ErrForbidden, Times: 1})
	var errs []error
	for range 3 {
		_, err := s.ObjectInfo(ctx, "c", "o", pithos.GetOptions{})
		errs = append(errs, err)
	}
	if errs[0] != nil || !errors.Is(errs[1], fault.ErrUnavailable) || errs[2] != nil || f.Fired(r) != 1 {
		t.Fatalf("fail the 2nd call: %v", errs)
	}
	if _, err := s.ObjectInfo(ctx, "c", "secret", pithos.GetOptions{}); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("predicate: %v", err)
	}
	if _, err := s.ObjectInfo(ctx, "c", "secret", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) || f.Fired(only) != 1 {
		t.Fatalf("Times 1: %v", err)
	}
	if !errors.Is(Unreachable(), fault.ErrUnavailable) {
		t.Fatal("Unreachable is not unavailable")
	}
	if n := f.Calls("ObjectInfo"); n != 5 {
		t.Fatalf("calls %d", n)
	}
	// Do acts between two requests (another writer), then the call runs.
	f.Add(Rule{Op: "GetObject", Times: 1, Do: func(Call) { put(t, s, "o", "changed", pithos.PutOptions{}) }})
	o, err := s.GetObject(ctx, "c", "o", pithos.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(o.Body); string(b) != "changed" {
		t.Fatalf("Do's write not seen: %q", b)
	}
}
