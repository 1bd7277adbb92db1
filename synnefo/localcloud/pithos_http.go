package localcloud

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
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

// writePrecond checks the request's write preconditions (If-Match,
// If-None-Match) against an object that exists or not with etag.
func (p *preq) writePrecond(exists bool, etag string) *fault {
	return checkWritePreconditions(p.h, exists, etag)
}

// userID is the caller's uuid, "" for none.
func (p *preq) userID() string {
	if p.user == nil {
		return ""
	}
	return p.user.UUID
}

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
func writeListing(p *preq, names []string, rows []listingRow, xmlRoot string, xmlAttr [2]string) {
	h := p.w.Header()
	switch requestFormat(p.r, "text") {
	case "json":
		if rows == nil {
			rows = []listingRow{}
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
