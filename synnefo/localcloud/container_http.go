package localcloud

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// parsePolicy reads X-Container-Policy-* headers (§7): keys lowercased,
// spaces removed, values validated. sent is false when no policy header came.
func parsePolicy(h http.Header) (pol map[string]string, sent bool, f *fault) {
	pol = map[string]string{}
	for name, vals := range h {
		k, ok := strings.CutPrefix(strings.ToLower(name), "x-container-policy-")
		if !ok {
			continue
		}
		sent = true
		v := strings.ReplaceAll(strings.Join(vals, ","), " ", "")
		switch k {
		case "quota":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, true, badRequest("The quota policy value should be a positive integer.")
			}
		case "versioning":
			if v != "auto" && v != "none" {
				return nil, true, badRequest("The versioning policy value should be either 'auto' or 'none'.")
			}
		case "project":
			if v == "" {
				return nil, true, badRequest("Invalid project")
			}
		default:
			return nil, true, badRequest("The only allowed policies are 'quota' or 'versioning'.")
		}
		pol[k] = v
	}
	return pol, sent, nil
}

func applyPolicy(c *containerRec, pol map[string]string) {
	if v, ok := pol["quota"]; ok {
		c.Quota, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := pol["versioning"]; ok {
		c.Versioning = v
	}
	if v, ok := pol["project"]; ok {
		c.Project = v
	}
}

func (c *Cloud) serveContainer(p *preq) error {
	switch p.r.Method {
	case http.MethodPut:
		return c.putContainer(p)
	case http.MethodPost:
		return c.postContainer(p)
	case http.MethodDelete:
		return c.deleteContainer(p)
	}
	return c.getContainer(p)
}

func (c *Cloud) putContainer(p *preq) error {
	if !p.owner() {
		return forbidden("Not allowed")
	}
	pol, _, f := parsePolicy(p.h)
	if f != nil {
		return f
	}
	meta, f := metaFromHeaders(p.h, "X-Container-Meta-")
	if f != nil {
		return f
	}
	status := 201
	err := c.store.update(func(t *txn) error {
		if _, err := t.ensureAccount(p.acct); err != nil {
			return err
		}
		now := t.s.now()
		rec, exists := t.container(p.acct, p.cont)
		if exists {
			status = 202
		} else {
			rec = &containerRec{Versioning: "auto", Project: p.acct, Created: now}
		}
		applyPolicy(rec, pol)
		rec.Meta = mergeMeta(rec.Meta, meta, false)
		if len(rec.Meta) > 32 {
			return badRequest("Pithos+ resources cannot have more than 32 metadata items per domain")
		}
		if !exists || len(meta) > 0 {
			if err := t.recordMeta(containerHistKey(p.acct, p.cont), now, rec.Meta); err != nil {
				return err
			}
		}
		return t.touch(p.acct, p.cont, rec, now)
	})
	if err != nil {
		return err
	}
	p.w.WriteHeader(status)
	return nil
}

func (c *Cloud) postContainer(p *preq) error {
	if !p.owner() {
		return forbidden("Not allowed")
	}
	pol, polSent, f := parsePolicy(p.h)
	if f != nil {
		return f
	}
	meta, f := metaFromHeaders(p.h, "X-Container-Meta-")
	if f != nil {
		return f
	}
	update := flag(p.q, "update")
	// Block upload: exactly application/octet-stream with a body.
	isBlocks := p.r.Header.Get("Content-Type") == "application/octet-stream" && (p.r.ContentLength > 0 || p.r.ContentLength == -1)
	change := func(t *txn) error { return t.updateContainer(p.acct, p.cont, pol, polSent, meta, update) }
	var err error
	if isBlocks && update && !polSent && len(meta) == 0 {
		// A plain block upload changes nothing of the container: a read
		// transaction checks it exists, where a write one would rewrite its
		// record and sync the database once per block (the mount's early
		// uploads send one POST per 4 MiB block).
		err = c.store.view(func(t *txn) error {
			if _, ok := t.container(p.acct, p.cont); !ok {
				return notFound("Container does not exist")
			}
			return nil
		})
	} else {
		err = c.store.update(change)
	}
	if err != nil {
		return err
	}
	if !isBlocks {
		p.w.WriteHeader(202)
		return nil
	}
	return c.uploadBlocks(p)
}

// uploadBlocks stores the blocks of a container POST's body (cut at the
// block size) and answers their hashes, JSON or XML.
func (c *Cloud) uploadBlocks(p *preq) error {
	if p.r.ContentLength > 5<<30 {
		return badRequest("Maximum size is reached")
	}
	var hashes []string
	bp := c.blockBuf()
	defer c.blockBufs.Put(bp)
	buf := *bp
	body := &bodyReader{r: p.r.Body}
	for {
		n, err := io.ReadFull(body, buf)
		if body.err != nil {
			return badRequest("Incomplete request body")
		}
		if n > 0 {
			h, perr := c.store.blocks.put(buf[:n])
			if perr != nil {
				return perr
			}
			hashes = append(hashes, h)
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			if p.r.ContentLength > 0 && errors.Is(err, io.ErrUnexpectedEOF) && int64(len(hashes)-1)*c.store.blockSize+int64(n) < p.r.ContentLength {
				return badRequest("Incomplete request body")
			}
			break
		}
		if err != nil {
			return badRequest("Incomplete request body")
		}
	}
	if requestFormat(p.r, "json") == "xml" {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<items>")
		for _, h := range hashes {
			b.WriteString("<item>" + h + "</item>")
		}
		b.WriteString("</items>")
		p.w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
		p.w.WriteHeader(202)
		io.WriteString(p.w, b.String())
		return nil
	}
	writeJSON(p.w, 202, hashes)
	return nil
}

func (c *Cloud) deleteContainer(p *preq) error {
	if !p.owner() {
		return forbidden("Not allowed")
	}
	until := untilParam(p.q)
	_, all := p.q["delimiter"]
	err := c.store.update(func(t *txn) error {
		rec, ok := t.container(p.acct, p.cont)
		if !ok {
			return notFound("Container does not exist")
		}
		if until != 0 {
			return t.purgeHistory([]byte(p.acct+"\x00"+p.cont+"\x00"), until)
		}
		if all {
			var names []string
			it := t.iterAt(p.acct, p.cont, 0)
			for name, r := it.seek(""); r != nil; name, r = it.next() {
				names = append(names, name)
			}
			for _, n := range names {
				if err := t.deleteObject(p.acct, p.cont, n, p.user.UUID, rec); err != nil {
					return err
				}
			}
			return nil
		}
		if rec.Count > 0 {
			return errf(409, "Container is not empty")
		}
		prefix := []byte(p.acct + "\x00" + p.cont + "\x00")
		if err := t.purgeHistory(prefix, 1<<62); err != nil {
			return err
		}
		// Delete markers and history go with the container.
		b := t.tx.Bucket(bVersions)
		cur := b.Cursor()
		var dead [][]byte
		for k, _ := cur.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = cur.Next() {
			dead = append(dead, append([]byte{}, k...))
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if err := t.tx.Bucket(bContainers).Delete(ckey(p.acct, p.cont)); err != nil {
			return err
		}
		if err := t.dropMetaHistory(containerHistKey(p.acct, p.cont)); err != nil {
			return err
		}
		a, _ := t.account(p.acct)
		a.Mtime = t.s.now()
		return t.putAccount(p.acct, a)
	})
	if err != nil {
		return err
	}
	p.w.WriteHeader(204)
	return nil
}

// containerRead is what a GET or HEAD of a container reads in one
// transaction.
type containerRead struct {
	rec   *containerRec
	names []string // the listing (GET)
	rows  []listingRow
	mkeys []string     // user meta keys its objects use
	hist  *containerAt // the container at until
}

func (c *Cloud) getContainer(p *preq) error {
	until := untilParam(p.q)
	listing := p.r.Method == http.MethodGet
	if !p.owner() && (until != 0 || flag(p.q, "public")) {
		return forbidden("Not allowed")
	}
	var cr containerRead
	err := c.store.view(func(t *txn) error {
		var err error
		cr, err = c.readContainer(t, p, until, listing)
		return err
	})
	if err != nil {
		return err
	}
	c.containerHeaders(p, &cr, until)
	if !listing {
		p.w.WriteHeader(204)
		return nil
	}
	writeListing(p, cr.names, cr.rows, "container", [2]string{"name", p.cont})
	return nil
}

// readContainer reads the container of p as the caller may see it (at
// until, when given), and with listing a page of its objects.
func (c *Cloud) readContainer(t *txn, p *preq, until int64, listing bool) (containerRead, error) {
	var cr containerRead
	var ok bool
	if cr.rec, ok = t.container(p.acct, p.cont); !ok {
		if !p.owner() {
			return cr, forbidden("Not allowed")
		}
		return cr, notFound("Container does not exist")
	}
	var readable func(string) bool
	if !p.owner() {
		readable = func(name string) bool { return t.accessFor(p.acct, p.cont, name, p.user.UUID).read }
		any := false
		t.sharedWith([]byte(p.acct+"\x00"+p.cont+"\x00"), p.user.UUID, func([]byte, *objectRec) bool { any = true; return false })
		if !any {
			return cr, forbidden("Not allowed")
		}
	}
	if until != 0 {
		if !cr.rec.existedAt(until) {
			return cr, notFound("Container does not exist")
		}
		at := t.containerAt(p.acct, p.cont, cr.rec, until)
		cr.hist = &at
	}
	if f := checkTimePreconditions(p.h, cr.rec.Mtime); f != nil {
		return cr, f
	}
	cr.mkeys = t.objectMetaKeys(p.acct, p.cont)
	if cr.hist != nil {
		cr.mkeys = cr.hist.metaKeys
	}
	if !listing {
		return cr, nil
	}
	viewer := listViewer{acct: p.acct, cont: p.cont, owner: p.owner(), baseURL: c.baseURL(p.r)}
	if p.user != nil {
		viewer.user = p.user.UUID
	}
	for _, e := range t.listObjects(p.acct, p.cont, t.withSharedUnder(p.acct, p.cont, containerListOpts(p.q, until, readable))) {
		cr.names = append(cr.names, e.name)
		if e.subdir {
			cr.rows = append(cr.rows, subdirRow{Subdir: e.name})
			continue
		}
		cr.rows = append(cr.rows, t.objectRow(viewer, e.name, e.rec, until != 0))
	}
	return cr, nil
}

// containerListOpts reads an object listing's query parameters (§6.3):
// prefix, delimiter or path, marker, limit, meta, shared, public.
func containerListOpts(q url.Values, until int64, readable func(string) bool) listOpts {
	o := listOpts{
		prefix:    strings.TrimPrefix(q.Get("prefix"), "/"),
		delimiter: q.Get("delimiter"),
		marker:    q.Get("marker"),
		limit:     limitParam(q),
		meta:      parseMetaQuery(q.Get("meta")),
		shared:    flag(q, "shared"),
		public:    flag(q, "public"),
		until:     until,
		readable:  readable,
	}
	if path, ok := q["path"]; ok {
		o.prefix, o.delimiter, o.noSubdirs = strings.TrimPrefix(path[0], "/"), "/", true
		if o.prefix != "" && !strings.HasSuffix(o.prefix, "/") {
			o.prefix += "/"
		}
	} else if o.prefix != "" && o.delimiter != "" && !strings.HasSuffix(o.prefix, o.delimiter) {
		o.prefix += o.delimiter
	}
	return o
}

// containerHeaders sets the headers of a container GET or HEAD.
func (c *Cloud) containerHeaders(p *preq, cr *containerRead, until int64) {
	h := p.w.Header()
	rec := cr.rec
	if hist := cr.hist; hist != nil {
		rec.Mtime, rec.Count, rec.Bytes, rec.Meta = hist.mtime, hist.count, hist.bytes, hist.meta
	}
	h.Set("Last-Modified", httpDate(rec.Mtime))
	h.Set("X-Container-Block-Size", itoa(c.store.blockSize))
	h.Set("X-Container-Block-Hash", "sha256")
	setHeader(h, "X-Container-Object-Meta", strings.Join(cr.mkeys, ","))
	if !p.owner() {
		return
	}
	h.Set("X-Container-Object-Count", itoa(rec.Count))
	h.Set("X-Container-Bytes-Used", itoa(rec.Bytes))
	h.Set("X-Container-Policy-Quota", itoa(rec.Quota))
	h.Set("X-Container-Policy-Versioning", rec.Versioning)
	h.Set("X-Container-Policy-Project", rec.Project)
	for k, v := range rec.Meta {
		setHeader(h, k, v)
	}
	if until != 0 {
		h.Set("X-Container-Until-Timestamp", httpDate(until))
	}
}
