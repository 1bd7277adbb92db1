package fs

import (
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

func TestNameFailed(t *testing.T) {
	long := strings.Repeat("n", 300)
	items := []failedItem{
		{acct: "a", fc: writeback.FailedCommit{ID: "id1", Container: "docs", Name: "reports/q3.pdf"}},
		{acct: "a", fc: writeback.FailedCommit{ID: "id2", Container: "docs", Name: "a.txt"}},
		{acct: "b", fc: writeback.FailedCommit{ID: "id3", Container: "docs", Name: "a.txt"}},
		{acct: "a", fc: writeback.FailedCommit{ID: "id4", Container: "c", Name: "100%/x"}},
		{acct: "a", fc: writeback.FailedCommit{ID: "id5"}},
		{acct: "a", fc: writeback.FailedCommit{ID: "id6", Container: "c", Name: long}},
	}
	nameFailed(items)
	want := []string{
		"docs%2Freports%2Fq3.pdf",
		"docs%2Fa.txt~id2",
		"docs%2Fa.txt~id3",
		"c%2F100%25%2Fx",
		"unreadable-id5",
		("c%2F" + long)[:251] + "~id6",
	}
	for i, w := range want {
		if items[i].name != w {
			t.Errorf("item %d: name %q, want %q", i, items[i].name, w)
		}
		if len(items[i].name) > 255 {
			t.Errorf("item %d: name of %d bytes", i, len(items[i].name))
		}
	}
}
