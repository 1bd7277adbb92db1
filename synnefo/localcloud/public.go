package localcloud

import (
	"net/http"
	"strings"
	"time"
)

// servePublic serves HEAD/GET /pithos/public/<id> without a token (§8.9).
func (c *Cloud) servePublic(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/pithos/public/")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "HEAD,GET")
		writeFault(w, r, errf(405, "Method not allowed"))
		return
	}
	p := &preq{w: w, r: r, q: r.URL.Query(), start: time.Now()}
	h, f := requestHeaders(r)
	if f != nil {
		writeFault(w, r, f)
		return
	}
	p.h = h
	var rec *objectRec
	var name string
	var ct content
	err := c.store.view(func(t *txn) error {
		key := t.tx.Bucket(bPublic).Get([]byte(id))
		if key == nil {
			return notFound("Object does not exist")
		}
		var ok bool
		if rec, ok = getObjectRec(t, key); !ok || rec.Public != id {
			return notFound("Object does not exist")
		}
		var acct string
		acct, _, name = splitKey(key)
		ct = content{bs: c.store.blockSize, parts: []part{{rec.Hashes, rec.Bytes}}}
		if m := rec.Meta["X-Object-Manifest"]; m != "" {
			// Synnefo follows the manifest on public reads too: the
			// owner's objects under container/prefix, in name order.
			ct.parts = t.manifestPartsOf(acct, m, nil)
		}
		return nil
	})
	if err != nil {
		c.fail(p, err)
		return
	}
	etag, _ := topHash(rec.Hashes)
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Content-Length", itoa(ct.size()))
	setHeader(hdr, "Content-Type", rec.Type)
	hdr.Set("Last-Modified", httpDate(rec.Mtime))
	// Synnefo's restricted object headers: the object's own encoding and
	// disposition (setDisposition below keeps a user-defined one unless a
	// disposition-type is asked for).
	for _, k := range []string{"Content-Encoding", "Content-Disposition"} {
		if v, ok := rec.Meta[k]; ok {
			setHeader(hdr, k, v)
		}
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(200)
		return
	}
	if f := checkTimePreconditions(h, rec.Mtime); f != nil {
		writeFault(w, r, f)
		return
	}
	if v := h.Get("If-Match"); v != "" && !etagMatches(v, etag) {
		writeFault(w, r, errf(412, "Resource ETag does not match"))
		return
	}
	if v := h.Get("If-None-Match"); v != "" && etagMatches(v, etag) {
		w.WriteHeader(304)
		return
	}
	p.obj = name
	c.setDisposition(p, hdr, &rec.version)
	if err := c.serveData(p, hdr, ct, rec.MD5); err != nil {
		c.fail(p, err)
	}
}

func getObjectRec(t *txn, key []byte) (*objectRec, bool) {
	var rec objectRec
	ok := getJSON(t.tx.Bucket(bObjects), key, &rec)
	return &rec, ok
}
