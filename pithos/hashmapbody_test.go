package pithos

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

func TestHashmapRequestBody(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("B", 64)
	many := make([]string, 3000)
	for i := range many {
		many[i] = hashmap.EmptyHash
	}
	tests := []struct {
		name     string
		hm       Hashmap
		streamed bool
	}{
		{"none", Hashmap{Bytes: 0}, true},
		{"one", Hashmap{Bytes: 5, Hashes: []string{a}}, true},
		{"two", Hashmap{Bytes: 4<<20 + 1, Hashes: []string{a, b}}, true},
		{"many", Hashmap{Bytes: 3000 << 22, Hashes: many}, true},
		{"not hex", Hashmap{Bytes: 1, Hashes: []string{`x"y`}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := hashmapRequest(&tt.hm)
			if err != nil {
				t.Fatal(err)
			}
			if (req.GetBody != nil) != tt.streamed {
				t.Fatalf("streamed = %v", req.GetBody != nil)
			}
			check := func(r io.Reader) {
				data, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(data)) != req.ContentLength {
					t.Fatalf("body %d bytes, ContentLength %d", len(data), req.ContentLength)
				}
				var got struct {
					Bytes  int64    `json:"bytes"`
					Hashes []string `json:"hashes"`
				}
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatalf("%v: %.200s", err, data)
				}
				if got.Bytes != tt.hm.Bytes || len(got.Hashes) != len(tt.hm.Hashes) || got.Hashes == nil {
					t.Fatalf("decoded %d bytes, %d hashes", got.Bytes, len(got.Hashes))
				}
				for i := range got.Hashes {
					if got.Hashes[i] != tt.hm.Hashes[i] {
						t.Fatalf("hash %d = %q", i, got.Hashes[i])
					}
				}
			}
			check(iotest.OneByteReader(req.Body))
			if req.GetBody != nil {
				rc, _ := req.GetBody()
				check(rc)
			}
		})
	}
}

func TestHashmapReplyDecode(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{`{"bytes":0,"hashes":[]}`, []string{}, false},
		{`{"hashes": [ "` + a + `" , "` + a + `","` + b + `" ] ,"bytes":3}`, []string{a, a, b}, false},
		{`{"hashes":["x\"y","z"]}`, []string{`x"y`, "z"}, false},
		{`{"hashes":["a",]}`, nil, true},
		{`{"hashes":["a"`, nil, true},
	}
	for _, tt := range tests {
		var r hashmapReply
		err := json.Unmarshal([]byte(tt.in), &r)
		if (err != nil) != tt.err {
			t.Errorf("%s: err %v", tt.in, err)
			continue
		}
		if !tt.err && strings.Join(r.Hashes, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: hashes %q, want %q", tt.in, r.Hashes, tt.want)
		}
	}
}
