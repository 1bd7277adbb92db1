package localcloud

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// objectRead is what a GET or HEAD of an object reads in one transaction:
// the object's current record, the version asked for, the caller's access and
// the content to serve, or (version=list) the version listing.
type objectRead struct {
	rec     *objectRec
	ver     *version
	acc     access
	ct      content
	listing []versionEntry // for version=list, else nil
}

func (c *Cloud) getObject(p *preq) error {
	verParam := p.q.Get("version")
	var rd objectRead
	err := c.store.view(func(t *txn) error {
		var err error
		rd, err = c.readObject(t, p, verParam)
		return err
	})
	if err != nil {
		return err
	}
	if rd.listing != nil {
		writeJSON(p.w, 200, versionsListing{rd.listing})
		return nil
	}
	rec, ver := rd.rec, rd.ver
	etag, _ := topHash(ver.Hashes)
	if done, f := checkReadPreconditions(p, rec.Mtime, etag); f != nil {
		return f
	} else if done {
		return nil
	}
	h := p.w.Header()
	c.objectHeaders(p, h, rec, ver, rd.acc, etag, rd.ct.size(), verParam == "")
	if flag(p.q, "hashmap") && p.r.Method == http.MethodGet {
		c.writeHashmap(p, h, ver)
		return nil
	}
	if p.r.Method == http.MethodHead {
		h.Set("Content-Length", itoa(rd.ct.size()))
		p.w.WriteHeader(200)
		return nil
	}
	c.setDisposition(p, h, ver)
	return c.serveData(p, h, rd.ct, ver.MD5)
}

// readObject reads the object of p (the version verParam names, or the
// version list) once the caller may read it.
func (c *Cloud) readObject(t *txn, p *preq, verParam string) (objectRead, error) {
	var rd objectRead
	var f *fault
	if rd.acc, f = t.readAccess(p.user.UUID, p.acct, p.cont, p.obj); f != nil {
		return rd, f
	}
	if _, ok := t.container(p.acct, p.cont); !ok {
		return rd, notFound("Object does not exist")
	}
	if verParam == "list" {
		vs := t.versions(p.acct, p.cont, p.obj)
		if len(vs) == 0 {
			return rd, notFound("Object does not exist")
		}
		rd.listing = []versionEntry{}
		for _, v := range vs {
			if !v.Deleted {
				rd.listing = append(rd.listing, versionEntry{v.ID, versionTimestamp(v.Mtime)})
			}
		}
		return rd, nil
	}
	var err error
	if rd.rec, rd.ver, err = t.objectVersion(p.acct, p.cont, p.obj, verParam); err != nil {
		return rd, err
	}
	rd.ct = content{bs: c.store.blockSize, parts: []part{{rd.ver.Hashes, rd.ver.Bytes}}}
	if m := rd.ver.Meta["X-Object-Manifest"]; m != "" && !flag(p.q, "hashmap") {
		rd.ct.parts = t.manifestParts(p.acct, p.user.UUID, m)
	}
	return rd, nil
}

// objectVersion is an object's current record and the version verParam
// names ("" the current one). History stays readable after a delete: the
// record is then the last entry (the delete marker).
func (t *txn) objectVersion(acct, cont, obj, verParam string) (*objectRec, *version, error) {
	rec, ok := t.object(acct, cont, obj)
	if !ok {
		vs := t.versions(acct, cont, obj)
		switch {
		case len(vs) == 0:
			return nil, nil, notFound("Object does not exist")
		case verParam == "":
			return nil, nil, notFound("Object is deleted.")
		}
		rec = &objectRec{version: vs[len(vs)-1]}
	}
	ver := &rec.version
	if verParam != "" {
		id, err := strconv.ParseUint(verParam, 10, 64)
		if err != nil {
			return nil, nil, notFound("Version does not exist")
		}
		if ver, ok = t.version(acct, cont, obj, id); !ok || ver.Deleted {
			return nil, nil, notFound("Version does not exist")
		}
	}
	return rec, ver, nil
}

// writeHashmap answers GET ?hashmap with the version's hashmap, JSON or XML.
func (c *Cloud) writeHashmap(p *preq, h http.Header, ver *version) {
	hashes := ver.Hashes
	if ver.Bytes == 0 {
		hashes = []string{hashmap.EmptyHash}
	}
	body, _ := json.Marshal(hashmap.Map{BlockSize: c.store.blockSize, BlockHash: "sha256", Bytes: ver.Bytes, Hashes: hashes})
	if requestFormat(p.r, "json") == "xml" {
		body = hashmapXML(p.obj, c.store.blockSize, ver.Bytes, hashes)
		h.Set("Content-Type", "application/xml; charset=UTF-8")
	}
	h.Set("Content-Length", itoa(int64(len(body))))
	p.w.WriteHeader(200)
	p.w.Write(body)
}

// serveData writes an object's data for a GET (object or public): the whole
// content, one range (206) or several (206 multipart/byteranges, ranges in
// request order), as §8.2 says. A Range is honoured only without If-Range,
// or when If-Range is an entity tag equal to the stored MD5 checksum [Q] (a
// date would have to match the version time to the microsecond).
func (c *Cloud) serveData(p *preq, h http.Header, ct content, md5sum string) error {
	size := ct.size()
	var ranges []byteRange
	rv := p.h.Get("Range") // percent-decoded, as Synnefo reads every header
	if ir := p.h.Get("If-Range"); ir != "" {
		if _, isDate := parseHTTPDate(ir); isDate || md5sum == "" || !etagMatches(ir, md5sum) || strings.TrimSpace(ir) == "*" {
			rv = ""
		}
	}
	if rv != "" {
		var f *fault
		if ranges, f = parseRange(rv, size); f != nil {
			return f
		}
	}
	switch len(ranges) {
	case 0:
		h.Set("Content-Length", itoa(size))
		p.w.WriteHeader(200)
		return c.stream(p, ct, 0, size)
	case 1:
		r := ranges[0]
		h.Set("Content-Length", itoa(r.n))
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", r.off, r.off+r.n-1, size))
		p.w.WriteHeader(206)
		return c.stream(p, ct, r.off, r.n)
	}
	boundary := hex.EncodeToString(randomBytes(16))
	h.Set("Content-Type", "multipart/byteranges; boundary="+boundary)
	h.Del("Content-Length")
	p.w.WriteHeader(206)
	if f, ok := p.w.(http.Flusher); ok {
		f.Flush() // streamed: no Content-Length, as Pithos replies
	}
	for i, r := range ranges {
		sep := "\r\n--"
		if i == 0 {
			sep = "--"
		}
		fmt.Fprintf(p.w, "%s%s\r\nContent-Range: bytes %d-%d/%d\r\nContent-Transfer-Encoding: binary\r\n\r\n", sep, boundary, r.off, r.off+r.n-1, size)
		if err := c.stream(p, ct, r.off, r.n); err != nil {
			return nil
		}
	}
	fmt.Fprintf(p.w, "\r\n--%s--\r\n", boundary)
	return nil
}

// stream writes object bytes after the status line; a failure can only
// cut the body short, so it is logged, not rendered.
func (c *Cloud) stream(p *preq, ct content, off, n int64) error {
	if err := ct.writeRange(p.w, c.store.blocks, off, n); err != nil {
		if errors.Is(err, errBlockMissing) {
			c.log.Sugar().Errorw("object data missing", "path", p.r.URL.Path, "error", err)
		}
		// Abort the connection so the client sees a short body, not bad data.
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (c *Cloud) setDisposition(p *preq, h http.Header, ver *version) {
	dt := p.q.Get("disposition-type")
	if dt != "inline" && dt != "attachment" {
		if _, own := ver.Meta["Content-Disposition"]; own {
			return
		}
		dt = "inline"
	}
	setHeader(h, "Content-Disposition", dt+`; filename="`+p.obj+`"`)
}

// manifestParts resolves X-Object-Manifest "container/prefix" in acct to
// the objects it concatenates that user may read, in name order.
func (t *txn) manifestParts(acct, user, m string) []part {
	return t.manifestPartsOf(acct, m, func(cont, name string) bool {
		return t.accessFor(acct, cont, name, user).read
	})
}

// manifestPartsOf lists the parts of manifest m in acct; readable (nil: all)
// filters them.
func (t *txn) manifestPartsOf(acct, m string, readable func(cont, name string) bool) []part {
	cont, prefix, _ := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	var parts []part
	it := t.iterAt(acct, cont, 0)
	for name, rec := it.seek(prefix); rec != nil && strings.HasPrefix(name, prefix); name, rec = it.next() {
		if readable != nil && !readable(cont, name) {
			continue
		}
		parts = append(parts, part{rec.Hashes, rec.Bytes})
	}
	return parts
}

// objectHeaders sets the HEAD/GET reply headers of an object version.
func (c *Cloud) objectHeaders(p *preq, h http.Header, rec *objectRec, ver *version, acc access, etag string, size int64, latest bool) {
	h.Set("ETag", etag)
	h.Set("Content-Length", itoa(size))
	setHeader(h, "Content-Type", ver.Type)
	h.Set("Last-Modified", httpDate(rec.Mtime))
	h.Set("Available", "1")
	h.Set("X-Object-Hash", etag)
	h.Set("X-Object-UUID", ver.UUID)
	h.Set("X-Object-Version", strconv.FormatUint(ver.ID, 10))
	h.Set("X-Object-Version-Timestamp", httpDate(ver.Mtime))
	h.Set("X-Object-Modified-By", ver.ModifiedBy)
	for k, v := range ver.Meta {
		setHeader(h, k, v)
	}
	if !latest {
		return
	}
	// Everyone who may read sees the governing permissions; Shared-By only
	// when they are inherited from a directory object.
	if acc.perms != nil {
		setHeader(h, "X-Object-Sharing", acc.perms.String())
	}
	if acc.sharedBy != "" {
		setHeader(h, "X-Object-Shared-By", acc.sharedBy)
	}
	if p.owner() {
		if rec.Public != "" {
			setHeader(h, "X-Object-Public", c.baseURL(p.r)+"/pithos/public/"+rec.Public)
		}
		return
	}
	if acc.write {
		h.Set("X-Object-Allowed-To", "write")
	} else {
		h.Set("X-Object-Allowed-To", "read")
	}
}

// versionEntry is one version of an object in a version=list reply: on the
// wire a pair [id, "seconds.micros"].
type versionEntry struct {
	ID        uint64
	Timestamp string
}

func (v versionEntry) MarshalJSON() ([]byte, error) {
	return marshalPair(strconv.FormatUint(v.ID, 10), v.Timestamp)
}

// versionsListing is GET ?version=list.
type versionsListing struct {
	Versions []versionEntry `json:"versions"`
}
