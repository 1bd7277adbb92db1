package fs

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"syscall"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/pithos"
)

// Object names a POSIX name cannot carry. An object name is split at "/"
// into the names of directories and a file; a container name is one name.
// The object store allows segments no file name can be: empty ones (a
// leading "/", "//" inside a name), "." and "..", and segments longer than
// the kernel's 255 bytes (NAME_MAX). Such a segment is shown under an
// escaped name that leads back to it (docs/semantics.md, "Names"):
//
//   - A name is escaped when it starts with U+29F8 "⧸" (BIG SOLIDUS, 3 bytes
//     in UTF-8). The rest is the segment with "%", "~", "/" and NUL written
//     as %XX (upper-case hex): "" is "⧸", "." is "⧸.", ".." is "⧸..". A
//     segment that itself starts with "⧸" is escaped too ("⧸x" is "⧸⧸x"),
//     so every name the mount shows stands for exactly one segment.
//   - When the escaped name would exceed 255 bytes it is shortened: "⧸", the
//     start of the escaped segment (cut on a character boundary), "~", and
//     16 hex digits of the segment's SHA-256. Such a name maps back to its
//     segment through the directory's listing.
//   - Every other segment is shown as it is.
//
// A name starting with "⧸" that is not what the mount would show for some
// segment (say "⧸abc", whose segment "abc" shows as itself) names nothing:
// a lookup is ENOENT and a create EINVAL. New names longer than 255 bytes
// are ENAMETOOLONG, as on a local file system; escaping is for names that
// already exist on the server.

const (
	// nameMax is the longest name component the kernel takes (NAME_MAX).
	nameMax = 255
	// escapeMark starts every escaped name: U+29F8 BIG SOLIDUS.
	escapeMark = "\u29f8"
	// hashSep separates a shortened name's start from its hash.
	hashSep = '~'
	// hashDigits is the length of a shortened name's hash (64 bits, hex).
	hashDigits = 16
)

// encodeName returns the name the mount shows for segment s.
func encodeName(s string) string {
	if plainName(s) {
		return s
	}
	body := escapeBody(s)
	if len(escapeMark)+len(body) <= nameMax {
		return escapeMark + body
	}
	sum := sha256.Sum256([]byte(s))
	keep := nameMax - len(escapeMark) - 1 - hashDigits
	return escapeMark + cutBody(body, keep) + string(hashSep) + hex.EncodeToString(sum[:hashDigits/2])
}

// plainName reports whether segment s is shown as it is.
func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= nameMax && !strings.HasPrefix(s, escapeMark) &&
		strings.IndexByte(s, '/') < 0 && strings.IndexByte(s, 0) < 0
}

// escapeBody writes "%", "~", "/" and NUL of s as %XX.
func escapeBody(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%', hashSep, '/', 0:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cutBody returns at most n bytes of an escaped body, never cutting a %XX
// escape or (within 3 bytes) a UTF-8 sequence in two.
func cutBody(body string, n int) string {
	if len(body) <= n {
		return body
	}
	i := n
	switch {
	case body[i-1] == '%':
		i--
	case body[i-2] == '%':
		i -= 2
	}
	for i > 0 && !utf8.RuneStart(body[i]) && n-i < utf8.UTFMax {
		i--
	}
	return body[:i]
}

// unescapeBody reverses escapeBody; ok is false for a malformed escape.
func unescapeBody(body string) (string, bool) {
	if strings.IndexByte(body, '%') < 0 {
		return body, true
	}
	var b strings.Builder
	b.Grow(len(body))
	for i := 0; i < len(body); i++ {
		if body[i] != '%' {
			b.WriteByte(body[i])
			continue
		}
		if i+2 >= len(body) {
			return "", false
		}
		hi, lo := unhex(body[i+1]), unhex(body[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// nameKind is what decodeName found a shown name to be.
type nameKind int

const (
	// nameExact: the name stands for the segment decodeName returned.
	nameExact nameKind = iota
	// nameHashed: a shortened name, found by the listing (or fsys.long).
	nameHashed
	// nameInvalid: no segment is shown under this name.
	nameInvalid
	// nameTooLong: longer than NAME_MAX.
	nameTooLong
)

// decodeName returns the segment a name the mount shows stands for.
func decodeName(d string) (string, nameKind) {
	if len(d) > nameMax {
		return "", nameTooLong
	}
	if !strings.HasPrefix(d, escapeMark) {
		if !plainName(d) {
			return "", nameInvalid
		}
		return d, nameExact
	}
	body := d[len(escapeMark):]
	if i := strings.IndexByte(body, hashSep); i >= 0 {
		// cutBody backs off at most 3 bytes from the longest start.
		if !isHashTail(body[i+1:]) || len(d) < nameMax-utf8.UTFMax+1 {
			return "", nameInvalid
		}
		return "", nameHashed
	}
	s, ok := unescapeBody(body)
	if !ok || encodeName(s) != d {
		return "", nameInvalid
	}
	return s, nameExact
}

func isHashTail(s string) bool {
	if len(s) != hashDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validComponent reports whether d can be a name in a directory: not
// empty, ".", "..", no "/" or NUL, at most NAME_MAX bytes.
func validComponent(d string) bool {
	return d != "" && d != "." && d != ".." && len(d) <= nameMax && strings.IndexByte(d, '/') < 0 &&
		strings.IndexByte(d, 0) < 0
}

// newSegment returns the segment for a name given to create, mkdir, symlink
// or as a rename's target: ENAMETOOLONG past NAME_MAX or for a shortened
// name (it stands for a name too long to create, which only an existing
// object has), EINVAL for a name that stands for no segment, and for "⧸":
// an empty segment exists only through the names below it (its own object
// would be named like its parent's "PATH/" marker, or be no name at all).
// A name that is not UTF-8 is EILSEQ: object names are (Swift refuses
// others, Pithos+ stores the bytes percent-escaped, and a listing's JSON
// shows them as U+FFFD), so the file would be made and then never found
// again by its name (a later open(O_CREAT) of it made a conflict copy).
func newSegment(d string) (string, syscall.Errno) {
	s, kind := decodeName(d)
	switch kind {
	case nameExact:
		if s == "" {
			return "", syscall.EINVAL
		}
		if !utf8.ValidString(s) {
			return "", syscall.EILSEQ
		}
		return s, 0
	case nameTooLong, nameHashed:
		return "", syscall.ENAMETOOLONG
	}
	return "", syscall.EINVAL
}

// rawName returns the segment a node's name in the tree stands for. A
// shortened name is found in s.long, where child() put it; ok is false
// when it was forgotten since (the kernel's next lookup of the name finds
// it again through the listing).
func (s *fsys) rawName(d string) (string, bool) {
	raw, kind := decodeName(d)
	switch kind {
	case nameExact:
		return raw, true
	case nameHashed:
		return s.long.Get(d)
	}
	return "", false
}

// remember records the segment of a shortened name for rawName.
func (s *fsys) remember(d, raw string) {
	if _, kind := decodeName(d); kind == nameHashed {
		s.long.Add(d, raw)
	}
}

// shown reports whether listing entry e can be shown under name (its
// displayName): a name no directory can hold, or one an entry earlier in
// the listing already shows (an rclone link NAME.rclonelink beside an
// object NAME), is skipped and logged once.
func (s *fsys) shown(l *listing, k dirKey, e pithos.DirEntry, name string) bool {
	ok := validComponent(name)
	if ok && isRcloneLink(e) {
		if _, exists := l.find(strings.TrimSuffix(e.Name, rcloneLinkSuffix)); exists {
			ok = false
		}
	}
	if ok {
		return true
	}
	key := k.account + "/" + k.container + "/" + k.under + e.Name
	if _, seen := s.skipped.Get(key); !seen {
		s.skipped.Add(key, struct{}{})
		s.log.Warn("fs: listing entry not shown: its name cannot be told apart from another's or is no file name",
			zap.String("object", k.container+"/"+k.under+e.Name), zap.String("shown_as", name))
	}
	return false
}
