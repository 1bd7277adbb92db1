package fs

import (
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func TestEncodeName(t *testing.T) {
	long := strings.Repeat("L", 300)
	longU := strings.Repeat("λ", 150) // 300 bytes of 2-byte characters
	tests := []struct {
		seg, shown string
	}{
		{"report.txt", "report.txt"},
		{"100% ~done", "100% ~done"},
		{"a b\tc", "a b\tc"},
		{"", "⧸"},
		{".", "⧸."},
		{"..", "⧸.."},
		{"...", "..."},
		{".hidden", ".hidden"},
		{"⧸", "⧸⧸"},
		{"⧸x", "⧸⧸x"},
		{"⧸%41~", "⧸⧸%2541%7E"},
		{"x⧸", "x⧸"},
		{"nul\x00byte", "⧸nul%00byte"},
		{"a/b", "⧸a%2Fb"},
		{strings.Repeat("n", 255), strings.Repeat("n", 255)},
		{long, "⧸" + long[:235] + "~" + hashOf(long)},
		{longU, "⧸" + longU[:234] + "~" + hashOf(longU)}, // 235 would split a character
		{strings.Repeat("%", 100), strings.Repeat("%", 100)},
		{strings.Repeat("%", 300), "⧸" + strings.Repeat("%25", 78) + "~" + hashOf(strings.Repeat("%", 300))},
		{"%" + long, "⧸%25" + long[:232] + "~" + hashOf("%"+long)},
	}
	for _, tt := range tests {
		got := encodeName(tt.seg)
		if got != tt.shown {
			t.Errorf("encodeName(%.40q) = %.60q, want %.60q", tt.seg, got, tt.shown)
		}
		checkShown(t, tt.seg, got)
	}
}

// hashOf is the 16 hex digits a shortened name ends with.
func hashOf(s string) string {
	e := encodeName(s)
	return e[len(e)-hashDigits:]
}

// checkShown checks what encodeName(seg) must be: a valid name, and one
// that leads back to seg.
func checkShown(t *testing.T, seg, shown string) {
	t.Helper()
	if !validComponent(shown) {
		t.Fatalf("encodeName(%q) = %q: not a valid file name", seg, shown)
	}
	raw, kind := decodeName(shown)
	switch kind {
	case nameExact:
		if raw != seg {
			t.Fatalf("decodeName(encodeName(%q)) = %q", seg, raw)
		}
	case nameHashed:
		if len(seg) <= nameMax && len(escapeMark)+len(escapeBody(seg)) <= nameMax {
			t.Fatalf("%q shortened to %q though it fits", seg, shown)
		}
		if utf8.ValidString(seg) && !utf8.ValidString(shown) {
			t.Fatalf("encodeName(%q) = %q cuts a character", seg, shown)
		}
	default:
		t.Fatalf("decodeName(encodeName(%q) = %q): kind %d", seg, shown, kind)
	}
}

func TestDecodeName(t *testing.T) {
	tests := []struct {
		shown string
		seg   string
		kind  nameKind
	}{
		{"plain", "plain", nameExact},
		{"⧸", "", nameExact},
		{"⧸..", "..", nameExact},
		{"⧸⧸x", "⧸x", nameExact},
		{"⧸abc", "", nameInvalid},                // "abc" shows as itself
		{"⧸%2e%2e", "", nameInvalid},             // lower-case hex is not how it is shown
		{"⧸%2", "", nameInvalid},                 // cut escape
		{"⧸a%2Fb", "a/b", nameExact},             // a "/" inside one object name's segment
		{"⧸%7E", "", nameInvalid},                // "~" shows as itself
		{"⧸x~0123456789abcdef", "", nameInvalid}, // too short to be shortened
		{"⧸" + strings.Repeat("a", 235) + "~0123456789abcdef", "", nameHashed},
		{"⧸" + strings.Repeat("a", 235) + "~0123456789ABCDEF", "", nameInvalid},
		{strings.Repeat("n", 256), "", nameTooLong},
		{".", "", nameInvalid},
		{"..", "", nameInvalid},
	}
	for _, tt := range tests {
		seg, kind := decodeName(tt.shown)
		if seg != tt.seg || kind != tt.kind {
			t.Errorf("decodeName(%.50q) = %q, %d; want %q, %d", tt.shown, seg, kind, tt.seg, tt.kind)
		}
	}
	for _, tt := range []struct {
		shown string
		errno syscall.Errno
	}{
		{"new.txt", 0}, {"⧸..", 0}, {"⧸⧸", 0}, {"⧸", syscall.EINVAL}, {"⧸abc", syscall.EINVAL},
		{strings.Repeat("n", 300), syscall.ENAMETOOLONG},
		{"⧸" + strings.Repeat("a", 235) + "~0123456789abcdef", syscall.ENAMETOOLONG},
	} {
		if _, errno := newSegment(tt.shown); errno != tt.errno {
			t.Errorf("newSegment(%.40q) = %v, want %v", tt.shown, errno, tt.errno)
		}
	}
}

// FuzzNameRoundTrip: whatever the segment, what the mount shows is a valid
// file name that leads back to it, and a name that decodes to a segment is
// the one the mount shows for it.
func FuzzNameRoundTrip(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a", "⧸", "⧸x", "%", "~", "a/b", "\x00", strings.Repeat("é", 200),
		strings.Repeat("%", 90), "\xff\xfe", strings.Repeat("⧸", 90)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		checkShown(t, seg, encodeName(seg))
		if raw, kind := decodeName(seg); kind == nameExact && encodeName(raw) != seg {
			t.Fatalf("decodeName(%q) = %q, shown as %q", seg, raw, encodeName(raw))
		}
	})
}
