package localcloud

import (
	"strconv"
	"strings"
)

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
	ed, f := parseCopyEdit(p, q)
	if f != nil {
		return f
	}
	delim := p.q.Get("delimiter")
	var last *objectRec
	err := c.store.update(func(t *txn) error {
		src, srcVer, err := t.copySource(p.userID(), q, p.writePrecond)
		if err != nil {
			return err
		}
		dstC, ok := t.container(q.dstAcct, q.dstCont)
		if !ok {
			return notFound("Container does not exist")
		}
		for _, pr := range t.copyPairs(p.userID(), q, src, srcVer, delim) {
			var nrec *objectRec
			if nrec, dstC, err = t.copyOne(p.userID(), q, pr, ed, dstC); err != nil {
				return err
			}
			if nrec != nil && pr.from == q.srcObj {
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

// copyEdit is what a copy or move changes on the way: metadata, sharing
// and public state, and the content type ("" keeps the source's).
type copyEdit struct {
	meta  map[string]string
	state stateChange
	ctype string
}

func parseCopyEdit(p *preq, q copyReq) (copyEdit, *fault) {
	var ed copyEdit
	var f *fault
	if ed.meta, f = objectMetaFromRequest(p.h); f != nil {
		return ed, f
	}
	if ed.state, f = parseState(p.h); f != nil {
		return ed, f
	}
	if (ed.state.sharingSet || ed.state.publicSet) && p.user.UUID != q.dstAcct {
		return ed, forbidden("Modifying other account's object permissions is not allowed")
	}
	if !flag(p.q, "ignore_content_type") {
		ed.ctype = p.h.Get("Content-Type")
	}
	return ed, nil
}

// copySource is the object (and version) a copy or move by user reads,
// once user may and precond (the request's preconditions, on the source or
// the destination as q says) holds.
func (t *txn) copySource(user string, q copyReq, precond func(exists bool, etag string) *fault) (*objectRec, *version, error) {
	if q.move && user != q.srcAcct {
		return nil, nil, forbidden("Not allowed")
	}
	if _, f := t.readAccess(user, q.srcAcct, q.srcCont, q.srcObj); f != nil {
		return nil, nil, f
	}
	src, ok := t.copyFrom(q.srcAcct, q.srcCont, q.srcObj, q.srcVersion != "")
	if !ok {
		return nil, nil, notFound("Object does not exist")
	}
	srcVer := &src.version
	if q.srcVersion != "" {
		id, err := strconv.ParseUint(q.srcVersion, 10, 64)
		if err != nil {
			return nil, nil, notFound("Version does not exist")
		}
		if srcVer, ok = t.version(q.srcAcct, q.srcCont, q.srcObj, id); !ok || srcVer.Deleted {
			return nil, nil, notFound("Version does not exist")
		}
	}
	exists, etag := true, ""
	if q.precondOnSource {
		etag, _ = topHash(srcVer.Hashes)
	} else {
		var cur *objectRec
		cur, exists = t.object(q.dstAcct, q.dstCont, q.dstObj)
		etag, _ = topHash(cur.Hashes)
	}
	if f := precond(exists, etag); f != nil {
		return nil, nil, f
	}
	return src, srcVer, nil
}

// copyPair is one object a copy or move writes: from its source name to
// its destination name.
type copyPair struct {
	from, to string
	ver      *version
	rec      *objectRec
}

// copyPairs are the pairs to copy: the object, then (with a delimiter) the
// subtree under it that user may read.
func (t *txn) copyPairs(user string, q copyReq, src *objectRec, srcVer *version, delim string) []copyPair {
	pairs := []copyPair{{q.srcObj, q.dstObj, srcVer, src}}
	if delim == "" {
		return pairs
	}
	prefix := q.srcObj + delim
	it := t.iterAt(q.srcAcct, q.srcCont, 0)
	for name, rec := it.seek(prefix); rec != nil && strings.HasPrefix(name, prefix); name, rec = it.next() {
		if !t.accessFor(q.srcAcct, q.srcCont, name, user).read {
			continue
		}
		pairs = append(pairs, copyPair{name, q.dstObj + delim + name[len(prefix):], &rec.version, rec})
	}
	return pairs
}

// copyOne copies or moves one pair into the destination container dstC;
// it returns the new record (nil for a move onto itself, which changes
// nothing) and the destination container as it now stands.
func (t *txn) copyOne(user string, q copyReq, pr copyPair, ed copyEdit, dstC *containerRec) (*objectRec, *containerRec, error) {
	if f := t.writeAccess(user, q.dstAcct, q.dstCont, pr.to); f != nil {
		return nil, dstC, f
	}
	onto := q.srcAcct == q.dstAcct && q.srcCont == q.dstCont && pr.from == pr.to
	if q.move && onto && ed.ctype == "" && len(ed.meta) == 0 && !ed.state.sharingSet && !ed.state.publicSet {
		return nil, dstC, nil // moving onto itself: nothing to do
	}
	nrec := &objectRec{version: version{
		Bytes: pr.ver.Bytes, Hashes: pr.ver.Hashes, Type: pr.ver.Type, MD5: pr.ver.MD5,
		Meta: mergeMeta(pr.ver.Meta, ed.meta, false), ModifiedBy: user,
	}}
	if f := checkMetaCount(nrec.Meta); f != nil {
		return nil, dstC, f
	}
	if ed.ctype != "" {
		nrec.Type = ed.ctype
	}
	cur, exists := t.object(q.dstAcct, q.dstCont, pr.to)
	switch {
	case q.move:
		nrec.UUID = pr.rec.UUID
	case !onto:
		// A copy is a new object even over an existing one; only a copy
		// onto itself (restore, type change) keeps the UUID.
		nrec.UUID = newUUID()
	}
	if exists {
		nrec.Sharing, nrec.Public = cur.Sharing, cur.Public
	}
	ed.state.apply(nrec)
	if q.move && !onto {
		// Remove the source first so a move within one container keeps
		// the counters right.
		srcC, _ := t.container(q.srcAcct, q.srcCont)
		if err := t.deleteObject(q.srcAcct, q.srcCont, pr.from, user, srcC); err != nil {
			return nil, dstC, err
		}
		if q.srcAcct == q.dstAcct && q.srcCont == q.dstCont {
			dstC = srcC
		}
	}
	return nrec, dstC, t.putObject(q.dstAcct, q.dstCont, pr.to, dstC, nrec)
}
