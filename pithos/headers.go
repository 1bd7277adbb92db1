package pithos

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// encodeHeader percent-encodes what Pithos+ cannot take raw in a header value or name: '%', control
// characters and non-ASCII bytes (§3.3). The server unquotes any header holding a '%'.
func encodeHeader(s string) string {
	needs := false
	for i := 0; i < len(s); i++ {
		if b := s[i]; b == '%' || b < 0x20 || b >= 0x7f {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || c < 0x20 || c >= 0x7f {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// decodeHeader percent-decodes a reply header value (path style: '+' stays '+'); a value that is not
// valid percent-encoding is returned unchanged.
func decodeHeader(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// setMeta adds prefix+key headers (prefix like "X-Object-Meta-") for every entry, encoded.
func setMeta(h http.Header, prefix string, meta map[string]string) {
	for k, v := range meta {
		h[http.CanonicalHeaderKey(prefix+encodeHeader(k))] = []string{encodeHeader(v)}
	}
}

// readMeta collects the headers starting with prefix, keyed by the decoded suffix.
func readMeta(h http.Header, prefix string) map[string]string {
	m := map[string]string{}
	for k, vs := range h {
		if len(k) > len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) && len(vs) > 0 {
			m[decodeHeader(k[len(prefix):])] = decodeHeader(vs[0])
		}
	}
	return m
}

func headerInt(h http.Header, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	return n
}

func headerTime(h http.Header, name string) time.Time {
	t, _ := http.ParseTime(h.Get(name))
	return t
}

// listingTimeLayouts covers Pithos+ ("2011-12-02T08:10:41.565891+00:00", microseconds optional) and
// Swift ("2024-01-02T03:04:05.123456", no zone, UTC).
var listingTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"}

func parseListingTime(s string) time.Time {
	for _, l := range listingTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseUnixDecimal parses "1322813441.565891".
func parseUnixDecimal(s string) time.Time {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || s == "" {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

// applyConditions sets the headers of cd.
func applyConditions(cd Conditions, h http.Header) {
	if cd.IfMatch != "" {
		h.Set("If-Match", cd.IfMatch)
	}
	if cd.IfNoneMatch != "" {
		h.Set("If-None-Match", cd.IfNoneMatch)
	}
	if !cd.IfModifiedSince.IsZero() {
		h.Set("If-Modified-Since", cd.IfModifiedSince.UTC().Format(http.TimeFormat))
	}
	if !cd.IfUnmodifiedSince.IsZero() {
		h.Set("If-Unmodified-Since", cd.IfUnmodifiedSince.UTC().Format(http.TimeFormat))
	}
}

// flexInt decodes a JSON number or a numeric string (Pithos+ policy values are usually strings).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f = flexInt(n)
	return nil
}

// flexString decodes a JSON string or number as text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*f = ""
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.Contains(s, `\`) {
		s = s[1 : len(s)-1] // no escapes: the text as it is (every listing entry has one; a nested Unmarshal each cost 5 % of a cold listing's CPU)
	} else if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	*f = flexString(s)
	return nil
}
