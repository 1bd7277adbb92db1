package localcloud

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// pyQuote percent-encodes like Python 2's urllib.quote with Pithos' safe set:
// letters, digits, "_.-" and "/=,:@; \"" stay; everything else is %XX.
func pyQuote(s string) string {
	const safe = "_.-/=,:@; \""
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// setHeader sets a reply header, percent-encoding the value (and a meta
// key's name) for the header families Pithos encodes (§3.3).
func setHeader(h http.Header, name, value string) {
	lower := strings.ToLower(name)
	for _, p := range []string{"x-account-", "x-container-", "x-object-", "content-"} {
		if strings.HasPrefix(lower, p) {
			value = pyQuote(value)
			break
		}
	}
	if !isASCII(name) {
		name = pyQuote(name)
	}
	h[name] = []string{value}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// requestHeaders returns the request's headers as Pithos reads them
// (Synnefo's update_request_headers): a name or value containing '%' is
// percent-decoded the way Python's unquote does it (a '%' not followed by two
// hex digits stays as it is), and raw non-ASCII, or a decoded result that is
// not UTF-8, is refused with 400 "Bad character in headers.".
func requestHeaders(r *http.Request) (http.Header, *fault) {
	out := make(http.Header, len(r.Header))
	bad := badRequest("Bad character in headers.")
	for name, vals := range r.Header {
		if !isASCII(name) {
			return nil, bad
		}
		if strings.Contains(name, "%") {
			n := pyUnquote(name)
			if !utf8.ValidString(n) {
				return nil, bad
			}
			name = http.CanonicalHeaderKey(n)
		}
		for _, v := range vals {
			if !isASCII(v) {
				return nil, bad
			}
			if strings.Contains(v, "%") {
				if v = pyUnquote(v); !utf8.ValidString(v) {
					return nil, bad
				}
			}
			out[name] = append(out[name], v)
		}
	}
	return out, nil
}

// pyUnquote decodes %XX escapes like Python 2's urllib.unquote: anything
// else, a lone '%' included, is kept; '+' is not a space.
func pyUnquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// formatMetaKey normalises the part of a meta header after its prefix:
// '_' becomes '-', and each '-'-separated word is capitalised (first letter
// upper, rest lower), as Python 2's str.capitalize does on the header's
// bytes: only ASCII letters change, other bytes (UTF-8) are kept.
func formatMetaKey(k string) string {
	b := []byte(strings.ReplaceAll(k, "_", "-"))
	start := true
	for i, c := range b {
		switch {
		case c == '-':
			start = true
			continue
		case start && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !start && 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
		start = false
	}
	return string(b)
}

// metaFromHeaders collects user metadata with the given prefix (e.g.
// "X-Object-Meta-") as normalised full header names, enforcing the spec's
// per-request limits; '~' is removed from values.
func metaFromHeaders(h http.Header, prefix string) (map[string]string, *fault) {
	out := map[string]string{}
	lp := strings.ToLower(prefix)
	n := 0
	for name, vals := range h {
		if !strings.HasPrefix(strings.ToLower(name), lp) || len(name) == len(prefix) {
			continue
		}
		n++
		if n > 90 {
			return nil, badRequest("Too many headers.")
		}
		if len(name) > 128 {
			return nil, badRequest("Header name too large.")
		}
		v := strings.TrimSpace(strings.ReplaceAll(strings.Join(vals, ","), "~", ""))
		if len(v) > 256 {
			return nil, badRequest("Header value too large.")
		}
		out[prefix+formatMetaKey(name[len(prefix):])] = v
	}
	return out, nil
}

// mergeMeta applies sent over old: with replace, old is dropped entirely;
// otherwise sent values are merged and empty ones delete their key.
func mergeMeta(old, sent map[string]string, replace bool) map[string]string {
	out := map[string]string{}
	if !replace {
		for k, v := range old {
			out[k] = v
		}
	}
	for k, v := range sent {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// httpDate formats unix nanoseconds as an RFC 1123 header date (whole seconds).
func httpDate(ns int64) string {
	return time.Unix(0, ns).UTC().Format(http.TimeFormat)
}

// isoDate formats unix nanoseconds as listings do:
// 2011-12-02T08:10:41.565891+00:00, microseconds omitted when zero.
func isoDate(ns int64) string {
	t := time.Unix(0, ns).UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05+00:00")
	}
	return t.Format("2006-01-02T15:04:05.000000+00:00")
}

// versionTimestamp is the listing's decimal seconds string with 6 decimals.
func versionTimestamp(ns int64) string {
	us := ns / 1000
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// parseHTTPDate accepts RFC 1123, RFC 850 and asctime; ok is false otherwise.
func parseHTTPDate(s string) (time.Time, bool) {
	t, err := http.ParseTime(s)
	return t, err == nil
}

// flag reports whether a presence-only query flag is set (§3.1).
func flag(q url.Values, name string) bool {
	_, ok := q[name]
	return ok
}
