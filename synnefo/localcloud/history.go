package localcloud

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"sort"
	"strings"
)

// Account and container metadata as it was at a past time ("until", §5.1,
// §6.1): Synnefo versions account and container nodes as it versions
// objects, so a HEAD or listing with until shows the metadata, containers and
// usage of that moment. Here each metadata change appends the new metadata to
// the metahist bucket under the change's time; counts and bytes at until are
// computed from the object versions, which are kept anyway.

func accountHistKey(acct string) []byte { return []byte("a\x00" + acct + "\x00") }
func containerHistKey(acct, cont string) []byte {
	return []byte("c\x00" + acct + "\x00" + cont + "\x00")
}

// recordMeta appends meta as the metadata of prefix (an accountHistKey or a
// containerHistKey) from time ns on.
func (t *txn) recordMeta(prefix []byte, ns int64, meta map[string]string) error {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], uint64(ns))
	if meta == nil {
		meta = map[string]string{}
	}
	return putJSON(t.tx.Bucket(bMetaHist), k, meta)
}

// metaAt is the metadata of prefix as it was at until: the last recorded
// change no later than until; none when every recorded change is later.
// With no record at all (a database from before this history was kept) it is
// cur.
func (t *txn) metaAt(prefix []byte, until int64, cur map[string]string) map[string]string {
	cr := t.tx.Bucket(bMetaHist).Cursor()
	seek := make([]byte, len(prefix)+8)
	copy(seek, prefix)
	binary.BigEndian.PutUint64(seek[len(prefix):], uint64(until)+1)
	var k, v []byte
	if k, _ = cr.Seek(seek); k == nil {
		k, v = cr.Last()
	} else {
		k, v = cr.Prev()
	}
	if k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 {
		var m map[string]string
		if err := json.Unmarshal(v, &m); err == nil {
			return m
		}
	}
	if k, _ := cr.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 {
		return map[string]string{} // recorded, but only after until
	}
	return cur
}

// dropMetaHistory forgets the metadata history of prefix (a deleted
// container: a new one of the same name starts afresh).
func (t *txn) dropMetaHistory(prefix []byte) error {
	b := t.tx.Bucket(bMetaHist)
	cr := b.Cursor()
	var dead [][]byte
	for k, _ := cr.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cr.Next() {
		if len(k) == len(prefix)+8 {
			dead = append(dead, append([]byte(nil), k...))
		}
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// containerAt is a container's state at until: its object count, bytes and
// the user meta keys its objects used then, and its own metadata then.
type containerAt struct {
	count, bytes int64
	metaKeys     []string
	meta         map[string]string
	mtime        int64
}

// existedAt reports whether a container had been created by until.
func (c *containerRec) existedAt(until int64) bool { return c.Created <= until }

func (t *txn) containerAt(acct, cont string, rec *containerRec, until int64) containerAt {
	out := containerAt{meta: t.metaAt(containerHistKey(acct, cont), until, rec.Meta), mtime: min(rec.Mtime, until)}
	keys := map[string]bool{}
	it := t.iterAt(acct, cont, until)
	for _, r := it.seek(""); r != nil; _, r = it.next() {
		out.count++
		out.bytes += r.Bytes
		for k := range r.Meta {
			if mk, ok := strings.CutPrefix(k, "X-Object-Meta-"); ok {
				keys[mk] = true
			}
		}
	}
	for k := range keys {
		out.metaKeys = append(out.metaKeys, k)
	}
	sort.Strings(out.metaKeys)
	return out
}

// copyFrom is the object a copy reads from. A deleted object is still a
// source when the copy names one of its versions (X-Source-Version): as in
// Synnefo, whose node outlives its delete marker, that is how a deleted
// object is restored. The record returned then is the delete marker; only
// the version named is copied.
func (t *txn) copyFrom(acct, cont, name string, versioned bool) (*objectRec, bool) {
	if rec, ok := t.object(acct, cont, name); ok || !versioned {
		return rec, ok
	}
	vs := t.versions(acct, cont, name)
	if len(vs) == 0 {
		return nil, false
	}
	return &objectRec{version: vs[len(vs)-1]}, true
}
