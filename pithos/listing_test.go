package pithos

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
)

func TestListingPagesAndMarkers(t *testing.T) {
	c, rec := newRecorded(t,
		reply{status: 200, body: `[{"name":"a","bytes":1,"x_object_hash":"h1","x_object_version":3,"last_modified":"2011-12-02T08:10:41.565891+00:00","x_object_version_timestamp":"1322813441.565891"},{"subdir":"b/"}]`},
		reply{status: 200, body: `[{"name":"b/","bytes":0,"content_type":"application/directory"},{"subdir":"c/"}]`},
		reply{status: 200, body: `[{"name":"d"}]`})
	l, err := c.ListObjects(context.Background(), "cont", ListOptions{Prefix: "p", Delimiter: "/", Limit: 2, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range l.Objects {
		names = append(names, o.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "b/", "d"}) || !reflect.DeepEqual(l.Subdirs, []string{"b/", "c/"}) {
		t.Fatalf("objects %v subdirs %v", names, l.Subdirs)
	}
	if o := l.Objects[0]; o.Hash != "h1" || o.Version != 3 || o.LastModified.IsZero() || o.VersionTimestamp.Unix() != 1322813441 {
		t.Fatalf("entry %+v", o)
	}
	if !l.Objects[1].IsDir() {
		t.Fatal("marker not a directory")
	}
	var markers []string
	for _, r := range rec.reqs {
		q, _ := url.ParseQuery(r.Query)
		if q.Get("format") != "json" || q.Get("limit") != "2" || q.Get("prefix") != "p" || q.Get("delimiter") != "/" || !q.Has("shared") {
			t.Errorf("query %s", r.Query)
		}
		markers = append(markers, q.Get("marker"))
	}
	// After a page ending in a subdir the marker skips past everything under it.
	if want := []string{"", "b/\U0010FFFF", "c/\U0010FFFF"}; !reflect.DeepEqual(markers, want) {
		t.Fatalf("markers %q, want %q", markers, want)
	}
}

// TestListingDedupAcrossPages: the first page is kept as it is; a name a
// later page repeats (a server that lists the marker again) shows once.
func TestListingDedupAcrossPages(t *testing.T) {
	c, _ := newRecorded(t,
		reply{status: 200, body: `[{"name":"a"},{"name":"b"},{"subdir":"b{/"}]`},
		reply{status: 200, body: `[{"name":"b"},{"subdir":"b{/"},{"name":"c"}]`},
		reply{status: 200, body: `[{"name":"c"}]`})
	l, err := c.ListObjects(context.Background(), "cont", ListOptions{Delimiter: "/", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range l.Objects {
		names = append(names, o.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) || !reflect.DeepEqual(l.Subdirs, []string{"b{/"}) {
		t.Fatalf("objects %v subdirs %v", names, l.Subdirs)
	}
}

// TestFlexString: a listing's version timestamp comes as a string or a
// number; a string is taken as it is unless it has escapes to decode.
func TestFlexString(t *testing.T) {
	cases := []struct{ in, want string }{
		{`"1322813441.565891"`, "1322813441.565891"},
		{`1322813441.565891`, "1322813441.565891"},
		{`""`, ""},
		{`null`, ""},
		{`"a\"b\u00e9\\"`, `a"bé\`},
	}
	for _, c := range cases {
		var v struct {
			F flexString `json:"f"`
		}
		if err := json.Unmarshal([]byte(`{"f":`+c.in+`}`), &v); err != nil || string(v.F) != c.want {
			t.Errorf("%s: %q, %v; want %q", c.in, v.F, err, c.want)
		}
	}
}

// TestListingDecodeTolerates: what the listing decoder accepts from a server,
// as encoding/json did: invalid UTF-8 in a name (replaced, not refused: the
// rest of the directory still lists), a member given twice (the last wins),
// members it does not know, sizes and versions as numbers or strings, nulls.
// A page that is not a JSON array of objects is an error, not an empty listing.
func TestListingDecodeTolerates(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string // object names, then "/"+subdir
		bytes      int64    // of the first object
		err        bool
	}{
		{"plain", `[{"name":"a","bytes":7},{"subdir":"d/"}]`, []string{"a", "/d/"}, 7, false},
		{"invalid UTF-8", "[{\"name\":\"a\xff\",\"bytes\":1}]", []string{"a\uFFFD"}, 1, false},
		{"member twice", `[{"name":"x","name":"y","bytes":2}]`, []string{"y"}, 2, false},
		{"unknown members and nulls", `[{"available":1,"map_check_timestamp":null,"name":"n","bytes":null,"x_object_version":"4","extra":{"k":[1,2]}}]`, []string{"n"}, 0, false},
		{"size as a string", `[{"name":"s","bytes":"12"}]`, []string{"s"}, 12, false},
		{"escaped name", `[{"name":"a\u00e9\"b","bytes":3}]`, []string{`aé"b`}, 3, false},
		{"not an array", `{"name":"a"}`, nil, 0, true},
		{"truncated", `[{"name":"a","bytes":1},{"name":"b"`, nil, 0, true},
		{"a name that is a number", `[{"name":1}]`, nil, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newRecorded(t, reply{status: 200, body: tc.body})
			l, err := c.ListObjects(context.Background(), "cont", ListOptions{Delimiter: "/"})
			if tc.err {
				if err == nil {
					t.Fatalf("listing %s: no error, got %+v", tc.body, l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range l.Objects {
				got = append(got, o.Name)
			}
			for _, d := range l.Subdirs {
				got = append(got, "/"+d)
			}
			if !reflect.DeepEqual(got, tc.want) || l.Objects[0].Bytes != tc.bytes {
				t.Fatalf("got %q (first %d bytes), want %q (%d)", got, l.Objects[0].Bytes, tc.want, tc.bytes)
			}
		})
	}
}
