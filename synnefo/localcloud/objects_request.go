package localcloud

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
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

// checkReadPreconditions applies If-Modified-Since and friends, If-Match
// and If-None-Match to a read; done means the answer (304) is written.
func checkReadPreconditions(p *preq, mtime int64, etag string) (done bool, f *fault) {
	if f := checkTimePreconditions(p.h, mtime); f != nil {
		return false, f
	}
	if v := p.h.Get("If-Match"); v != "" && !etagMatches(v, etag) {
		return false, errf(412, "Resource ETag does not match")
	}
	if v := p.h.Get("If-None-Match"); v != "" && etagMatches(v, etag) {
		p.w.Header().Set("ETag", etag)
		p.w.WriteHeader(304)
		return true, nil
	}
	return false, nil
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

func partType(h textproto.MIMEHeader) string {
	if t := h.Get("Content-Type"); t != "" {
		return t
	}
	return "application/octet-stream"
}
