package ino

import "testing"

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
