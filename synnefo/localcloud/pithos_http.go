package localcloud

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// preq is one object-store request, parsed.
type preq struct {
	w          http.ResponseWriter
	r          *http.Request
	h          http.Header // percent-decoded request headers
	q          url.Values
	user       *User
	acct, cont string
	obj        string
	start      time.Time
}

func (p *preq) owner() bool { return p.user != nil && p.user.UUID == p.acct }

const listingLimit = 10000

var allowed = map[string]string{
	"top":       "GET",
	"account":   "HEAD,GET,POST",
	"container": "HEAD,GET,PUT,POST,DELETE",
	"object":    "HEAD,GET,PUT,COPY,MOVE,POST,DELETE",
}

// servePithos routes /pithos/object-store/v1/{account}/{container}/{object}.
func (c *Cloud) servePithos(w http.ResponseWriter, r *http.Request) {
	p := &preq{w: w, r: r, q: r.URL.Query(), start: time.Now()}
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	w.Header().Set("Vary", "X-Auth-Token")
	rest, ok := strings.CutPrefix(r.URL.Path, "/pithos/object-store/v1/")
	if !ok {
		writeFault(w, r, badRequest("API endpoint not found"))
		return
	}
	h, f := requestHeaders(r)
	if f != nil {
		writeFault(w, r, f)
		return
	}
	p.h = h
	level := "top"
	if rest != "" {
		level = "account"
		var tail string
		p.acct, tail, _ = strings.Cut(rest, "/")
		if tail != "" {
			level = "container"
			p.cont, p.obj, _ = strings.Cut(tail, "/")
			if p.obj != "" {
				level = "object"
			}
		}
	}
	if !strings.Contains(","+allowed[level]+",", ","+r.Method+",") {
		w.Header().Set("Allow", allowed[level])
		writeFault(w, r, errf(405, "Method not allowed"))
		return
	}
	u, sent := c.userByToken(r)
	if !sent {
		// The top level without a token is Swift's v1.0 auth, which
		// answers 400 when X-Auth-User or X-Auth-Key is missing.
		if level == "top" && r.Method == http.MethodGet {
			c.legacyAuth(p)
			return
		}
		writeFault(w, r, errf(401, "Access denied. No authentication token"))
		return
	}
	if u == nil {
		writeFault(w, r, &fault{Status: 401, Name: "fault", Message: "Unauthorized"})
		return
	}
	p.user = u
	if strings.ContainsRune(p.acct+p.cont+p.obj, 0) {
		writeFault(w, r, badRequest("Bad character in name"))
		return
	}
	if len(p.cont) > 256 {
		writeFault(w, r, badRequest("Container name too large"))
		return
	}
	if len(p.obj) > 1024 {
		writeFault(w, r, badRequest("Object name too large."))
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost, "COPY", "MOVE":
		// A write may store or rely on blocks: a block GC waits for
		// writes begun before it (gc.go).
		defer c.store.blocks.gc.enterWrite()()
	}
	var err error
	switch level {
	case "top":
		err = c.listAccounts(p)
	case "account":
		err = c.serveAccount(p)
	case "container":
		err = c.serveContainer(p)
	default:
		err = c.serveObject(p)
	}
	if err != nil {
		c.fail(p, err)
	}
}

// fail writes err as a fault (see replyError).
func (c *Cloud) fail(p *preq, err error) { c.replyError(p.w, p.r, err) }

// replyError writes err as its fault; anything that is not a fault is a
// 500 "Unexpected error", logged with the request.
func (c *Cloud) replyError(w http.ResponseWriter, r *http.Request, err error) {
	var f *fault
	if !errors.As(err, &f) {
		c.log.Error("request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		f = errf(500, "Unexpected error")
	}
	writeFault(w, r, f)
}

func (c *Cloud) internalError(w http.ResponseWriter, r *http.Request, err error) {
	c.replyError(w, r, err)
}

// legacyAuth is Swift's v1.0 auth on the top level: the key is the token.
func (c *Cloud) legacyAuth(p *preq) {
	user, key := p.r.Header.Get("X-Auth-User"), p.r.Header.Get("X-Auth-Key")
	if user == "" || key == "" {
		writeFault(p.w, p.r, badRequest("Missing X-Auth-User or X-Auth-Key header"))
		return
	}
	p.w.Header().Set("X-Auth-Token", key)
	p.w.Header().Set("X-Storage-Url", c.baseURL(p.r)+"/pithos/object-store/v1/"+user)
	p.w.WriteHeader(204)
}

// limitParam reads "limit": default and cap 10000.
func limitParam(q url.Values) int {
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n <= 0 || n > listingLimit {
		return listingLimit
	}
	return n
}

// untilParam reads "until" (integer unix seconds; anything else is absent).
func untilParam(q url.Values) int64 {
	n, err := strconv.ParseInt(q.Get("until"), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n * int64(time.Second)
}

// writeListing renders names (text) or rows (json/xml) with the status rules
// of listings: text with nothing in it is 204.
func writeListing(p *preq, names []string, rows []map[string]any, xmlRoot string, xmlAttr [2]string) {
	h := p.w.Header()
	switch requestFormat(p.r, "text") {
	case "json":
		if rows == nil {
			rows = []map[string]any{}
		}
		body, _ := json.Marshal(rows)
		h.Set("Content-Type", "application/json; charset=UTF-8")
		h.Set("Content-Length", itoa(int64(len(body))))
		p.w.WriteHeader(200)
		p.w.Write(body)
	case "xml":
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString("<" + xmlRoot)
		if xmlAttr[0] != "" {
			b.WriteString(" " + xmlAttr[0] + "=\"")
			xml.EscapeText(&b, []byte(xmlAttr[1]))
			b.WriteString("\"")
		}
		b.WriteString(">")
		for _, row := range rows {
			writeXMLRow(&b, row)
		}
		b.WriteString("</" + xmlRoot + ">")
		h.Set("Content-Type", "application/xml; charset=UTF-8")
		h.Set("Content-Length", itoa(int64(b.Len())))
		p.w.WriteHeader(200)
		p.w.Write([]byte(b.String()))
	default:
		if len(names) == 0 {
			p.w.WriteHeader(204)
			return
		}
		body := strings.Join(names, "\n") + "\n"
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		h.Set("Content-Length", itoa(int64(len(body))))
		p.w.WriteHeader(200)
		p.w.Write([]byte(body))
	}
}

func writeXMLRow(b *strings.Builder, row map[string]any) {
	if sub, ok := row["subdir"]; ok {
		b.WriteString(`<subdir name="`) // as Synnefo's objects.xml: no children
		xml.EscapeText(b, []byte(sub.(string)))
		b.WriteString(`" />`)
		return
	}
	tag := "object"
	if _, ok := row["count"]; ok {
		tag = "container"
	} else if _, ok := row["content_type"]; !ok {
		tag = "account"
	}
	b.WriteString("<" + tag + ">")
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("<" + k + ">")
		switch v := row[k].(type) {
		case string:
			xml.EscapeText(b, []byte(v))
		case map[string]any:
			for kk, vv := range v {
				b.WriteString("<key>" + kk + "</key><value>")
				xml.EscapeText(b, []byte(toString(vv)))
				b.WriteString("</value>")
			}
		default:
			xml.EscapeText(b, []byte(toString(v)))
		}
		b.WriteString("</" + k + ">")
	}
	b.WriteString("</" + tag + ">")
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// listAccounts is GET on the top level: accounts sharing something with the user.
func (c *Cloud) listAccounts(p *preq) error {
	marker := p.q.Get("marker")
	limit := limitParam(p.q)
	var names []string
	var rows []map[string]any
	err := c.store.view(func(t *txn) error {
		seen := map[string]bool{}
		t.sharedWith(nil, p.user.UUID, func(k []byte, _ *objectRec) bool {
			acct, _, _ := splitKey(k)
			if acct != p.user.UUID {
				seen[acct] = true
			}
			return true
		})
		for a := range seen {
			if a > marker {
				names = append(names, a)
			}
		}
		sort.Strings(names)
		if len(names) > limit {
			names = names[:limit]
		}
		for _, a := range names {
			rec, _ := t.account(a)
			rows = append(rows, map[string]any{"name": a, "last_modified": isoDate(rec.Mtime)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeListing(p, names, rows, "accounts", [2]string{})
	return nil
}

// checkTimePreconditions applies If-Modified-Since / If-Unmodified-Since to
// an mtime (whole seconds): 304 or 412 faults.
func checkTimePreconditions(h http.Header, mtime int64) *fault {
	sec := mtime / int64(time.Second)
	if v := h.Get("If-Modified-Since"); v != "" {
		if t, ok := parseHTTPDate(v); ok && sec <= t.Unix() {
			return &fault{Status: 304}
		}
	}
	if v := h.Get("If-Unmodified-Since"); v != "" {
		if t, ok := parseHTTPDate(v); ok && sec > t.Unix() {
			return errf(412, "Resource has been modified")
		}
	}
	return nil
}

func (c *Cloud) serveAccount(p *preq) error {
	if p.r.Method == http.MethodPost {
		return c.postAccount(p)
	}
	until := untilParam(p.q)
	if !p.owner() && until != 0 {
		return forbidden("Not allowed")
	}
	var (
		rec   *accountRec
		meta  map[string]string
		names []string
		rows  []map[string]any
		count int
		used  int64
	)
	listing := p.r.Method == http.MethodGet
	if p.owner() {
		if err := c.ensureAccount(p.acct); err != nil {
			return err
		}
	}
	err := c.store.view(func(t *txn) error {
		var ok bool
		if rec, ok = t.account(p.acct); !ok {
			return forbidden("Not allowed")
		}
		meta = rec.Meta
		// Containers visible to the caller.
		visible := map[string]bool{}
		if !p.owner() {
			t.sharedWith([]byte(p.acct+"\x00"), p.user.UUID, func(k []byte, _ *objectRec) bool {
				_, cont, _ := splitKey(k)
				visible[cont] = true
				return true
			})
			if len(visible) == 0 {
				return forbidden("Not allowed")
			}
		}
		if flag(p.q, "public") && !p.owner() {
			return forbidden("Not allowed")
		}
		if until != 0 {
			meta = t.metaAt(accountHistKey(p.acct), until, rec.Meta)
		}
		t.containers(p.acct, "", func(name string, cr *containerRec) bool {
			if until != 0 && !cr.existedAt(until) {
				return true
			}
			count++
			if until != 0 {
				used += t.containerAt(p.acct, name, cr, until).bytes
			} else {
				used += cr.Bytes
			}
			return true
		})
		if f := checkTimePreconditions(p.h, rec.Mtime); f != nil {
			return f
		}
		if !listing {
			return nil
		}
		marker, limit := p.q.Get("marker"), limitParam(p.q)
		sharedOnly, publicOnly := flag(p.q, "shared"), flag(p.q, "public")
		t.containers(p.acct, marker, func(name string, cr *containerRec) bool {
			if !p.owner() && !visible[name] || until != 0 && !cr.existedAt(until) {
				return true
			}
			if sharedOnly || publicOnly {
				if !t.containerHas(p.acct, name, sharedOnly, publicOnly) {
					return true
				}
			}
			names = append(names, name)
			if p.owner() {
				row := map[string]any{
					"name": name, "count": cr.Count, "bytes": cr.Bytes, "last_modified": isoDate(cr.Mtime),
					"x_container_policy": map[string]any{"quota": itoa(cr.Quota), "versioning": cr.Versioning, "project": cr.Project},
				}
				if until != 0 {
					at := t.containerAt(p.acct, name, cr, until)
					row["count"], row["bytes"], row["last_modified"] = at.count, at.bytes, isoDate(at.mtime)
					row["x_container_until_timestamp"] = httpDate(until)
				}
				rows = append(rows, row)
			} else {
				rows = append(rows, map[string]any{"name": name, "last_modified": isoDate(cr.Mtime)})
			}
			return len(names) < limit
		})
		return nil
	})
	if err != nil {
		return err
	}
	h := p.w.Header()
	mtime := rec.Mtime
	if until != 0 {
		mtime = min(mtime, until)
	}
	h.Set("Last-Modified", httpDate(mtime))
	if p.owner() {
		h.Set("X-Account-Container-Count", strconv.Itoa(count))
		h.Set("X-Account-Bytes-Used", itoa(used))
		c.accountQuotaHeaders(h, p.user)
		if until != 0 {
			h.Set("X-Account-Until-Timestamp", httpDate(until))
		}
		for k, v := range meta {
			setHeader(h, k, v)
		}
		for g, members := range rec.Groups {
			// Synnefo's format_header_key: X-Account-Group-Pithosdev.
			setHeader(h, "X-Account-Group-"+formatMetaKey(g), strings.Join(members, ","))
		}
	}
	if !listing {
		p.w.WriteHeader(204)
		return nil
	}
	writeListing(p, names, rows, "account", [2]string{"name", p.acct})
	return nil
}

// ensureAccount creates the owner's account on first access (a write only
// the first time).
func (c *Cloud) ensureAccount(acct string) error {
	exists := false
	c.store.view(func(t *txn) error { _, exists = t.account(acct); return nil })
	if exists {
		return nil
	}
	return c.store.update(func(t *txn) error { _, err := t.ensureAccount(acct); return err })
}

// containerHas reports whether a container holds shared or public objects.
func (t *txn) containerHas(acct, cont string, shared, public bool) bool {
	found := false
	it := t.iterAt(acct, cont, 0)
	for name, rec := it.seek(""); rec != nil; name, rec = it.next() {
		_ = name
		if shared && rec.Sharing != nil || public && rec.Public != "" {
			found = true
			break
		}
	}
	return found
}

func (c *Cloud) postAccount(p *preq) error {
	if !p.owner() {
		return forbidden("Not allowed")
	}
	meta, f := metaFromHeaders(p.h, "X-Account-Meta-")
	if f != nil {
		return f
	}
	update := flag(p.q, "update")
	groups := map[string][]string{}
	groupsSent := false
	for name, vals := range p.h {
		g, ok := strings.CutPrefix(strings.ToLower(name), "x-account-group-")
		if !ok {
			continue
		}
		groupsSent = true
		if strings.ContainsAny(g, "-_") || g == "" {
			return badRequest("Bad characters in group name")
		}
		// Synnefo's group table holds names and members of at most 256
		// characters; a longer one fails the request with 400.
		if len(g) > 256 {
			return badRequest("Group name too long")
		}
		var members []string
		for _, m := range strings.Split(strings.ReplaceAll(strings.Join(vals, ","), " ", ""), ",") {
			if m == "" {
				continue
			}
			if len(m) > 256 {
				return badRequest("Group member name too long")
			}
			if c.byID[m] == nil {
				return badRequest("Bad X-Account-Group header value: unknown user " + m)
			}
			if !containsStr(members, m) {
				members = append(members, m)
			}
		}
		if len(members) > 32 {
			return badRequest("Too many members in group")
		}
		groups[g] = members
	}
	err := c.store.update(func(t *txn) error {
		rec, err := t.ensureAccount(p.acct)
		if err != nil {
			return err
		}
		rec.Meta = mergeMeta(rec.Meta, meta, !update)
		if len(rec.Meta) > 32 {
			return badRequest("Pithos+ resources cannot have more than 32 metadata items per domain")
		}
		if groupsSent || !update {
			if !update {
				if groupsSent {
					rec.Groups = map[string][]string{}
				}
			}
			if rec.Groups == nil {
				rec.Groups = map[string][]string{}
			}
			for g, m := range groups {
				if len(m) == 0 {
					delete(rec.Groups, g)
				} else {
					rec.Groups[g] = m
				}
			}
			if len(rec.Groups) > 32 {
				return badRequest("Too many groups")
			}
		}
		rec.Mtime = t.s.now()
		if err := t.recordMeta(accountHistKey(p.acct), rec.Mtime, rec.Meta); err != nil {
			return err
		}
		return t.putAccount(p.acct, rec)
	})
	if err != nil {
		return err
	}
	p.w.WriteHeader(202)
	return nil
}

func containsStr(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
