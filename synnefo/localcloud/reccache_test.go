package localcloud

import (
	"fmt"
	"reflect"
	"testing"
)

// TestRecordCache: a large record is decoded once and then served from the
// cache, each caller with its own copy; a record stored anew is decoded
// again; a small one is not kept.
func TestRecordCache(t *testing.T) {
	s, err := openStore(t.TempDir(), 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	big := objectRec{version: version{ID: 1, Bytes: 1 << 30, Meta: map[string]string{"X-Object-Meta-A": "1"}},
		Sharing: &perms{Read: []string{"bob"}}}
	for i := range 256 {
		big.Hashes = append(big.Hashes, fmt.Sprintf("%064x", i))
	}
	small := objectRec{version: version{ID: 2, Bytes: 5, Hashes: []string{fmt.Sprintf("%064x", 7)}}}
	store := func(name string, rec objectRec) {
		t.Helper()
		if err := s.update(func(t *txn) error {
			return putJSON(t.tx.Bucket(bObjects), okey("acct", "cont", name), rec)
		}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) objectRec {
		t.Helper()
		var o objectRec
		if err := s.view(func(t *txn) error {
			rec, ok := t.object("acct", "cont", name)
			if !ok {
				return fmt.Errorf("%s: no record", name)
			}
			o = *rec
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return o
	}
	store("big", big)
	store("small", small)

	first := read("big")
	if !reflect.DeepEqual(first, big) {
		t.Fatalf("first read: %+v", first.version.Meta)
	}
	if len(s.recs.byKey) != 1 {
		t.Fatalf("%d records cached after reading a 17 KB one, want 1", len(s.recs.byKey))
	}
	first.Hashes[0] = "changed"
	first.Meta["X-Object-Meta-A"] = "changed"
	first.Sharing.Read[0] = "changed"
	if again := read("big"); !reflect.DeepEqual(again, big) {
		t.Errorf("a caller's change reached the cache: %q %v %v", again.Hashes[0], again.Meta, again.Sharing)
	}

	big.Hashes = big.Hashes[:100]
	big.Bytes = 100 << 22
	store("big", big)
	if got := read("big"); !reflect.DeepEqual(got, big) {
		t.Errorf("after a new record: %d hashes, %d bytes, want %d, %d", len(got.Hashes), got.Bytes, len(big.Hashes), big.Bytes)
	}

	if got := read("small"); !reflect.DeepEqual(got, small) {
		t.Errorf("small record: %+v", got)
	}
	if len(s.recs.byKey) != 1 {
		t.Errorf("%d records cached, want only the large one", len(s.recs.byKey))
	}
}

// TestRecordCacheBound: the cache drops its least recently used records to
// stay within its bytes.
func TestRecordCacheBound(t *testing.T) {
	c := newRecCache(40 << 10)
	raw := func(i int) []byte { return fmt.Appendf(nil, "%d%09000d", i, 0) }
	for i := range 8 {
		c.put([]byte{byte(i)}, raw(i), &objectRec{version: version{ID: uint64(i)}})
		if c.bytes > c.limit {
			t.Fatalf("after %d puts: %d bytes held, limit %d", i+1, c.bytes, c.limit)
		}
	}
	if _, ok := c.get([]byte{7}, raw(7)); !ok {
		t.Error("the last record put is gone")
	}
	if _, ok := c.get([]byte{0}, raw(0)); ok {
		t.Error("the first record put is still held")
	}
	if _, ok := c.get([]byte{7}, raw(6)); ok {
		t.Error("a record served for stored bytes it was not decoded from")
	}
}
