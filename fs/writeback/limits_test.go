package writeback

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

func TestHashListJSON(t *testing.T) {
	a, b, e := strings.Repeat("a", 64), strings.Repeat("b", 64), hashmap.EmptyHash
	tests := []struct {
		name string
		in   hashList
		want string
	}{
		{"nil", nil, `null`},
		{"empty", hashList{}, `[]`},
		{"plain", hashList{a, b}, `["` + a + `","` + b + `"]`},
		{"runs", hashList{a, e, e, e, b, b}, `["` + a + `",["` + e + `",3],["` + b + `",2]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Marshal = %s, %v; want %s", got, err, tt.want)
			}
			var back hashList
			if err := json.Unmarshal(got, &back); err != nil || !slices.Equal(back, tt.in) || (back == nil) != (tt.in == nil) {
				t.Fatalf("Unmarshal(%s) = %v, %v", got, back, err)
			}
		})
	}
}

func TestHashListJSONRejects(t *testing.T) {
	for _, in := range []string{`[["a",0]]`, `[["a",-1]]`, `[["a"]]`, `[["a",1,2]]`, `[3]`, `[["a",4194305]]`, `{"a":1}`} {
		var l hashList
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("Unmarshal(%s) = %d hashes, want an error", in, len(l))
		}
	}
}

// A sparse terabyte's record is a few hundred bytes, not 17 MiB.
func TestRecordOfSparseFileIsSmall(t *testing.T) {
	n := int64(1<<40) / (4 << 20)
	hs := make(hashList, n)
	for i := range hs {
		hs[i] = hashmap.EmptyHash
	}
	hs[0], hs[n-1] = strings.Repeat("a", 64), strings.Repeat("b", 64)
	data, err := json.Marshal(&record{ID: "x", Container: "c", Name: "n", BlockSize: 4 << 20, Size: 1 << 40, Hashes: hs})
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 1024 {
		t.Fatalf("record of a sparse TiB is %d bytes", len(data))
	}
}
