package localcloud

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

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

// readAccess fails unless user may read acct/cont/name.
func (t *txn) readAccess(user, acct, cont, name string) (access, *fault) {
	a := t.accessFor(acct, cont, name, user)
	if !a.read && !t.isPublic(acct, cont, name) {
		return a, forbidden("User does not have read access to the object")
	}
	a.read = true
	return a, nil
}

// writeAccess fails unless user owns acct or may write acct/cont/name.
func (t *txn) writeAccess(user, acct, cont, name string) *fault {
	if user != acct && !t.accessFor(acct, cont, name, user).write {
		return forbidden("User does not have access to the path")
	}
	return nil
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
		rec.Hashes = []string{hashmap.EmptyHash}
		if !c.store.blocks.has(hashmap.EmptyHash) {
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
		if f := t.writeAccess(p.user.UUID, p.acct, p.cont, p.obj); f != nil {
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
func (c *Cloud) readHashmap(p *preq) (*hashmap.Map, *fault) {
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
	hm := &hashmap.Map{BlockSize: c.store.blockSize, BlockHash: "sha256", Bytes: size, Hashes: raw.Hashes}
	if size < 0 || (size > 0 && int64(len(hm.Hashes)) != hashmap.NumBlocks(size, c.store.blockSize)) ||
		(size == 0 && !(len(hm.Hashes) == 0 || len(hm.Hashes) == 1 && hm.Hashes[0] == hashmap.EmptyHash)) {
		return nil, badRequest("The object's size does not match with the object's hashmap length")
	}
	for i, h := range hm.Hashes {
		if !hashmap.IsHexHash(h) {
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
