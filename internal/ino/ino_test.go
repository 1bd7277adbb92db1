package ino

import (
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	a, b := []string{"acct", "uuid-1"}, []string{"acct", "uuid-1"}
	if Of(a...) != Of(b...) {
		t.Fatal("not stable")
	}
	cases := [][2][]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"acct", "uuid-1"}, {"acct", "uuid-2"}},
		{{"x"}, {"x", ""}},
	}
	for _, c := range cases {
		if Of(c[0]...) == Of(c[1]...) {
			t.Errorf("Of(%q) == Of(%q)", c[0], c[1])
		}
	}
	for _, p := range []string{"", "a", "control", "pithosfs"} {
		n, tg := Of(p), Tagged(p)
		if n <= 1 || n>>63 != 0 || tg>>63 != 1 || tg&^(1<<63) != n {
			t.Errorf("%q: Of %#x, Tagged %#x", p, n, tg)
		}
	}
}

// TestOfValues pins inode numbers: they must not change between builds
// (the kernel, NFS exports and tools like rsync -H remember them). The
// values are those of the first implementation (sha256.New, a Write per
// part and per separator), also for parts longer than the stack buffer.
func TestOfValues(t *testing.T) {
	cases := []struct {
		parts []string
		want  uint64
	}{
		{[]string{"uuid", "acct", "0b7c"}, 0x3598671993cfa481},
		{[]string{"dir", "acct", "c", strings.Repeat("x", 300)}, 0x13523372238d54cc},
		{nil, 0x63b0c44298fc1c14},
	}
	for _, c := range cases {
		if got := Of(c.parts...); got != c.want {
			t.Errorf("Of(%q) = %#x, want %#x", c.parts, got, c.want)
		}
	}
}
