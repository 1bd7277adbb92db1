package localcloud

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// listOpts are the object listing parameters of a container GET (§7).
type listOpts struct {
	prefix, delimiter, marker string
	limit                     int
	noSubdirs                 bool // the "path" parameter
	meta                      *metaQuery
	shared, public            bool
	until                     int64                 // unix ns; 0 = now
	readable                  func(string) bool     // cross-user filter; nil = everything
	sharedUnder               func(string) bool     // "shared": names covered by permissions
	keep                      func(*objectRec) bool // extra filter, may be nil
}

// listEntry is one row of a listing: an object or a subdir roll-up.
type listEntry struct {
	name   string
	subdir bool
	rec    *objectRec
}

// objectIter walks object names of one container in byte order.
type objectIter interface {
	seek(name string) (string, *objectRec)
	next() (string, *objectRec)
}

// currentIter iterates the current versions in the objects bucket.
type currentIter struct {
	t      *txn
	prefix []byte
	cur    interface {
		Seek([]byte) ([]byte, []byte)
		Next() ([]byte, []byte)
	}
}

func (it *currentIter) conv(k, v []byte) (string, *objectRec) {
	if k == nil || !bytes.HasPrefix(k, it.prefix) {
		return "", nil
	}
	var rec objectRec
	if err := json.Unmarshal(v, &rec); err != nil {
		panic(err)
	}
	return string(k[len(it.prefix):]), &rec
}

func (it *currentIter) seek(name string) (string, *objectRec) {
	return it.conv(it.cur.Seek(append(append([]byte{}, it.prefix...), name...)))
}
func (it *currentIter) next() (string, *objectRec) { return it.conv(it.cur.Next()) }

// sliceIter iterates a materialised, sorted list (listings with "until").
type sliceIter struct {
	names []string
	recs  []*objectRec
	i     int
}

func (it *sliceIter) at() (string, *objectRec) {
	if it.i >= len(it.names) {
		return "", nil
	}
	return it.names[it.i], it.recs[it.i]
}
func (it *sliceIter) seek(name string) (string, *objectRec) {
	it.i = sort.SearchStrings(it.names, name)
	return it.at()
}
func (it *sliceIter) next() (string, *objectRec) { it.i++; return it.at() }

// iterAt returns an iterator over the container as it is now, or as it was
// at until (the last version no newer than until, unless it was a delete).
func (t *txn) iterAt(acct, cont string, until int64) objectIter {
	prefix := []byte(acct + "\x00" + cont + "\x00")
	if until == 0 {
		return &currentIter{t: t, prefix: prefix, cur: t.tx.Bucket(bObjects).Cursor()}
	}
	it := &sliceIter{}
	cur := t.tx.Bucket(bVersions).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		name := string(k[len(prefix) : len(k)-9])
		var ver version
		if err := json.Unmarshal(v, &ver); err != nil {
			panic(err)
		}
		if ver.Mtime > until {
			continue
		}
		n := len(it.names)
		if n > 0 && it.names[n-1] == name {
			it.recs[n-1] = &objectRec{version: ver}
		} else {
			it.names = append(it.names, name)
			it.recs = append(it.recs, &objectRec{version: ver})
		}
	}
	// Drop names whose last version by then was a delete marker.
	j := 0
	for i := range it.names {
		if !it.recs[i].Deleted {
			it.names[j], it.recs[j] = it.names[i], it.recs[i]
			j++
		}
	}
	it.names, it.recs = it.names[:j], it.recs[:j]
	return it
}

// prefixEnd is the smallest string greater than every string with prefix p.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\xff\xff\xff\xff"
}

// listObjects runs Pithos' listing algorithm (node.py latest_version_list):
// names after marker within prefix, rolled up at the first delimiter after
// the prefix into subdir entries, at most limit rows.
func (t *txn) listObjects(acct, cont string, o listOpts) []listEntry {
	it := t.iterAt(acct, cont, o.until)
	start := o.prefix
	if o.marker > start {
		start = o.marker
	}
	var out []listEntry
	name, rec := it.seek(start)
	for rec != nil && len(out) < o.limit {
		if !strings.HasPrefix(name, o.prefix) {
			break
		}
		if name <= o.marker && o.marker != "" {
			name, rec = it.next()
			continue
		}
		if !o.match(name, rec) {
			name, rec = it.next()
			continue
		}
		if o.delimiter != "" {
			if idx := strings.Index(name[len(o.prefix):], o.delimiter); idx >= 0 {
				pos := len(o.prefix) + idx
				if pos > 0 && pos+len(o.delimiter) < len(name) {
					sub := name[:pos+len(o.delimiter)]
					if !o.noSubdirs {
						out = append(out, listEntry{name: sub, subdir: true})
					}
					name, rec = it.seek(prefixEnd(sub))
					continue
				}
			}
		}
		out = append(out, listEntry{name: name, rec: rec})
		name, rec = it.next()
	}
	return out
}

func (o *listOpts) match(name string, rec *objectRec) bool {
	if o.readable != nil && !o.readable(name) {
		return false
	}
	// shared and public together list the union (Synnefo's
	// test_list_shared_public).
	isPublic := rec.Public != ""
	isShared := rec.Sharing != nil || o.sharedUnder != nil && o.sharedUnder(name)
	switch {
	case o.shared && o.public:
		if !isShared && !isPublic {
			return false
		}
	case o.public && !isPublic, o.shared && !isShared:
		return false
	}
	if o.meta != nil && !o.meta.match(rec.Meta) {
		return false
	}
	if o.keep != nil && !o.keep(rec) {
		return false
	}
	return true
}

// metaQuery is the "meta" listing parameter: plain keys (OR-ed), !key and
// key<op>value terms (AND-ed), on X-Object-Meta-* keys.
type metaQuery struct {
	any   []string
	none  []string
	terms []metaTerm
}

type metaTerm struct{ key, op, value string }

func parseMetaQuery(s string) *metaQuery {
	if s == "" {
		return nil
	}
	q := &metaQuery{}
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		if strings.HasPrefix(term, "!") {
			q.none = append(q.none, "X-Object-Meta-"+formatMetaKey(term[1:]))
			continue
		}
		matched := false
		for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
			if i := strings.Index(term, op); i > 0 {
				q.terms = append(q.terms, metaTerm{"X-Object-Meta-" + formatMetaKey(strings.TrimSpace(term[:i])), op, strings.TrimSpace(term[i+len(op):])})
				matched = true
				break
			}
		}
		if !matched {
			q.any = append(q.any, "X-Object-Meta-"+formatMetaKey(term))
		}
	}
	return q
}

func (q *metaQuery) match(meta map[string]string) bool {
	if len(q.any) > 0 {
		found := false
		for _, k := range q.any {
			if _, ok := meta[k]; ok {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, k := range q.none {
		if _, ok := meta[k]; ok {
			return false
		}
	}
	for _, term := range q.terms {
		v, ok := meta[term.key]
		if !ok {
			return false
		}
		var r bool
		switch term.op {
		case "=":
			r = v == term.value
		case "!=":
			r = v != term.value
		case "<=":
			r = v <= term.value
		case ">=":
			r = v >= term.value
		case "<":
			r = v < term.value
		case ">":
			r = v > term.value
		}
		if !r {
			return false
		}
	}
	return true
}
