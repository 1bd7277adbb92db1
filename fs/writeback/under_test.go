package writeback_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// TestFilesUnder: the open files of a directory by its listing prefix,
// where "" is the container's root and "/" the names with a leading "/".
func TestFilesUnder(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, n := range []string{"top", "/lead", "/x/deep", "w4//leading", "w4/plain", "w4/sub/no"} {
		f, err := e.m.Open(writeback.Base{Container: "c", Name: n, BlockSize: bs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Release()
	}
	for _, tt := range []struct{ under, want string }{
		{"", "top"},
		{"/", "lead"},
		{"/x/", "deep"},
		{"w4/", "plain"},
		{"w4//", "leading"},
		{"nothing/", ""},
	} {
		var got []string
		for name := range e.m.FilesUnder("c", tt.under) {
			got = append(got, name)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("FilesUnder(%q) = %q, want %q", tt.under, got, tt.want)
		}
	}
}
