package fs

import (
	"testing"

	"github.com/pithosfs/pithosfs/pithos"
)

func TestPosixTokenRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		p   posix
		tok string
	}{
		{posix{}, ""},
		{posix{mode: 0o755, hasMode: true}, "m755"},
		{posix{mode: 0o4750, hasMode: true, uid: 1000, hasUID: true, gid: 0, hasGID: true}, "m4750.u1000.g0"},
		{posix{mtime: 1700000000123456789}, "t1700000000123456789"},
		{posix{mode: 0o600, hasMode: true, mtime: -5, xattrs: true}, "m600.t-5.x"},
		{posix{mtime: 1000000000987654321, atime: 1900000000123456789}, "t1000000000987654321.a1900000000123456789"},
		{posix{mode: 0o660, hasMode: true, uid: 7, hasUID: true, rdev: 2049}, "m660.u7.r2049"},
	} {
		if got := tc.p.encode(); got != tc.tok {
			t.Errorf("encode(%+v) = %q, want %q", tc.p, got, tc.tok)
		}
		if got := parsePosix(tc.tok); got != tc.p {
			t.Errorf("parsePosix(%q) = %+v, want %+v", tc.tok, got, tc.p)
		}
	}
	// Case-folded and with junk: still read.
	if got := parsePosix(" M644.Zq.u12.t"); got != (posix{mode: 0o644, hasMode: true, uid: 12, hasUID: true}) {
		t.Errorf("lenient parse: %+v", got)
	}
}

func TestContentTypeParameter(t *testing.T) {
	for _, tc := range []struct {
		ct, base, tok string
	}{
		{"application/octet-stream", "application/octet-stream", ""},
		{"text/plain; charset=utf-8; pithosfs-posix=m600", "text/plain; charset=utf-8", "m600"},
		{`application/directory;PITHOSFS-POSIX="m700.t5"`, "application/directory", "m700.t5"},
		{"", "", ""},
	} {
		base, tok := splitType(tc.ct)
		if base != tc.base || tok != tc.tok {
			t.Errorf("splitType(%q) = %q, %q; want %q, %q", tc.ct, base, tok, tc.base, tc.tok)
		}
	}
	p := posix{mode: 0o700, hasMode: true}
	if got := withPosix("text/plain; charset=utf-8; pithosfs-posix=m600", p, "x/y"); got != "text/plain; charset=utf-8; pithosfs-posix=m700" {
		t.Errorf("withPosix replace: %q", got)
	}
	if got := withPosix("", posix{}, defaultFileType); got != defaultFileType {
		t.Errorf("withPosix default: %q", got)
	}
	if !pithos.IsDirectoryType(withPosix("", p, pithos.DirectoryType)) {
		t.Error("a directory type with the parameter is no longer a directory")
	}
	// The content type wins over the meta key; the meta key is the fallback.
	o := &pithos.ObjectInfo{ContentType: "a/b; pithosfs-posix=m640", Meta: map[string]string{"Posix": "m600"}}
	if got := posixOf(o); got.mode != 0o640 {
		t.Errorf("posixOf with both: %o", got.mode)
	}
	o.ContentType = "a/b"
	if got := posixOf(o); got.mode != 0o600 {
		t.Errorf("posixOf from meta: %o", got.mode)
	}
}

func TestXattrKeyEncoding(t *testing.T) {
	names := []string{"a", "Mixed_Case.name", "with-dash", "ünïcode", string(make([]byte, maxXattrName))}
	meta := map[string]string{}
	for i, n := range names {
		k := xattrKey(n)
		if len(k) > 128-len("X-Object-Meta-") {
			t.Errorf("key for a %d-byte name: %d characters", len(n), len(k))
		}
		// What Pithos returns: parts split on "-" and capitalised.
		meta[capitalize(k)] = "v" + []string{"", "AQ", "_-8", "aGk", "eA"}[i]
	}
	got := userXattrs(meta)
	if len(got) != len(names) {
		t.Fatalf("decoded %d of %d names: %v", len(got), len(names), got)
	}
	for _, n := range names {
		if _, ok := got["user."+n]; !ok {
			t.Errorf("user.%q lost", n)
		}
	}
}

// capitalize mimics Pithos's meta key normalisation (format_header_key).
func capitalize(k string) string {
	b := []byte(k)
	up := true
	for i, c := range b {
		switch {
		case c == '-':
			up = true
			continue
		case up && c >= 'a' && c <= 'z':
			b[i] = c - 32
		case !up && c >= 'A' && c <= 'Z':
			b[i] = c + 32
		}
		up = false
	}
	return string(b)
}
