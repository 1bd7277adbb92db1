package pithos

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
)

// wireReq is what the fake server saw.
type wireReq struct {
	Method  string
	Path    string // escaped path as sent
	Query   string // raw query
	Header  http.Header
	Body    string
	Chunked bool
}

type reply struct {
	status int
	header map[string]string
	body   string
}

// recorder serves canned replies in order and records every request.
type recorder struct {
	t       *testing.T
	reqs    []wireReq
	replies []reply
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.reqs = append(r.reqs, wireReq{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.RawQuery,
		Header: req.Header.Clone(), Body: string(body), Chunked: len(req.TransferEncoding) > 0})
	rep := reply{status: 200}
	if len(r.replies) > 0 {
		rep = r.replies[0]
		r.replies = r.replies[1:]
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func newRecorded(t *testing.T, replies ...reply) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{t: t, replies: replies}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/pithos/object-store/v1", "tok", synnefo.Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c.WithAccount("u1"), rec
}

// hdr returns the request's single value of each named header ("" if absent).
func hdr(r wireReq, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		if vs, ok := r.Header[http.CanonicalHeaderKey(n)]; ok {
			m[n] = strings.Join(vs, ",")
		}
	}
	return m
}

func TestWireRequests(t *testing.T) {
	ctx := context.Background()
	yes := true
	cases := []struct {
		name    string
		replies []reply
		call    func(c *Client) error
		method  string
		path    string
		query   string
		headers map[string]string // exact values of these headers
		body    string
	}{
		{
			name:    "head object",
			replies: []reply{{status: 200}},
			call: func(c *Client) error {
				_, err := c.ObjectInfo(ctx, "pics", "a b/ü%.txt", GetOptions{Version: 7})
				return err
			},
			method: "HEAD", path: "/pithos/object-store/v1/u1/pics/a%20b/%C3%BC%25.txt", query: "format=json&version=7",
		},
		{
			name:    "create directory",
			replies: []reply{{status: 201}},
			call:    func(c *Client) error { _, err := c.CreateDirectory(ctx, "c", "dir/sub", nil); return err },
			method:  "PUT", path: "/pithos/object-store/v1/u1/c/dir/sub", query: "format=json",
			headers: map[string]string{"Content-Type": "application/directory", "Content-Length": "0"},
		},
		{
			name:    "put object with meta sharing public",
			replies: []reply{{status: 201, header: map[string]string{"ETag": "abc", "X-Object-Version": "9"}}},
			call: func(c *Client) error {
				res, err := c.PutObject(ctx, "c", "o", strings.NewReader("hello"), 5, PutOptions{ContentType: "text/plain",
					Meta: map[string]string{"Mode": "420", "Note": "naïve 100%"}, Sharing: &Sharing{Read: []string{"u2", "*"}},
					Public: &yes, Conditions: Conditions{IfNoneMatch: "*"}})
				if err == nil && (res.ETag != "abc" || res.Version != 9) {
					err = errors.New("bad result")
				}
				return err
			},
			method: "PUT", path: "/pithos/object-store/v1/u1/c/o", query: "format=json", body: "hello",
			headers: map[string]string{"Content-Type": "text/plain", "Content-Length": "5", "X-Object-Meta-Mode": "420",
				"X-Object-Meta-Note": "na%C3%AFve 100%25", "X-Object-Sharing": "read=u2,*", "X-Object-Public": "true", "If-None-Match": "*"},
		},
		{
			name:    "hashmap put",
			replies: []reply{{status: 201}},
			call: func(c *Client) error {
				_, _, err := c.PutHashmap(ctx, "c", "o", &Hashmap{Bytes: 1, Hashes: []string{hashmap.EmptyHash}}, PutOptions{Conditions: Conditions{IfMatch: "e1"}})
				return err
			},
			method: "PUT", path: "/pithos/object-store/v1/u1/c/o", query: "format=json&hashmap=",
			headers: map[string]string{"Content-Type": "application/octet-stream", "If-Match": "e1"},
			body:    `{"bytes":1,"hashes":["` + hashmap.EmptyHash + `"]}`,
		},
		{
			name:    "block upload",
			replies: []reply{{status: 202, body: `["` + hashmap.BlockHashHex([]byte("blk")) + `"]`}},
			call:    func(c *Client) error { _, err := c.UploadBlock(ctx, "c", []byte("blk")); return err },
			method:  "POST", path: "/pithos/object-store/v1/u1/c", query: "format=json&update=", body: "blk",
			headers: map[string]string{"Content-Type": "application/octet-stream", "Content-Length": "3"},
		},
		{
			name:    "copy via PUT with delimiter",
			replies: []reply{{status: 201}},
			call: func(c *Client) error {
				_, err := c.CopyObject(ctx, "src", "dir a", "dst", "dir b", CopyOptions{Delimiter: "/", SourceVersion: 3})
				return err
			},
			method: "PUT", path: "/pithos/object-store/v1/u1/dst/dir%20b", query: "delimiter=%2F&format=json",
			headers: map[string]string{"X-Copy-From": "/src/dir a", "Content-Length": "0", "X-Source-Version": "3"},
		},
		{
			name:    "move via MOVE method",
			replies: []reply{{status: 201}},
			call: func(c *Client) error {
				_, err := c.transfer(ctx, true, "src", "ö", "dst", "x", CopyOptions{UseMethod: true, Conditions: Conditions{IfMatch: "e"}})
				return err
			},
			method: "MOVE", path: "/pithos/object-store/v1/u1/src/%C3%B6", query: "format=json",
			headers: map[string]string{"Destination": "/dst/x", "If-Match": "e"},
		},
		{
			name:    "append",
			replies: []reply{{status: 204}},
			call: func(c *Client) error {
				_, err := c.AppendObject(ctx, "c", "o", strings.NewReader("tail"), 4, WriteOptions{})
				return err
			},
			method: "POST", path: "/pithos/object-store/v1/u1/c/o", query: "format=json&update=", body: "tail",
			headers: map[string]string{"Content-Type": "application/octet-stream", "Content-Range": "bytes */*", "Content-Length": "4"},
		},
		{
			name:    "overwrite range",
			replies: []reply{{status: 204}},
			call: func(c *Client) error {
				_, err := c.WriteAt(ctx, "c", "o", 10, []byte("xyz"), WriteOptions{})
				return err
			},
			method: "POST", path: "/pithos/object-store/v1/u1/c/o", query: "format=json&update=", body: "xyz",
			headers: map[string]string{"Content-Range": "bytes 10-12/*", "Content-Type": "application/octet-stream"},
		},
		{
			name:    "set sharing",
			replies: []reply{{status: 202}},
			call: func(c *Client) error {
				return c.SetSharing(ctx, "c", "o", Sharing{Read: []string{"a", "b"}, Write: []string{"u1:grp"}})
			},
			method: "POST", path: "/pithos/object-store/v1/u1/c/o", query: "format=json&update=",
			headers: map[string]string{"X-Object-Sharing": "read=a,b;write=u1:grp", "Content-Length": "0"},
		},
		{
			name:    "delete subtree",
			replies: []reply{{status: 204}},
			call:    func(c *Client) error { return c.DeleteObject(ctx, "c", "dir", DeleteOptions{Delimiter: "/"}) },
			method:  "DELETE", path: "/pithos/object-store/v1/u1/c/dir", query: "delimiter=%2F&format=json",
		},
		{
			name:    "container quota",
			replies: []reply{{status: 202}},
			call:    func(c *Client) error { return c.SetContainerQuota(ctx, "c", 1024) },
			method:  "POST", path: "/pithos/object-store/v1/u1/c", query: "format=json&update=",
			headers: map[string]string{"X-Container-Policy-Quota": "1024"},
		},
		{
			name:    "account group",
			replies: []reply{{status: 202}},
			call:    func(c *Client) error { return c.SetAccountGroup(ctx, "friends", []string{"u2", "u3"}) },
			method:  "POST", path: "/pithos/object-store/v1/u1", query: "format=json&update=",
			headers: map[string]string{"X-Account-Group-Friends": "u2,u3"},
		},
		{
			name:    "sharing accounts at the top level",
			replies: []reply{{status: 200, body: `[{"name":"u9","last_modified":"2011-12-02T08:10:41.565891+00:00"}]`}},
			call:    func(c *Client) error { _, err := c.ListSharingAccounts(ctx); return err },
			method:  "GET", path: "/pithos/object-store/v1/", query: "format=json&limit=10000",
		},
		{
			name:    "truncate",
			replies: []reply{{status: 200, header: map[string]string{"Content-Length": "100"}}, {status: 204}},
			call:    func(c *Client) error { _, err := c.TruncateObject(ctx, "c", "o", 40, WriteOptions{}); return err },
			method:  "POST", path: "/pithos/object-store/v1/u1/c/o", query: "format=json&update=",
			headers: map[string]string{"X-Object-Bytes": "40", "X-Source-Object": "/c/o", "Content-Range": "bytes 0-0/*"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := newRecorded(t, tc.replies...)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			r := rec.reqs[len(rec.reqs)-1]
			if r.Method != tc.method || r.Path != tc.path || r.Query != tc.query {
				t.Errorf("got %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tc.method, tc.path, tc.query)
			}
			names := make([]string, 0, len(tc.headers))
			for k := range tc.headers {
				names = append(names, k)
			}
			if got := hdr(r, names...); len(tc.headers) > 0 && !reflect.DeepEqual(got, tc.headers) {
				t.Errorf("headers %v, want %v", got, tc.headers)
			}
			if r.Body != tc.body {
				t.Errorf("body %q, want %q", r.Body, tc.body)
			}
			if r.Header.Get("X-Auth-Token") != "tok" {
				t.Errorf("no token")
			}
		})
	}
}

func TestObjectInfoDecodesHeaders(t *testing.T) {
	c, _ := newRecorded(t, reply{status: 200, header: map[string]string{
		"Content-Length":             "11",
		"Content-Type":               "image/svg%2Bxml",
		"ETag":                       "e7",
		"X-Object-Hash":              "e7",
		"X-Object-UUID":              "uuid-1",
		"X-Object-Version":           "42",
		"X-Object-Version-Timestamp": "Wed, 02 Dec 2011 08:10:41 GMT",
		"Last-Modified":              "Wed, 02 Dec 2011 08:10:42 GMT",
		"X-Object-Meta-Na%C3%AFve":   "caf%C3%A9 %25 %7E",
		"X-Object-Sharing":           "read=a,b; write=c",
		"X-Object-Public":            "http://h/pithos/public/abc",
		"Content-Disposition":        "attachment%3B filename%3D%22x%22",
	}})
	o, err := c.ObjectInfo(context.Background(), "c", "o", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &ObjectInfo{Name: "o", Bytes: 11, ContentType: "image/svg+xml", ETag: "e7", Hash: "e7", UUID: "uuid-1", Version: 42,
		VersionTimestamp: time.Date(2011, 12, 2, 8, 10, 41, 0, time.UTC), LastModified: time.Date(2011, 12, 2, 8, 10, 42, 0, time.UTC),
		Meta: map[string]string{"Naïve": "café % ~"}, Sharing: Sharing{Read: []string{"a", "b"}, Write: []string{"c"}},
		Public: "http://h/pithos/public/abc", ContentDisposition: `attachment; filename="x"`}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got  %+v\nwant %+v", o, want)
	}
}

func TestPreconditionAndQuotaErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := newRecorded(t,
		reply{status: 412, body: `{"preconditionFailed": {"code": 412, "message": "Resource ETag does not match", "details": ""}}`},
		reply{status: 413, body: `{"requestEntityTooLarge": {"code": 413, "message": "Quota error: Container quota exceeded", "details": ""}}`})
	_, err := c.PutObject(ctx, "c", "o", strings.NewReader("x"), 1, PutOptions{Conditions: Conditions{IfMatch: "old"}})
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 412 || ce.Message != "Resource ETag does not match" {
		t.Fatalf("412: got %v", err)
	}
	_, _, err = c.PutHashmap(ctx, "c", "o", &Hashmap{Bytes: 1, Hashes: []string{hashmap.EmptyHash}}, PutOptions{})
	if synnefo.StatusOf(err) != 413 {
		t.Fatalf("413: got %v", err)
	}
}

func TestSharingRoundTrip(t *testing.T) {
	cases := []struct {
		in   string
		want Sharing
		out  string
	}{
		{"", Sharing{}, ""},
		{"read=a,b; write=c", Sharing{Read: []string{"a", "b"}, Write: []string{"c"}}, "read=a,b;write=c"},
		{"write=*;read=u1:grp", Sharing{Read: []string{"u1:grp"}, Write: []string{"*"}}, "read=u1:grp;write=*"},
	}
	for _, tc := range cases {
		got, err := ParseSharing(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) || got.String() != tc.out {
			t.Errorf("ParseSharing(%q) = %+v, %v; String %q", tc.in, got, err, got.String())
		}
	}
	if _, err := ParseSharing("owner=x"); err == nil {
		t.Error("bad key accepted")
	}
}
