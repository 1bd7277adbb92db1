package localcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// §5 top level: accounts sharing something with the caller.
func TestSpec5TopLevel(t *testing.T) {
	e := newEnv(t, 4)
	e.walk([]step{
		{name: "nothing shared text", method: "GET", path: "/", tok: "tokB", code: 204, body0: ptr("")},
		{name: "nothing shared json", method: "GET", path: "/?format=json", tok: "tokB", code: 200, body0: ptr("[]")},
		{name: "container", method: "PUT", path: "/{a}/c", code: 201},
		{name: "object", method: "PUT", path: "/{a}/c/o", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Sharing": "read={b}"}, code: 201},
		{name: "c's container", method: "PUT", path: "/{c}/c", tok: "tokC", code: 201},
		{name: "c's object", method: "PUT", path: "/{c}/c/o", tok: "tokC", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Sharing": "write=*"}, code: 201},
		{name: "b sees a and c", method: "GET", path: "/", tok: "tokB", code: 200, body0: ptr("{a}\n{c}\n")},
		{name: "limit", method: "GET", path: "/?limit=1", tok: "tokB", code: 200, body0: ptr("{a}\n")},
		{name: "marker", method: "GET", path: "/?marker={a}", tok: "tokB", code: 200, body0: ptr("{c}\n")},
		{name: "own account excluded", method: "GET", path: "/?format=json", tok: "tokC", code: 200, body0: ptr("[]")},
		{name: "a sees c (write=*)", method: "GET", path: "/", code: 200, body0: ptr("{c}\n")},
	})
	var rows []map[string]any
	json.Unmarshal(e.must(e.req("GET", "/?format=json", "tokB", nil, nil), 200).body, &rows)
	if len(rows) != 2 || rows[0]["name"] != userA.UUID || rows[0]["last_modified"] == nil {
		t.Errorf("json top listing %v", rows)
	}
}

// §6 account HEAD/GET/POST.
func TestSpec6Account(t *testing.T) {
	e := newEnv(t, 4)
	e.walk([]step{
		{name: "head fresh", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{
			"X-Account-Container-Count": "0", "X-Account-Bytes-Used": "0", "X-Account-Policy-Quota": strconv.Itoa(DefaultQuota)}},
		{name: "empty text listing", method: "GET", path: "/{a}", code: 204, body0: ptr("")},
		{name: "empty json listing", method: "GET", path: "/{a}?format=json", code: 200, body0: ptr("[]")},
		{name: "c2", method: "PUT", path: "/{a}/c2", code: 201},
		{name: "c1", method: "PUT", path: "/{a}/c1", hdr: map[string]string{"X-Container-Policy-Quota": "100"}, code: 201},
		{name: "obj", method: "PUT", path: "/{a}/c1/o", hdr: map[string]string{"Content-Type": "a/b"}, body: "12345", code: 201},
		{name: "counts", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Container-Count": "2", "X-Account-Bytes-Used": "5"}},
		{name: "text listing sorted", method: "GET", path: "/{a}", code: 200, body0: ptr("c1\nc2\n")},
		{name: "limit", method: "GET", path: "/{a}?limit=1", code: 200, body0: ptr("c1\n")},
		{name: "marker", method: "GET", path: "/{a}?marker=c1", code: 200, body0: ptr("c2\n")},
		{name: "marker past end", method: "GET", path: "/{a}?marker=c2", code: 204},
		{name: "json row", method: "GET", path: "/{a}?format=json&limit=1", code: 200,
			has: []string{`"name":"c1"`, `"count":1`, `"bytes":5`, `"x_container_policy":{`, `"quota":"100"`, `"versioning":"auto"`, `"project":"{a}"`, `"last_modified":"`}},
		{name: "xml", method: "GET", path: "/{a}?format=xml", code: 200, has: []string{`<account name="{a}">`, `<container><bytes>5</bytes>`, `<name>c2</name>`}},
		// Meta: replace vs update.
		{name: "set meta", method: "POST", path: "/{a}", hdr: map[string]string{"X-Account-Meta-A": "1", "X-Account-Meta-B": "2"}, code: 202},
		{name: "meta set", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Meta-A": "1", "X-Account-Meta-B": "2"}},
		{name: "update deletes A", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Meta-A": "", "X-Account-Meta-C": "3"}, code: 202},
		{name: "merged", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Meta-A": "", "X-Account-Meta-B": "2", "X-Account-Meta-C": "3"}},
		{name: "replace", method: "POST", path: "/{a}", hdr: map[string]string{"X-Account-Meta-D": "4"}, code: 202},
		{name: "replaced", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Meta-B": "", "X-Account-Meta-C": "", "X-Account-Meta-D": "4"}},
		{name: "policy headers ignored", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Policy-Quota": "5"}, code: 202},
		{name: "quota unchanged", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Policy-Quota": strconv.Itoa(DefaultQuota), "X-Account-Meta-D": "4"}},
		{name: "clear all", method: "POST", path: "/{a}", code: 202},
		{name: "cleared", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Meta-D": ""}},
		// Groups.
		{name: "group", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Group-Team": "{b}, {c},{b}"}, code: 202},
		{name: "group set", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Group-Team": "{b},{c}"}},
		{name: "bad group name", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Group-My_grp": "{b}"}, code: 400, fault: "badRequest: Bad characters in group name"},
		{name: "unknown member", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Group-Team": "nobody"}, code: 400},
		{name: "second group", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Group-Two": "{c}"}, code: 202},
		{name: "both groups", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Group-Team": "{b},{c}", "X-Account-Group-Two": "{c}"}},
		{name: "empty deletes group", method: "POST", path: "/{a}?update", hdr: map[string]string{"X-Account-Group-Two": ""}, code: 202},
		{name: "group gone", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Group-Team": "{b},{c}", "X-Account-Group-Two": ""}},
		{name: "replace groups", method: "POST", path: "/{a}", hdr: map[string]string{"X-Account-Group-Three": "{b}"}, code: 202},
		{name: "groups replaced", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Group-Team": "", "X-Account-Group-Three": "{b}"}},
		{name: "meta-only replace keeps groups", method: "POST", path: "/{a}", hdr: map[string]string{"X-Account-Meta-X": "1"}, code: 202},
		{name: "groups kept", method: "HEAD", path: "/{a}", code: 204, want: map[string]string{"X-Account-Group-Three": "{b}"}},
		// Other users.
		{name: "b: nothing shared", method: "HEAD", path: "/{a}", tok: "tokB", code: 403},
		{name: "b: post", method: "POST", path: "/{a}", tok: "tokB", code: 403},
		{name: "share", method: "POST", path: "/{a}/c2/s?update", code: 404},
		{name: "shared obj", method: "PUT", path: "/{a}/c2/s", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Sharing": "read={b}"}, code: 201},
		{name: "b: only Last-Modified", method: "HEAD", path: "/{a}", tok: "tokB", code: 204, want: map[string]string{
			"X-Account-Container-Count": "", "X-Account-Bytes-Used": "", "X-Account-Meta-X": "", "X-Account-Group-Three": ""}},
		{name: "b: lists shared containers only", method: "GET", path: "/{a}", tok: "tokB", code: 200, body0: ptr("c2\n")},
		{name: "b: json has name and last_modified only", method: "GET", path: "/{a}?format=json", tok: "tokB", code: 200, has: []string{`"name":"c2"`}, hasnt: []string{`"count"`, `"bytes"`}},
		{name: "b: until forbidden", method: "HEAD", path: "/{a}?until=100", tok: "tokB", code: 403},
		{name: "b: public forbidden", method: "GET", path: "/{a}?public", tok: "tokB", code: 403},
		{name: "shared filter", method: "GET", path: "/{a}?shared", code: 200, body0: ptr("c2\n")},
		{name: "public filter empty", method: "GET", path: "/{a}?public", code: 204},
		{name: "publish", method: "POST", path: "/{a}/c1/o?update", hdr: map[string]string{"X-Object-Public": "true"}, code: 202},
		{name: "public filter", method: "GET", path: "/{a}?public", code: 200, body0: ptr("c1\n")},
		{name: "until header", method: "HEAD", path: "/{a}?until=1000000000", code: 204, want: map[string]string{"X-Account-Until-Timestamp": "Sun, 09 Sep 2001 01:46:40 GMT"}},
		{name: "until garbage ignored", method: "HEAD", path: "/{a}?until=abc", code: 204, want: map[string]string{"X-Account-Until-Timestamp": ""}},
	})
	// Preconditions (§10): IMS → 304, IUS → 412.
	lm := e.must(e.do("HEAD", "/{a}", nil, ""), 204).h.Get("Last-Modified")
	lt, _ := http.ParseTime(lm)
	e.walk([]step{
		{name: "IMS equal", method: "HEAD", path: "/{a}", hdr: map[string]string{"If-Modified-Since": lm}, code: 304},
		{name: "IMS before", method: "GET", path: "/{a}", hdr: map[string]string{"If-Modified-Since": lt.Add(-time.Second).Format(http.TimeFormat)}, code: 200},
		{name: "IMS garbage ignored", method: "GET", path: "/{a}", hdr: map[string]string{"If-Modified-Since": "yesterday"}, code: 200},
		{name: "IUS before", method: "GET", path: "/{a}", hdr: map[string]string{"If-Unmodified-Since": lt.Add(-time.Second).Format(http.TimeFormat)}, code: 412, fault: "preconditionFailed: "},
		{name: "IUS equal", method: "GET", path: "/{a}", hdr: map[string]string{"If-Unmodified-Since": lm}, code: 200},
		{name: "IMS RFC 850", method: "HEAD", path: "/{a}", hdr: map[string]string{"If-Modified-Since": lt.Format("Monday, 02-Jan-06 15:04:05 GMT")}, code: 304},
		{name: "IMS asctime", method: "HEAD", path: "/{a}", hdr: map[string]string{"If-Modified-Since": lt.Format(time.ANSIC)}, code: 304},
	})
}

// §7 container PUT/HEAD/POST/DELETE.
func TestSpec7Container(t *testing.T) {
	e := newEnv(t, 4)
	e.walk([]step{
		{name: "create", method: "PUT", path: "/{a}/c", hdr: map[string]string{"X-Container-Meta-A": "1"}, code: 201},
		{name: "exists", method: "PUT", path: "/{a}/c", hdr: map[string]string{"X-Container-Meta-B": "2", "X-Container-Policy-Quota": " 1 000"}, code: 202},
		{name: "head", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{
			"X-Container-Object-Count": "0", "X-Container-Bytes-Used": "0", "X-Container-Block-Size": "4", "X-Container-Block-Hash": "sha256",
			"X-Container-Policy-Quota": "1000", "X-Container-Policy-Versioning": "auto", "X-Container-Policy-Project": "{a}",
			"X-Container-Meta-A": "1", "X-Container-Meta-B": "2"}},
		{name: "missing", method: "HEAD", path: "/{a}/nope", code: 404},
		{name: "missing GET", method: "GET", path: "/{a}/nope", code: 404, fault: "itemNotFound: Container does not exist"},
		{name: "bad versioning", method: "PUT", path: "/{a}/v", hdr: map[string]string{"X-Container-Policy-Versioning": "manual"}, code: 400,
			fault: "badRequest: The versioning policy value should be either 'auto' or 'none'."},
		{name: "bad quota", method: "PUT", path: "/{a}/v", hdr: map[string]string{"X-Container-Policy-Quota": "-1"}, code: 400,
			fault: "badRequest: The quota policy value should be a positive integer."},
		{name: "bad policy", method: "PUT", path: "/{a}/v", hdr: map[string]string{"X-Container-Policy-Color": "red"}, code: 400,
			fault: "badRequest: The only allowed policies are 'quota' or 'versioning'."},
		{name: "not created", method: "HEAD", path: "/{a}/v", code: 404},
		{name: "case-insensitive policy value key", method: "PUT", path: "/{a}/v", hdr: map[string]string{"X-Container-Policy-VERSIONING": "none"}, code: 201},
		{name: "none", method: "HEAD", path: "/{a}/v", code: 204, want: map[string]string{"X-Container-Policy-Versioning": "none"}},
		// POST policy: without update the others revert; with update merge.
		{name: "post policy update", method: "POST", path: "/{a}/c?update", hdr: map[string]string{"X-Container-Policy-Versioning": "none"}, code: 202},
		{name: "merged", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Policy-Quota": "1000", "X-Container-Policy-Versioning": "none", "X-Container-Meta-A": "1"}},
		{name: "empty policy rejected", method: "POST", path: "/{a}/c?update", hdr: map[string]string{"X-Container-Policy-Quota": ""}, code: 400},
		{name: "post policy replace", method: "POST", path: "/{a}/c?update", hdr: map[string]string{"X-Container-Policy-Quota": "7"}, code: 202},
		{name: "post policy no update", method: "POST", path: "/{a}/c", hdr: map[string]string{"X-Container-Policy-Quota": "9", "X-Container-Meta-A": "1"}, code: 202},
		{name: "others reverted", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Policy-Quota": "9", "X-Container-Policy-Versioning": "auto", "X-Container-Meta-B": ""}},
		{name: "meta update", method: "POST", path: "/{a}/c?update", hdr: map[string]string{"X-Container-Meta-A": "", "X-Container-Meta-C": "3"}, code: 202},
		{name: "meta merged", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Meta-A": "", "X-Container-Meta-C": "3", "X-Container-Policy-Quota": "9"}},
		{name: "b cannot post", method: "POST", path: "/{a}/c", tok: "tokB", code: 403},
		{name: "b cannot put", method: "PUT", path: "/{a}/x", tok: "tokB", code: 403},
		{name: "b cannot delete", method: "DELETE", path: "/{a}/c", tok: "tokB", code: 403},
		// Block upload: reply is the list of hashes; without update it wipes meta [Q].
		{name: "blocks", method: "POST", path: "/{a}/c", hdr: map[string]string{"Content-Type": "application/octet-stream"}, body: "abcdefghij", code: 202,
			body0: ptr(`["88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589","e5e088a0b66163a0a26a5e053d2a4496dc16ab6e0e3dd1adf2d16aa84a078c9d","c9df9c3f2963b19b9b95f58c4d33b053fa9f8586dd6ee04126e52a868f882108"]`)},
		{name: "meta wiped", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Meta-C": ""}},
		{name: "blocks xml", method: "POST", path: "/{a}/c?update&format=xml", hdr: map[string]string{"Content-Type": "application/octet-stream"}, body: "ab", code: 202,
			has: []string{"<items><item>fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603</item></items>"}},
		{name: "type with params is not a block upload", method: "POST", path: "/{a}/c?update", hdr: map[string]string{"Content-Type": "application/octet-stream; x=y"}, body: "zz", code: 202, body0: ptr("")},
		{name: "b cannot upload blocks", method: "POST", path: "/{a}/c?update", tok: "tokB", hdr: map[string]string{"Content-Type": "application/octet-stream"}, body: "ab", code: 403},
		// DELETE.
		{name: "obj", method: "PUT", path: "/{a}/c/o", hdr: map[string]string{"Content-Type": "a/b"}, body: "x", code: 201},
		{name: "not empty", method: "DELETE", path: "/{a}/c", code: 409, fault: "conflict: Container is not empty"},
		{name: "delimiter empties", method: "DELETE", path: "/{a}/c?delimiter=/", code: 204},
		{name: "kept, empty", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Object-Count": "0"}},
		{name: "until purges, container kept", method: "DELETE", path: "/{a}/c?until=" + strconv.FormatInt(time.Now().Unix()+10, 10), code: 204},
		{name: "history purged", method: "GET", path: "/{a}/c/o?version=list&format=json", code: 404},
		{name: "delete", method: "DELETE", path: "/{a}/c", code: 204},
		{name: "gone", method: "HEAD", path: "/{a}/c", code: 404},
		{name: "delete missing", method: "DELETE", path: "/{a}/c", code: 404},
	})
}

// §7 object listings.
func TestSpec7Listing(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	objs := []struct{ name, meta string }{
		{"a", "X-Object-Meta-Color: red"}, {"b/", ""}, {"b/1", "X-Object-Meta-Shape: x"}, {"b/2", ""}, {"b/c/3", ""},
		{"c.txt", "X-Object-Meta-Color: blue|X-Object-Meta-Size: 5"}, {"photos.txt", ""}, {"photos/x", ""}, {"/lead", ""}, {"/lead/x", ""},
	}
	for _, o := range objs {
		h := map[string]string{}
		for _, kv := range strings.Split(o.meta, "|") {
			if k, v, ok := strings.Cut(kv, ": "); ok {
				h[k] = v
			}
		}
		e.put("/{a}/c/"+o.name, o.name, h)
	}
	cases := []struct {
		query string
		want  string
	}{
		{"", "/lead /lead/x a b/ b/1 b/2 b/c/3 c.txt photos.txt photos/x"},
		{"limit=2", "/lead /lead/x"},
		{"limit=0", "/lead /lead/x a b/ b/1 b/2 b/c/3 c.txt photos.txt photos/x"},
		{"limit=x", "/lead /lead/x a b/ b/1 b/2 b/c/3 c.txt photos.txt photos/x"},
		{"marker=b/1", "b/2 b/c/3 c.txt photos.txt photos/x"},
		{"marker=b/1&limit=2", "b/2 b/c/3"},
		{"prefix=b", "b/ b/1 b/2 b/c/3"},
		{"prefix=/b", "b/ b/1 b/2 b/c/3"},
		{"prefix=/lead", ""},
		{"prefix=photos&delimiter=/", "photos/x"},
		{"prefix=b/&delimiter=/", "b/ b/1 b/2 subdir:b/c/"},
		{"prefix=b&delimiter=/", "b/ b/1 b/2 subdir:b/c/"},
		{"delimiter=/", "/lead /lead/x a b/ subdir:b/ c.txt photos.txt subdir:photos/"},
		{"delimiter=/&marker=b/", "subdir:b/ c.txt photos.txt subdir:photos/"},
		{"delimiter=/&limit=4", "/lead /lead/x a b/"},
		{"delimiter=/&limit=5", "/lead /lead/x a b/ subdir:b/"},
		{"delimiter=.", "/lead /lead/x a b/ b/1 b/2 b/c/3 subdir:c. subdir:photos. photos/x"},
		{"path=b", "b/ b/1 b/2"},
		{"path=/b", "b/ b/1 b/2"},
		{"path=", "/lead /lead/x a b/ c.txt photos.txt"},
		{"meta=color", "a c.txt"},
		{"meta=Color,shape", "a b/1 c.txt"},
		{"meta=color,!size", "a"},
		{"meta=color=blue", "c.txt"},
		{"meta=color!=red", "c.txt"},
		{"meta=color>b", "a c.txt"},
		{"meta=color>c", "a"},
		{"meta=!color", "/lead /lead/x b/ b/1 b/2 b/c/3 photos.txt photos/x"},
		{"meta=size>=5,color<=c", "c.txt"},
	}
	for _, tc := range cases {
		rows := e.list("/{a}/c?format=json&"+tc.query, userA.Token)
		if got := strings.Join(names(rows), " "); got != tc.want {
			t.Errorf("?%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	// Text form: subdirs as their names; nothing → 204.
	e.walk([]step{
		{name: "text", method: "GET", path: "/{a}/c?delimiter=/&prefix=b", code: 200, body0: ptr("b/\nb/1\nb/2\nb/c/\n")},
		{name: "text empty", method: "GET", path: "/{a}/c?prefix=zzz", code: 204, body0: ptr("")},
		{name: "json empty", method: "GET", path: "/{a}/c?prefix=zzz&format=json", code: 200, body0: ptr("[]")},
		{name: "xml", method: "GET", path: "/{a}/c?format=xml&prefix=b/&delimiter=/", code: 200, has: []string{`<container name="c">`, `<name>b/1</name>`, `<subdir name="b/c/" />`}},
		{name: "object meta keys", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Object-Meta": "Color,Shape,Size"}},
		{name: "b: nothing shared", method: "GET", path: "/{a}/c", tok: "tokB", code: 403},
		{name: "b: public forbidden", method: "GET", path: "/{a}/c?public", tok: "tokB", code: 403},
	})
	// JSON fields.
	rows := e.list("/{a}/c?format=json&prefix=c.txt", userA.Token)
	r := rows[0]
	head := e.must(e.do("HEAD", "/{a}/c/c.txt", nil, ""), 200)
	if r.Name != "c.txt" || r.Bytes != 5 || r.ContentType != "application/octet-stream" || r.Hash != "" ||
		r.XObjectHash != head.h.Get("X-Object-Hash") || r.UUID != head.h.Get("X-Object-Uuid") ||
		strconv.FormatInt(r.Version, 10) != head.h.Get("X-Object-Version") || r.LastModified == "" {
		t.Errorf("row %+v vs head %v", r, head.h)
	}
	if dot := strings.IndexByte(r.VersionTS, '.'); dot < 0 || len(r.VersionTS)-dot != 7 {
		t.Errorf("x_object_version_timestamp %q", r.VersionTS)
	}
	raw := string(e.must(e.do("GET", "/{a}/c?format=json&prefix=c.txt", nil, ""), 200).body)
	for _, k := range []string{`"x_object_modified_by":"` + userA.UUID + `"`, `"available":1`, `"map_check_timestamp":null`, `"x_object_version_timestamp":"`} {
		if !strings.Contains(raw, k) {
			t.Errorf("listing lacks %s: %s", k, raw)
		}
	}
	if strings.Contains(raw, "Color") {
		t.Errorf("listing carries user meta: %s", raw)
	}
	// shared / public filters.
	e.mkdir("/{a}/c/d", map[string]string{"Content-Type": "application/directory", "X-Object-Sharing": "read={b}"})
	e.put("/{a}/c/d/in", "x", nil)
	e.must(e.do("POST", "/{a}/c/a?update", map[string]string{"X-Object-Sharing": "read=*"}, ""), 202)
	e.must(e.do("POST", "/{a}/c/b/2?update", map[string]string{"X-Object-Public": "true"}, ""), 202)
	for q, want := range map[string]string{"shared": "a d d/in", "public": "b/2"} {
		if got := strings.Join(names(e.list("/{a}/c?format=json&"+q, userA.Token)), " "); got != want {
			t.Errorf("?%s = %q, want %q", q, got, want)
		}
	}
	// Another user sees only what is readable.
	if got := strings.Join(names(e.list("/{a}/c?format=json", userB.Token)), " "); got != "a d d/in" {
		t.Errorf("b's listing %q", got)
	}
	// until: the container as it was.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	ts := time.Now().Unix()
	time.Sleep(1100 * time.Millisecond)
	e.must(e.do("DELETE", "/{a}/c/a", nil, ""), 204)
	e.put("/{a}/c/new", "n", nil)
	rows = e.list(fmt.Sprintf("/{a}/c?format=json&until=%d", ts), userA.Token)
	got := strings.Join(names(rows), " ")
	if !strings.Contains(got, " a ") || strings.Contains(got, "new") {
		t.Errorf("until listing %q", got)
	}
	for _, r := range rows {
		if r.LastModified != "" {
			t.Errorf("until listing has last_modified: %+v", r)
			break
		}
	}
	e.must(e.req("GET", fmt.Sprintf("/{a}/c?until=%d", ts), "tokB", nil, nil), 403)
}
