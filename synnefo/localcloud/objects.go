package localcloud

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/pithos"
)

// userMetaHeaders are the object headers stored as user metadata besides
// X-Object-Meta-* (§11).
var userMetaHeaders = []string{"Content-Encoding", "Content-Disposition", "X-Object-Manifest"}

// objectMetaFromRequest collects the meta an object request sets.
func objectMetaFromRequest(h http.Header) (map[string]string, *fault) {
	meta, f := metaFromHeaders(h, "X-Object-Meta-")
	if f != nil {
		return nil, f
	}
	for _, k := range userMetaHeaders {
		if vals, ok := h[k]; ok {
			meta[k] = strings.Join(vals, ",")
		}
	}
	return meta, nil
}

func checkMetaCount(meta map[string]string) *fault {
	if len(meta) > 32 {
		return badRequest("Pithos+ resources cannot have more than 32 metadata items per domain")
	}
	return nil
}

// parsePublic reads X-Object-Public: (set, publish, fault).
func parsePublic(h http.Header) (bool, bool, *fault) {
	vals, ok := h["X-Object-Public"]
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(strings.Join(vals, ""))) {
	case "true":
		return true, true, nil
	case "false", "":
		return true, false, nil
	}
	return false, false, badRequest("Bad X-Object-Public header value")
}

// stateChange is the sharing/public part of a request.
type stateChange struct {
	sharingSet bool
	sharing    *perms
	publicSet  bool
	public     bool
}

func parseState(h http.Header) (stateChange, *fault) {
	var s stateChange
	if vals, ok := h["X-Object-Sharing"]; ok {
		s.sharingSet = true
		p, f := parseSharing(strings.ReplaceAll(strings.Join(vals, ","), "~", ""))
		if f != nil {
			return s, f
		}
		s.sharing = p
	}
	var f *fault
	s.publicSet, s.public, f = parsePublic(h)
	return s, f
}

// apply sets the state on rec (which keeps its old state where unsent).
func (s stateChange) apply(rec *objectRec) {
	if s.sharingSet {
		rec.Sharing = s.sharing
	}
	if s.publicSet {
		if !s.public {
			rec.Public = ""
		} else if rec.Public == "" {
			rec.Public = newPublicID()
		}
	}
}

// etagList matches an If-Match / If-None-Match value against an ETag.
func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		e = strings.TrimPrefix(e, "W/")
		e = strings.Trim(e, `"`)
		if e == "*" || strings.EqualFold(e, etag) {
			return true
		}
	}
	return false
}

// checkWritePreconditions applies If-Match/If-None-Match to the current
// object of a write (exists=false: no object).
func checkWritePreconditions(h http.Header, exists bool, etag string) *fault {
	if v := h.Get("If-Match"); v != "" {
		if !exists {
			return errf(412, "Resource does not exist")
		}
		if !etagMatches(v, etag) {
			return errf(412, "Resource ETag does not match")
		}
	}
	if v := h.Get("If-None-Match"); v != "" && exists && etagMatches(v, etag) {
		return errf(412, "Resource exists or ETag matches")
	}
	return nil
}

func (c *Cloud) serveObject(p *preq) error {
	switch p.r.Method {
	case http.MethodHead, http.MethodGet:
		return c.getObject(p)
	case http.MethodPut:
		return c.putObject(p)
	case http.MethodPost:
		return c.postObject(p)
	case http.MethodDelete:
		return c.deleteObject(p)
	case "COPY", "MOVE":
		return c.copyMoveMethod(p)
	}
	return errf(405, "Method not allowed")
}

// readAccess fails unless the caller may read acct/cont/name.
func (t *txn) readAccess(p *preq, acct, cont, name string) (access, *fault) {
	a := t.accessFor(acct, cont, name, p.user.UUID)
	if !a.read && !t.isPublic(acct, cont, name) {
		return a, forbidden("User does not have read access to the object")
	}
	a.read = true
	return a, nil
}

func (t *txn) writeAccess(p *preq, acct, cont, name string) *fault {
	if p.user.UUID != acct && !t.accessFor(acct, cont, name, p.user.UUID).write {
		return forbidden("User does not have access to the path")
	}
	return nil
}

func (c *Cloud) getObject(p *preq) error {
	var (
		rec     *objectRec
		ver     *version
		acc     access
		ct      content
		listing []any
	)
	verParam := p.q.Get("version")
	err := c.store.view(func(t *txn) error {
		var f *fault
		if acc, f = t.readAccess(p, p.acct, p.cont, p.obj); f != nil {
			return f
		}
		if _, ok := t.container(p.acct, p.cont); !ok {
			return notFound("Object does not exist")
		}
		if verParam == "list" {
			vs := t.versions(p.acct, p.cont, p.obj)
			if len(vs) == 0 {
				return notFound("Object does not exist")
			}
			listing = []any{}
			for _, v := range vs {
				if !v.Deleted {
					listing = append(listing, []any{v.ID, versionTimestamp(v.Mtime)})
				}
			}
			return nil
		}
		var ok bool
		if rec, ok = t.object(p.acct, p.cont, p.obj); !ok {
			vs := t.versions(p.acct, p.cont, p.obj)
			switch {
			case len(vs) == 0:
				return notFound("Object does not exist")
			case verParam == "":
				return notFound("Object is deleted.")
			}
			// History stays readable after a delete; the last entry (the
			// delete marker) is the latest change.
			rec = &objectRec{version: vs[len(vs)-1]}
		}
		ver = &rec.version
		if verParam != "" {
			id, err := strconv.ParseUint(verParam, 10, 64)
			if err != nil {
				return notFound("Version does not exist")
			}
			if ver, ok = t.version(p.acct, p.cont, p.obj, id); !ok || ver.Deleted {
				return notFound("Version does not exist")
			}
		}
		ct = content{bs: c.store.blockSize, parts: []part{{ver.Hashes, ver.Bytes}}}
		if m := ver.Meta["X-Object-Manifest"]; m != "" && !flag(p.q, "hashmap") {
			ct.parts = t.manifestParts(p, m)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if listing != nil {
		writeJSON(p.w, 200, map[string]any{"versions": listing})
		return nil
	}
	etag, _ := topHash(ver.Hashes)
	if f := checkTimePreconditions(p.h, rec.Mtime); f != nil {
		return f
	}
	if v := p.h.Get("If-Match"); v != "" && !etagMatches(v, etag) {
		return errf(412, "Resource ETag does not match")
	}
	if v := p.h.Get("If-None-Match"); v != "" && etagMatches(v, etag) {
		p.w.Header().Set("ETag", etag)
		p.w.WriteHeader(304)
		return nil
	}
	h := p.w.Header()
	c.objectHeaders(p, h, rec, ver, acc, etag, ct.size(), verParam == "")
	if flag(p.q, "hashmap") && p.r.Method == http.MethodGet {
		hashes := ver.Hashes
		if ver.Bytes == 0 {
			hashes = []string{pithos.EmptyHash}
		}
		body, _ := json.Marshal(pithos.Hashmap{BlockSize: c.store.blockSize, BlockHash: "sha256", Bytes: ver.Bytes, Hashes: hashes})
		if requestFormat(p.r, "json") == "xml" {
			body = hashmapXML(p.obj, c.store.blockSize, ver.Bytes, hashes)
			h.Set("Content-Type", "application/xml; charset=UTF-8")
		}
		h.Set("Content-Length", itoa(int64(len(body))))
		p.w.WriteHeader(200)
		p.w.Write(body)
		return nil
	}
	size := ct.size()
	if p.r.Method == http.MethodHead {
		h.Set("Content-Length", itoa(size))
		p.w.WriteHeader(200)
		return nil
	}
	c.setDisposition(p, h, ver)
	return c.serveData(p, h, ct, ver.MD5)
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

// manifestParts resolves X-Object-Manifest "container/prefix" to the objects
// it concatenates, in name order.
func (t *txn) manifestParts(p *preq, m string) []part {
	return t.manifestPartsOf(p.acct, m, func(cont, name string) bool {
		return t.accessFor(p.acct, cont, name, p.user.UUID).read
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

// writeResult replies to a write that made a new version.
func writeResult(p *preq, status int, rec *objectRec) {
	etag, _ := topHash(rec.Hashes)
	p.w.Header().Set("ETag", etag)
	p.w.Header().Set("X-Object-Version", strconv.FormatUint(rec.ID, 10))
	p.w.WriteHeader(status)
}

func (c *Cloud) putObject(p *preq) error {
	// Preconditions against the destination, early (and again atomically).
	if err := c.checkDest(p); err != nil {
		return err
	}
	if src := p.h.Get("X-Copy-From"); src != "" {
		return c.putCopy(p, src, false)
	}
	if src := p.h.Get("X-Move-From"); src != "" {
		return c.putCopy(p, src, true)
	}
	meta, f := objectMetaFromRequest(p.h)
	if f != nil {
		return f
	}
	if f := checkMetaCount(meta); f != nil {
		return f
	}
	state, f := parseState(p.h)
	if f != nil {
		return f
	}
	if (state.sharingSet || state.publicSet) && !p.owner() {
		return forbidden("Modifying other account's object permissions is not allowed")
	}
	// Permission first (as Synnefo): a user who may not write here gets
	// 403, not a 409 listing the blocks the server lacks, and no body is
	// read.
	if f := c.checkWriteAccess(p); f != nil {
		return f
	}
	chunked := p.r.ContentLength == -1
	if !chunked && p.r.Header.Get("Content-Length") == "" {
		return errf(411, "Missing or invalid Content-Length header")
	}
	ctype := p.h.Get("Content-Type")
	if ctype == "" {
		return errf(411, "Missing Content-Type header")
	}
	if !isASCII(ctype) || len(ctype) > 256 {
		return badRequest("Invalid Content-Type header")
	}
	rec := &objectRec{version: version{Type: ctype, Meta: meta, ModifiedBy: p.user.UUID}}
	if flag(p.q, "hashmap") {
		hm, f := c.readHashmap(p)
		if f != nil {
			return f
		}
		rec.Hashes, rec.Bytes = hm.Hashes, hm.Bytes
	} else {
		if p.r.ContentLength > 5<<30 {
			return badRequest("Maximum size is reached")
		}
		hashes, size, sum, err := c.storeBody(p.r.Body, p.h.Get("ETag") != "")
		if err != nil {
			return err
		}
		if want := p.h.Get("ETag"); want != "" {
			if !strings.EqualFold(strings.Trim(want, `"`), sum) {
				return errf(422, "Object ETag does not match")
			}
			rec.MD5 = sum
		}
		rec.Hashes, rec.Bytes = hashes, size
	}
	return c.commit(p, rec, state, 201)
}

// checkDest evaluates If-Match/If-None-Match against the destination.
func (c *Cloud) checkDest(p *preq) error {
	if p.h.Get("If-Match") == "" && p.h.Get("If-None-Match") == "" {
		return nil
	}
	return c.store.view(func(t *txn) error {
		cur, exists := t.object(p.acct, p.cont, p.obj)
		etag, _ := topHash(cur.Hashes)
		if f := checkWritePreconditions(p.h, exists, etag); f != nil {
			return f
		}
		return nil
	})
}

// commit makes rec the new current version of the request's object, in one
// transaction with the destination checks and quota.
func (c *Cloud) commit(p *preq, rec *objectRec, state stateChange, status int) error {
	if rec.Bytes == 0 {
		rec.Hashes = []string{pithos.EmptyHash}
		if !c.store.blocks.has(pithos.EmptyHash) {
			if _, err := c.store.blocks.put(nil); err != nil {
				return err
			}
		}
	}
	err := c.store.update(func(t *txn) error {
		cr, ok := t.container(p.acct, p.cont)
		if !ok {
			return notFound("Container does not exist")
		}
		if f := t.writeAccess(p, p.acct, p.cont, p.obj); f != nil {
			return f
		}
		cur, exists := t.object(p.acct, p.cont, p.obj)
		etag, _ := topHash(cur.Hashes)
		if f := checkWritePreconditions(p.h, exists, etag); f != nil {
			return f
		}
		if exists {
			rec.Sharing, rec.Public = cur.Sharing, cur.Public
		}
		state.apply(rec)
		if err := t.putObject(p.acct, p.cont, p.obj, cr, rec); err != nil {
			return err
		}
		return t.checkQuota(p.acct, cr, rec.Bytes)
	})
	if err != nil {
		return err
	}
	writeResult(p, status, rec)
	return nil
}

// readHashmap reads and checks a hashmap PUT body; missing blocks are a 409
// whose body is the bare JSON list of their hashes.
func (c *Cloud) readHashmap(p *preq) (*pithos.Hashmap, *fault) {
	body, err := io.ReadAll(io.LimitReader(p.r.Body, 64<<20))
	if err != nil {
		return nil, badRequest("Invalid data formatting")
	}
	var raw struct {
		Bytes  json.Number `json:"bytes"`
		Hashes []string    `json:"hashes"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.Hashes == nil || raw.Bytes == "" {
		return nil, badRequest("Invalid data formatting")
	}
	size, err := strconv.ParseInt(strings.Trim(raw.Bytes.String(), `"`), 10, 64)
	if err != nil {
		return nil, badRequest("Invalid data formatting")
	}
	hm := &pithos.Hashmap{BlockSize: c.store.blockSize, BlockHash: "sha256", Bytes: size, Hashes: raw.Hashes}
	if size < 0 || (size > 0 && int64(len(hm.Hashes)) != pithos.NumBlocks(size, c.store.blockSize)) ||
		(size == 0 && !(len(hm.Hashes) == 0 || len(hm.Hashes) == 1 && hm.Hashes[0] == pithos.EmptyHash)) {
		return nil, badRequest("The object's size does not match with the object's hashmap length")
	}
	for i, h := range hm.Hashes {
		if !pithos.IsHexHash(h) {
			return nil, badRequest("Invalid hash: " + h)
		}
		hm.Hashes[i] = strings.ToLower(h)
	}
	var missing []string
	seen := map[string]bool{}
	for _, h := range hm.Hashes {
		if seen[h] {
			continue
		}
		seen[h] = true
		if !c.store.blocks.has(h) {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return nil, &fault{Status: 409, Name: "conflict", Message: "missing blocks", missing: missing}
	}
	return hm, nil
}

// storeBody cuts a body into blocks, storing each; it returns the hashes,
// the size and, when asked, the MD5 of the body.
func (c *Cloud) storeBody(r io.Reader, wantMD5 bool) ([]string, int64, string, error) {
	br := &bodyReader{r: r}
	var body io.Reader = br
	var sum hash.Hash
	if wantMD5 {
		sum = md5.New()
		body = io.TeeReader(body, sum)
	}
	var hashes []string
	var size int64
	bp := c.blockBuf()
	defer c.blockBufs.Put(bp)
	buf := *bp
	for {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			h, perr := c.store.blocks.put(buf[:n])
			if perr != nil {
				return nil, 0, "", perr
			}
			hashes = append(hashes, h)
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, 0, "", badRequest("Could not read request body: " + err.Error())
		}
	}
	if br.err != nil {
		return nil, 0, "", badRequest("Could not read request body: " + br.err.Error())
	}
	md := ""
	if sum != nil {
		md = hex.EncodeToString(sum.Sum(nil))
	}
	return hashes, size, md, nil
}

// bodyReader reads a request body and remembers a failure other than its
// clean end: io.ReadFull reports a body cut short by a client that went away
// as io.ErrUnexpectedEOF, just like a short last block, so only the body's
// own error tells a truncated upload (which must not commit) from a whole one.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// parseObjectPath reads "/container/object" (X-Copy-From, Destination, …).
func parseObjectPath(v string) (cont, obj string, ok bool) {
	rest, ok := strings.CutPrefix(v, "/")
	if !ok {
		return "", "", false
	}
	cont, obj, _ = strings.Cut(rest, "/")
	return cont, obj, cont != "" && obj != ""
}

// putCopy is PUT with X-Copy-From or X-Move-From.
func (c *Cloud) putCopy(p *preq, src string, move bool) error {
	hdr := "X-Copy-From"
	if move {
		hdr = "X-Move-From"
	}
	if p.r.Header.Get("Content-Length") == "" {
		return errf(411, "Missing or invalid Content-Length header")
	}
	scont, sobj, ok := parseObjectPath(src)
	if !ok {
		return badRequest("Invalid " + hdr + " header")
	}
	sacct := p.h.Get("X-Source-Account")
	if sacct == "" {
		sacct = p.user.UUID
	}
	return c.copyObjects(p, copyReq{
		srcAcct: sacct, srcCont: scont, srcObj: sobj,
		dstAcct: p.acct, dstCont: p.cont, dstObj: p.obj,
		move: move, srcVersion: p.h.Get("X-Source-Version"), precondOnSource: false,
	})
}

// copyMoveMethod is the COPY / MOVE method with a Destination header.
func (c *Cloud) copyMoveMethod(p *preq) error {
	dest := p.h.Get("Destination")
	if dest == "" {
		return badRequest("Missing Destination header")
	}
	dcont, dobj, ok := parseObjectPath(dest)
	if !ok {
		return badRequest("Invalid Destination header")
	}
	dacct := p.h.Get("Destination-Account")
	if dacct == "" {
		dacct = p.user.UUID
	}
	move := p.r.Method == "MOVE"
	return c.copyObjects(p, copyReq{
		srcAcct: p.acct, srcCont: p.cont, srcObj: p.obj,
		dstAcct: dacct, dstCont: dcont, dstObj: dobj,
		move: move, srcVersion: p.h.Get("X-Source-Version"), precondOnSource: true,
	})
}

type copyReq struct {
	srcAcct, srcCont, srcObj string
	dstAcct, dstCont, dstObj string
	move                     bool
	srcVersion               string
	precondOnSource          bool
}

// copyObjects copies or moves one object (and, with ?delimiter, every object
// under it) in one transaction, so a subtree move is atomic.
func (c *Cloud) copyObjects(p *preq, q copyReq) error {
	if q.move && q.srcVersion != "" {
		q.srcVersion = ""
	}
	meta, f := objectMetaFromRequest(p.h)
	if f != nil {
		return f
	}
	state, f := parseState(p.h)
	if f != nil {
		return f
	}
	if (state.sharingSet || state.publicSet) && p.user.UUID != q.dstAcct {
		return forbidden("Modifying other account's object permissions is not allowed")
	}
	ctype := ""
	if !flag(p.q, "ignore_content_type") {
		ctype = p.h.Get("Content-Type")
	}
	delim := p.q.Get("delimiter")
	var last *objectRec
	err := c.store.update(func(t *txn) error {
		if q.move && p.user.UUID != q.srcAcct {
			return forbidden("Not allowed")
		}
		if _, f := t.readAccess(p, q.srcAcct, q.srcCont, q.srcObj); f != nil {
			return f
		}
		src, ok := t.object(q.srcAcct, q.srcCont, q.srcObj)
		if !ok {
			return notFound("Object does not exist")
		}
		srcVer := &src.version
		if q.srcVersion != "" {
			id, err := strconv.ParseUint(q.srcVersion, 10, 64)
			if err != nil {
				return notFound("Version does not exist")
			}
			if srcVer, ok = t.version(q.srcAcct, q.srcCont, q.srcObj, id); !ok || srcVer.Deleted {
				return notFound("Version does not exist")
			}
		}
		if q.precondOnSource {
			etag, _ := topHash(srcVer.Hashes)
			if f := checkWritePreconditions(p.h, true, etag); f != nil {
				return f
			}
		} else {
			cur, exists := t.object(q.dstAcct, q.dstCont, q.dstObj)
			etag, _ := topHash(cur.Hashes)
			if f := checkWritePreconditions(p.h, exists, etag); f != nil {
				return f
			}
		}
		dstC, ok := t.container(q.dstAcct, q.dstCont)
		if !ok {
			return notFound("Container does not exist")
		}
		// The pairs to copy: the object, then its subtree.
		type pair struct {
			from, to string
			ver      *version
			rec      *objectRec
		}
		pairs := []pair{{q.srcObj, q.dstObj, srcVer, src}}
		if delim != "" {
			prefix := q.srcObj + delim
			it := t.iterAt(q.srcAcct, q.srcCont, 0)
			for name, rec := it.seek(prefix); rec != nil && strings.HasPrefix(name, prefix); name, rec = it.next() {
				if !t.accessFor(q.srcAcct, q.srcCont, name, p.user.UUID).read {
					continue
				}
				pairs = append(pairs, pair{name, q.dstObj + delim + name[len(prefix):], &rec.version, rec})
			}
		}
		for _, pr := range pairs {
			if f := t.writeAccess(p, q.dstAcct, q.dstCont, pr.to); f != nil {
				return f
			}
			onto := q.srcAcct == q.dstAcct && q.srcCont == q.dstCont && pr.from == pr.to
			if q.move && onto && ctype == "" && len(meta) == 0 && !state.sharingSet && !state.publicSet {
				continue // moving onto itself: nothing to do
			}
			nrec := &objectRec{version: version{
				Bytes: pr.ver.Bytes, Hashes: pr.ver.Hashes, Type: pr.ver.Type, MD5: pr.ver.MD5,
				Meta: mergeMeta(pr.ver.Meta, meta, false), ModifiedBy: p.user.UUID,
			}}
			if f := checkMetaCount(nrec.Meta); f != nil {
				return f
			}
			if ctype != "" {
				nrec.Type = ctype
			}
			cur, exists := t.object(q.dstAcct, q.dstCont, pr.to)
			switch {
			case q.move:
				nrec.UUID = pr.rec.UUID
			case q.srcAcct != q.dstAcct || q.srcCont != q.dstCont || pr.from != pr.to:
				// A copy is a new object even over an existing one; only a
				// copy onto itself (restore, type change) keeps the UUID.
				nrec.UUID = newUUID()
			}
			if exists {
				nrec.Sharing, nrec.Public = cur.Sharing, cur.Public
			}
			state.apply(nrec)
			if q.move && !onto {
				// Remove the source first so a move within one container
				// keeps the counters right.
				srcC, _ := t.container(q.srcAcct, q.srcCont)
				if err := t.deleteObject(q.srcAcct, q.srcCont, pr.from, p.user.UUID, srcC); err != nil {
					return err
				}
				if q.srcAcct == q.dstAcct && q.srcCont == q.dstCont {
					dstC = srcC
				}
			}
			if err := t.putObject(q.dstAcct, q.dstCont, pr.to, dstC, nrec); err != nil {
				return err
			}
			if pr.from == q.srcObj {
				last = nrec
			}
		}
		if last == nil { // moved onto itself
			last = src
		}
		return t.checkQuota(q.dstAcct, dstC, srcVer.Bytes)
	})
	if err != nil {
		return err
	}
	writeResult(p, 201, last)
	return nil
}

func (c *Cloud) deleteObject(p *preq) error {
	if !p.owner() {
		return forbidden("Not allowed")
	}
	until := untilParam(p.q)
	delim := p.q.Get("delimiter")
	err := c.store.update(func(t *txn) error {
		cr, ok := t.container(p.acct, p.cont)
		if !ok {
			return notFound("Object does not exist")
		}
		if until != 0 {
			return t.purgeHistory(append(okey(p.acct, p.cont, p.obj), 0), until)
		}
		if _, ok := t.object(p.acct, p.cont, p.obj); !ok {
			if len(t.versions(p.acct, p.cont, p.obj)) > 0 {
				return notFound("Object is deleted.")
			}
			return notFound("Object does not exist")
		}
		if err := t.deleteObject(p.acct, p.cont, p.obj, p.user.UUID, cr); err != nil {
			return err
		}
		if delim == "" {
			return nil
		}
		prefix := p.obj + delim
		var names []string
		it := t.iterAt(p.acct, p.cont, 0)
		for name, rec := it.seek(prefix); rec != nil && strings.HasPrefix(name, prefix); name, rec = it.next() {
			names = append(names, name)
		}
		for _, n := range names {
			if err := t.deleteObject(p.acct, p.cont, n, p.user.UUID, cr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.w.WriteHeader(204)
	return nil
}

func (c *Cloud) postObject(p *preq) error {
	ctype := p.r.Header.Get("Content-Type")
	if strings.HasPrefix(ctype, "multipart/form-data") {
		return c.formUpload(p)
	}
	dataMode := ctype == "application/octet-stream" || p.h.Get("X-Source-Object") != ""
	meta, f := objectMetaFromRequest(p.h)
	if f != nil {
		return f
	}
	state, f := parseState(p.h)
	if f != nil {
		return f
	}
	if (state.sharingSet || state.publicSet) && !p.owner() {
		return forbidden("Modifying other account's object permissions is not allowed")
	}
	update := flag(p.q, "update")
	if dataMode {
		return c.postData(p, meta, state, update)
	}
	var rec *objectRec
	newVersion := len(meta) > 0 || !update
	err := c.store.update(func(t *txn) error {
		cr, ok := t.container(p.acct, p.cont)
		if !ok {
			return notFound("Object does not exist")
		}
		if f := t.writeAccess(p, p.acct, p.cont, p.obj); f != nil {
			return f
		}
		cur, exists := t.object(p.acct, p.cont, p.obj)
		if !exists {
			return notFound("Object does not exist")
		}
		etag, _ := topHash(cur.Hashes)
		if f := checkWritePreconditions(p.h, true, etag); f != nil {
			return f
		}
		rec = cur
		state.apply(rec)
		if !newVersion {
			return t.setState(p.acct, p.cont, p.obj, rec)
		}
		rec.Meta = mergeMeta(cur.Meta, meta, !update)
		if f := checkMetaCount(rec.Meta); f != nil {
			return f
		}
		rec.ModifiedBy = p.user.UUID
		return t.putObject(p.acct, p.cont, p.obj, cr, rec)
	})
	if err != nil {
		return err
	}
	if newVersion {
		p.w.Header().Set("X-Object-Version", strconv.FormatUint(rec.ID, 10))
	}
	p.w.WriteHeader(202)
	return nil
}

// contentRange is a parsed "Content-Range: bytes first-last/total" of a POST.
type contentRange struct {
	first, last, total int64 // -1 = absent ("*" or open end)
	appendAll          bool  // "bytes */*"
}

func parseContentRange(v string) (contentRange, bool) {
	r := contentRange{first: -1, last: -1, total: -1}
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return r, false
	}
	rng, total, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return r, false
	}
	if total != "*" {
		n, err := strconv.ParseInt(total, 10, 64)
		if err != nil {
			return r, false
		}
		r.total = n
	}
	if rng == "*" {
		r.appendAll = true
		return r, true
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return r, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil || n < 0 {
		return r, false
	}
	r.first = n
	if b != "" {
		m, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			return r, false
		}
		r.last = m
	}
	if r.last >= 0 && r.first > r.last || r.total >= 0 && (r.first >= r.total || r.last >= r.total) {
		return r, false
	}
	return r, true
}

// postData is a POST data update: write a range of the object from the body
// or from another object, then optionally truncate (§8.7, §9.4).
func (c *Cloud) postData(p *preq, meta map[string]string, state stateChange, update bool) error {
	// Permission first: a user who may not write gets 403 whatever the
	// request's other faults (Synnefo's test_not_allowed).
	if err := c.store.view(func(t *txn) error {
		if f := t.writeAccess(p, p.acct, p.cont, p.obj); f != nil {
			return f
		}
		return nil
	}); err != nil {
		return err
	}
	// Data POSTs to one object take turns, as Synnefo's do (its backend
	// locks the object's path): the second applies to the first's result
	// instead of failing.
	defer c.lockObject(p.acct, p.cont, p.obj)()
	crv := p.h.Get("Content-Range")
	if crv == "" {
		return badRequest("Missing Content-Range header")
	}
	cr, ok := parseContentRange(crv)
	if !ok {
		return errf(416, "Invalid Content-Range header")
	}
	truncTo := int64(-1)
	if v := p.h.Get("X-Object-Bytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badRequest("Invalid X-Object-Bytes header")
		}
		truncTo = n
	}
	// Snapshot the object (and the source) to compute the new hashmap.
	var cur *objectRec
	var src io.Reader
	length := int64(-1)
	err := c.store.view(func(t *txn) error {
		if f := t.writeAccess(p, p.acct, p.cont, p.obj); f != nil {
			return f
		}
		var ok bool
		if cur, ok = t.object(p.acct, p.cont, p.obj); !ok {
			return notFound("Object does not exist")
		}
		etag, _ := topHash(cur.Hashes)
		if f := checkWritePreconditions(p.h, true, etag); f != nil {
			return f
		}
		if so := p.h.Get("X-Source-Object"); so != "" {
			scont, sobj, ok := parseObjectPath(so)
			if !ok {
				return badRequest("Invalid source object")
			}
			sacct := p.h.Get("X-Source-Account")
			if sacct == "" {
				sacct = p.user.UUID
			}
			if _, f := t.readAccess(p, sacct, scont, sobj); f != nil {
				return f
			}
			srec, ok := t.object(sacct, scont, sobj)
			if !ok {
				return notFound("Source object does not exist")
			}
			sv := &srec.version
			if v := p.h.Get("X-Source-Version"); v != "" {
				id, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return notFound("Version does not exist")
				}
				if sv, ok = t.version(sacct, scont, sobj, id); !ok || sv.Deleted {
					return notFound("Version does not exist")
				}
			}
			length = sv.Bytes
			if cr.last >= 0 {
				rl := cr.last - cr.first + 1
				if rl > sv.Bytes {
					return badRequest("Object length is smaller than range length")
				}
				length = rl
			}
			if limit := c.maxSourceBytes(); length > limit {
				return badRequest(fmt.Sprintf("Source object too large: this server copies up to %d bytes of data in one request", limit))
			}
			// The copy stops when the client goes away.
			src = &ctxReader{ctx: p.r.Context(), r: &contentReader{ct: content{bs: c.store.blockSize, parts: []part{{sv.Hashes, sv.Bytes}}}, bs: c.store.blocks, n: length}}
		}
		return nil
	})
	if err != nil {
		return err
	}
	size := cur.Bytes
	offset := cr.first
	if cr.appendAll {
		offset = size
	}
	if cr.total >= 0 && (cr.total != size || offset+max(cr.last-cr.first+1, 0) > size) {
		return errf(416, "Supplied range will change provided object limits")
	}
	if offset > size {
		return errf(416, "Supplied offset is beyond object limits")
	}
	if src == nil {
		chunked := p.r.ContentLength == -1
		if !chunked && p.r.Header.Get("Content-Length") == "" {
			return errf(411, "Missing or invalid Content-Length header")
		}
		if !chunked {
			length = p.r.ContentLength
			if cr.last >= 0 && cr.last-cr.first+1 != length {
				return badRequest("Content length does not match range length")
			}
		}
		src = &bodyReader{r: p.r.Body}
	}
	hashes, newSize, err := c.writeBlocks(cur.Hashes, size, offset, src, length)
	if err != nil {
		return err
	}
	if br, ok := src.(*bodyReader); ok && br.err != nil {
		return badRequest("Could not read request body: " + br.err.Error())
	}
	if truncTo >= 0 && truncTo < newSize {
		newSize = truncTo
		hashes = hashes[:pithos.NumBlocks(truncTo, c.store.blockSize)]
		if truncTo == 0 {
			hashes = []string{pithos.EmptyHash}
		}
	}
	rec := &objectRec{version: version{
		UUID: cur.UUID, Bytes: newSize, Hashes: hashes, Type: cur.Type,
		Meta: mergeMeta(cur.Meta, meta, !update), ModifiedBy: p.user.UUID,
	}}
	if f := checkMetaCount(rec.Meta); f != nil {
		return f
	}
	// Commit only if nobody changed the object meanwhile; else 409-free retry
	// is the client's business: report a precondition failure.
	err = c.store.update(func(t *txn) error {
		cr, ok := t.container(p.acct, p.cont)
		if !ok {
			return notFound("Object does not exist")
		}
		now, ok := t.object(p.acct, p.cont, p.obj)
		if !ok {
			return notFound("Object does not exist")
		}
		if now.ID != cur.ID {
			return errf(409, "Object was modified concurrently; retry")
		}
		rec.Sharing, rec.Public = now.Sharing, now.Public
		state.apply(rec)
		if err := t.putObject(p.acct, p.cont, p.obj, cr, rec); err != nil {
			return err
		}
		return t.checkQuota(p.acct, cr, rec.Bytes-now.Bytes)
	})
	if err != nil {
		return err
	}
	writeResult(p, 204, rec)
	return nil
}

// writeBlocks overlays n bytes of src (n < 0: to EOF) at offset on an
// object's blocks and returns the new hashes and size. Each touched block is
// padded(old)[:o] + data + padded(old)[o+len(data):], as Pithos does.
func (c *Cloud) writeBlocks(hashes []string, size, offset int64, src io.Reader, n int64) ([]string, int64, error) {
	bs := c.store.blockSize
	out := append([]string(nil), hashes...)
	if size == 0 {
		out = nil
	}
	buf := make([]byte, bs)
	pos := offset
	for n != 0 {
		i := pos / bs
		o := pos % bs
		k := bs - o
		if n > 0 {
			k = min(k, n)
		}
		for j := range buf {
			buf[j] = 0
		}
		if i < int64(len(out)) {
			old, err := c.store.blocks.read(out[i])
			if err != nil {
				return nil, 0, fmt.Errorf("read block %s: %w", out[i], err)
			}
			copy(buf, old)
		}
		got, err := io.ReadFull(src, buf[o:o+k])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, 0, badRequest("Could not read request body: " + err.Error())
		}
		if n > 0 && int64(got) < k {
			return nil, 0, badRequest("Content length does not match range length")
		}
		if got == 0 {
			break
		}
		h, perr := c.store.blocks.put(buf)
		if perr != nil {
			return nil, 0, perr
		}
		for int64(len(out)) <= i {
			out = append(out, pithos.EmptyHash)
		}
		out[i] = h
		pos += int64(got)
		size = max(size, pos)
		if n > 0 {
			n -= int64(got)
		}
		if int64(got) < k { // chunked body ended
			break
		}
	}
	if len(out) == 0 {
		out = []string{pithos.EmptyHash}
	}
	return out, size, nil
}

// formUpload is POST multipart/form-data with the file in X-Object-Data:
// it creates or replaces the object like a data PUT.
func (c *Cloud) formUpload(p *preq) error {
	mr, err := p.r.MultipartReader()
	if err != nil {
		return badRequest("Invalid multipart body")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return badRequest("Missing X-Object-Data field")
		}
		if err != nil {
			return badRequest("Invalid multipart body")
		}
		if part.FormName() != "X-Object-Data" {
			continue
		}
		hashes, size, _, err := c.storeBody(part, false)
		if err != nil {
			return err
		}
		rec := &objectRec{version: version{Type: partType(part.Header), Hashes: hashes, Bytes: size, ModifiedBy: p.user.UUID}}
		return c.commit(p, rec, stateChange{}, 201)
	}
}

func partType(h textproto.MIMEHeader) string {
	if t := h.Get("Content-Type"); t != "" {
		return t
	}
	return "application/octet-stream"
}
