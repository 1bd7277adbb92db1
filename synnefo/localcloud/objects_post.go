package localcloud

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

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
		if f := t.writeAccess(p.user.UUID, p.acct, p.cont, p.obj); f != nil {
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

// postData is a POST data update: write a range of the object from the body
// or from another object, then optionally truncate (§8.7, §9.4).
func (c *Cloud) postData(p *preq, meta map[string]string, state stateChange, update bool) error {
	// Permission first: a user who may not write gets 403 whatever the
	// request's other faults (Synnefo's test_not_allowed).
	if err := c.store.view(func(t *txn) error {
		if f := t.writeAccess(p.user.UUID, p.acct, p.cont, p.obj); f != nil {
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
	cr, truncTo, err := parsePostRange(p)
	if err != nil {
		return err
	}
	// Snapshot the object (and the source) to compute the new hashmap.
	var cur *objectRec
	var src io.Reader
	length := int64(-1)
	err = c.store.view(func(t *txn) error {
		var err error
		if cur, err = t.postTarget(p.userID(), p.acct, p.cont, p.obj, p.writePrecond); err != nil {
			return err
		}
		src, length, err = c.postSource(t, p, cr)
		return err
	})
	if err != nil {
		return err
	}
	offset, err := postOffset(cr, cur.Bytes)
	if err != nil {
		return err
	}
	if src == nil {
		if src, length, err = postBody(p, cr); err != nil {
			return err
		}
	}
	hashes, newSize, err := c.writeBlocks(cur.Hashes, cur.Bytes, offset, src, length)
	if err != nil {
		return err
	}
	if br, ok := src.(*bodyReader); ok && br.err != nil {
		return badRequest("Could not read request body: " + br.err.Error())
	}
	if truncTo >= 0 && truncTo < newSize {
		newSize = truncTo
		hashes = hashes[:hashmap.NumBlocks(truncTo, c.store.blockSize)]
		if truncTo == 0 {
			hashes = []string{hashmap.EmptyHash}
		}
	}
	rec := &objectRec{version: version{
		UUID: cur.UUID, Bytes: newSize, Hashes: hashes, Type: cur.Type,
		Meta: mergeMeta(cur.Meta, meta, !update), ModifiedBy: p.user.UUID,
	}}
	if f := checkMetaCount(rec.Meta); f != nil {
		return f
	}
	if err := c.store.update(func(t *txn) error { return t.commitPost(p.acct, p.cont, p.obj, cur, rec, state) }); err != nil {
		return err
	}
	writeResult(p, 204, rec)
	return nil
}

// parsePostRange reads a data POST's Content-Range and X-Object-Bytes (the
// size to truncate to, -1 for none).
func parsePostRange(p *preq) (contentRange, int64, error) {
	crv := p.h.Get("Content-Range")
	if crv == "" {
		return contentRange{}, 0, badRequest("Missing Content-Range header")
	}
	cr, ok := parseContentRange(crv)
	if !ok {
		return contentRange{}, 0, errf(416, "Invalid Content-Range header")
	}
	truncTo := int64(-1)
	if v := p.h.Get("X-Object-Bytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return contentRange{}, 0, badRequest("Invalid X-Object-Bytes header")
		}
		truncTo = n
	}
	return cr, truncTo, nil
}

// postTarget is the object acct/cont/obj a data POST updates, once user
// may write it and precond (the request's preconditions on it) holds.
func (t *txn) postTarget(user, acct, cont, obj string, precond func(exists bool, etag string) *fault) (*objectRec, error) {
	if f := t.writeAccess(user, acct, cont, obj); f != nil {
		return nil, f
	}
	cur, ok := t.object(acct, cont, obj)
	if !ok {
		return nil, notFound("Object does not exist")
	}
	etag, _ := topHash(cur.Hashes)
	if f := precond(true, etag); f != nil {
		return nil, f
	}
	return cur, nil
}

// postSource opens the X-Source-Object a data POST copies from: a reader
// of its length bytes (the range's, else the whole version's). Without the
// header it returns a nil reader.
func (c *Cloud) postSource(t *txn, p *preq, cr contentRange) (io.Reader, int64, error) {
	so := p.h.Get("X-Source-Object")
	if so == "" {
		return nil, -1, nil
	}
	scont, sobj, ok := parseObjectPath(so)
	if !ok {
		return nil, -1, badRequest("Invalid source object")
	}
	sacct := p.h.Get("X-Source-Account")
	if sacct == "" {
		sacct = p.user.UUID
	}
	if _, f := t.readAccess(p.user.UUID, sacct, scont, sobj); f != nil {
		return nil, -1, f
	}
	srec, ok := t.object(sacct, scont, sobj)
	if !ok {
		return nil, -1, notFound("Source object does not exist")
	}
	sv := &srec.version
	if v := p.h.Get("X-Source-Version"); v != "" {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, -1, notFound("Version does not exist")
		}
		if sv, ok = t.version(sacct, scont, sobj, id); !ok || sv.Deleted {
			return nil, -1, notFound("Version does not exist")
		}
	}
	length := sv.Bytes
	if cr.last >= 0 {
		rl := cr.last - cr.first + 1
		if rl > sv.Bytes {
			return nil, -1, badRequest("Object length is smaller than range length")
		}
		length = rl
	}
	if limit := c.maxSourceBytes(); length > limit {
		return nil, -1, badRequest(fmt.Sprintf("Source object too large: this server copies up to %d bytes of data in one request", limit))
	}
	// The copy stops when the client goes away.
	return &ctxReader{ctx: p.r.Context(), r: &contentReader{ct: content{bs: c.store.blockSize, parts: []part{{sv.Hashes, sv.Bytes}}}, bs: c.store.blocks, n: length}}, length, nil
}

// postOffset is where a data POST writes in an object of size bytes.
func postOffset(cr contentRange, size int64) (int64, error) {
	offset := cr.first
	if cr.appendAll {
		offset = size
	}
	if cr.total >= 0 && (cr.total != size || offset+max(cr.last-cr.first+1, 0) > size) {
		return 0, errf(416, "Supplied range will change provided object limits")
	}
	if offset > size {
		return 0, errf(416, "Supplied offset is beyond object limits")
	}
	return offset, nil
}

// postBody is a data POST's request body and its length (-1 when chunked).
func postBody(p *preq, cr contentRange) (io.Reader, int64, error) {
	length := int64(-1)
	chunked := p.r.ContentLength == -1
	if !chunked && p.r.Header.Get("Content-Length") == "" {
		return nil, -1, errf(411, "Missing or invalid Content-Length header")
	}
	if !chunked {
		length = p.r.ContentLength
		if cr.last >= 0 && cr.last-cr.first+1 != length {
			return nil, -1, badRequest("Content length does not match range length")
		}
	}
	return &bodyReader{r: p.r.Body}, length, nil
}

// commitPost stores a data POST's new version rec of cur, only if nobody
// changed the object meanwhile (else a precondition failure: retrying is
// the client's business).
func (t *txn) commitPost(acct, cont, obj string, cur, rec *objectRec, state stateChange) error {
	cr, ok := t.container(acct, cont)
	if !ok {
		return notFound("Object does not exist")
	}
	now, ok := t.object(acct, cont, obj)
	if !ok {
		return notFound("Object does not exist")
	}
	if now.ID != cur.ID {
		return errf(409, "Object was modified concurrently; retry")
	}
	rec.Sharing, rec.Public = now.Sharing, now.Public
	state.apply(rec)
	if err := t.putObject(acct, cont, obj, cr, rec); err != nil {
		return err
	}
	return t.checkQuota(acct, cr, rec.Bytes-now.Bytes)
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
			out = append(out, hashmap.EmptyHash)
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
		out = []string{hashmap.EmptyHash}
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
