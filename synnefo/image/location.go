package image

import (
	"fmt"
	"net/url"
	"strings"
)

// Location is the Pithos object behind an image: pithos://Account/Container/Path.
type Location struct {
	Account   string // owner UUID (not a display name)
	Container string
	Path      string // object path inside the container; may contain '/'
}

// LocationPrefix is the scheme prefix of a location URL.
const LocationPrefix = "pithos://"

// String renders the location URL with every segment percent-encoded (UTF-8, '/' kept), as kamaki sends
// it and the server renders it.
func (l Location) String() string {
	segs := strings.Split(l.Path, "/")
	for i, s := range segs {
		segs[i] = quote(s)
	}
	return LocationPrefix + quote(l.Account) + "/" + quote(l.Container) + "/" + strings.Join(segs, "/")
}

// ParseLocation accepts "pithos://ACCOUNT/CONTAINER/PATH" (segments percent-decoded, so the server's
// encoded form round-trips) or, like kamaki's CLI, "/CONTAINER/PATH" or "CONTAINER/PATH" owned by
// defaultAccount.
func ParseLocation(s, defaultAccount string) (Location, error) {
	if rest, ok := strings.CutPrefix(s, LocationPrefix); ok {
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return Location{}, fmt.Errorf("image: invalid location %q: want pithos://ACCOUNT/CONTAINER/PATH", s)
		}
		return Location{Account: unquote(parts[0]), Container: unquote(parts[1]), Path: unquotePath(parts[2])}, nil
	}
	if strings.Contains(s, "://") {
		return Location{}, fmt.Errorf("image: invalid location %q: only pithos:// locations are accepted", s)
	}
	parts := strings.SplitN(strings.TrimPrefix(s, "/"), "/", 2)
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return Location{}, fmt.Errorf("image: invalid location %q: want /CONTAINER/PATH", s)
	}
	if defaultAccount == "" {
		return Location{}, fmt.Errorf("image: location %q needs an account", s)
	}
	return Location{Account: defaultAccount, Container: parts[0], Path: parts[1]}, nil
}

// quote percent-encodes everything but ASCII letters, digits and "_.-~" (Python's quote with safe="").
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// unquote percent-decodes s, keeping it as is when it is not valid percent-encoding.
func unquote(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func unquotePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = unquote(s)
	}
	return strings.Join(segs, "/")
}
