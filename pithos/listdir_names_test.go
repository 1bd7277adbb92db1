package pithos_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/pithos"
)

// TestListDirOddNames: ListDir keeps empty names as directories (a leading
// "/", "//" inside a name) and lists a prefix ending in "/" as it is, also
// where Pithos strips the "/" of prefix "/" and does not roll up names at a
// leading "/" (the local cloud does as Pithos does).
func TestListDirOddNames(t *testing.T) {
	cl := startCloud(t, 1024)
	ctx := context.Background()
	for _, n := range []string{"/lead", "/x/y", "w4//leading", "t//", "plain", "a/b"} {
		if _, err := cl.c.PutObject(ctx, "c", n, bytes.NewReader([]byte("z")), 1, pithos.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	show := func(es []pithos.DirEntry) string {
		var out []string
		for _, e := range es {
			s := fmt.Sprintf("%q", e.Name)
			if e.IsDir {
				s += "/"
			}
			if e.Object != nil {
				s += "=" + e.Object.Name
			}
			out = append(out, s)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	for _, tt := range []struct{ prefix, want string }{
		{"", `""/ "a"/ "plain"=plain "t"/ "w4"/`},
		{"/", `"lead"=/lead "x"/`},
		{"w4", `""/`},
		{"w4/", `""/`},
		{"w4//", `"leading"=w4//leading`},
		{"t/", `""/=t//`},
		{"a", `"b"=a/b`},
	} {
		es, err := cl.c.ListDir(ctx, "c", tt.prefix)
		if err != nil {
			t.Fatal(err)
		}
		if got := show(es); got != tt.want {
			t.Errorf("ListDir(%q) = %s, want %s", tt.prefix, got, tt.want)
		}
	}
}
