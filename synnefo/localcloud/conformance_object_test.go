package localcloud

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const digits = "0123456789abcdefghij" // 20 bytes, 5 blocks of 4

// §8.1 HEAD and §8.2 GET with ranges, §10 preconditions.
func TestSpec8HeadGetRanges(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	put := e.put("/{a}/c/o", digits, map[string]string{"Content-Type": "text/plain", "X-Object-Meta-K": "v"})
	top := refTop(refHashes([]byte(digits), 4))
	if put.h.Get("ETag") != top || put.h.Get("X-Object-Version") == "" {
		t.Fatalf("PUT reply %v", put.h)
	}
	r := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200)
	want := map[string]string{"ETag": top, "X-Object-Hash": top, "Content-Length": "20", "Content-Type": "text/plain", "Available": "1",
		"X-Object-Version": put.h.Get("X-Object-Version"), "X-Object-Modified-By": userA.UUID, "X-Object-Meta-K": "v"}
	for k, v := range want {
		if r.h.Get(k) != v {
			t.Errorf("HEAD %s = %q, want %q", k, r.h.Get(k), v)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(r.h.Get("X-Object-Uuid")) || r.h.Get("X-Object-Version-Timestamp") == "" || r.h.Get("Last-Modified") == "" {
		t.Errorf("HEAD %v", r.h)
	}
	if len(r.body) != 0 || r.h.Get("X-Object-Sharing") != "" || r.h.Get("X-Object-Allowed-To") != "" {
		t.Errorf("HEAD body/sharing %v", r.h)
	}
	e.walk([]step{
		{name: "full", method: "GET", path: "/{a}/c/o", code: 200, body0: ptr(digits), want: map[string]string{"Content-Length": "20", "Content-Disposition": `inline; filename="o"`}},
		{name: "disposition", method: "GET", path: "/{a}/c/o?disposition-type=attachment", code: 200, want: map[string]string{"Content-Disposition": `attachment; filename="o"`}},
		{name: "a-b", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-4"}, code: 206, body0: ptr("01234"),
			want: map[string]string{"Content-Range": "bytes 0-4/20", "Content-Length": "5"}},
		{name: "spaces", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes = 3 - 6"}, code: 206, body0: ptr("3456")},
		{name: "a-", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=15-"}, code: 206, body0: ptr("fghij"), want: map[string]string{"Content-Range": "bytes 15-19/20"}},
		{name: "-n", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=-3"}, code: 206, body0: ptr("hij"), want: map[string]string{"Content-Range": "bytes 17-19/20"}},
		{name: "whole", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-19"}, code: 206, body0: ptr(digits)},
		{name: "past end", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-20"}, code: 416, fault: "rangeNotSatisfiable: Requested range exceeds object limits"},
		{name: "offset = size", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=20-"}, code: 416},
		{name: "suffix too long", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=-21"}, code: 416},
		{name: "one bad of two", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-1,18-25"}, code: 416},
		{name: "-0", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=-0"}, code: 416},
		{name: "a>b ignored", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=5-2"}, code: 200, body0: ptr(digits)},
		{name: "not bytes ignored", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "items=0-1"}, code: 200, body0: ptr(digits)},
		{name: "dash ignored", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=-"}, code: 200, body0: ptr(digits)},
		{name: "garbage ignored", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=x-1"}, code: 200, body0: ptr(digits)},
		{name: "If-Range date → full", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-1", "If-Range": r.h.Get("Last-Modified")}, code: 200, body0: ptr(digits)},
		{name: "If-Range etag → full", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-1", "If-Range": top}, code: 200, body0: ptr(digits)},
		{name: "HEAD ignores Range", method: "HEAD", path: "/{a}/c/o", hdr: map[string]string{"Range": "bytes=0-1"}, code: 200, want: map[string]string{"Content-Length": "20"}},
	})
	// Multiple ranges: exact multipart body, in request order, not merged.
	r = e.must(e.do("GET", "/{a}/c/o", map[string]string{"Range": "bytes=10-11,0-1,1-2"}, ""), 206)
	m := regexp.MustCompile(`^multipart/byteranges; boundary=([0-9a-f]{32})$`).FindStringSubmatch(r.h.Get("Content-Type"))
	if m == nil {
		t.Fatalf("multi-range Content-Type %q", r.h.Get("Content-Type"))
	}
	b := m[1]
	wantBody := "--" + b + "\r\nContent-Range: bytes 10-11/20\r\nContent-Transfer-Encoding: binary\r\n\r\nab" +
		"\r\n--" + b + "\r\nContent-Range: bytes 0-1/20\r\nContent-Transfer-Encoding: binary\r\n\r\n01" +
		"\r\n--" + b + "\r\nContent-Range: bytes 1-2/20\r\nContent-Transfer-Encoding: binary\r\n\r\n12" +
		"\r\n--" + b + "--\r\n"
	if string(r.body) != wantBody {
		t.Errorf("multipart body %q\nwant %q", r.body, wantBody)
	}
	if r.h.Get("Content-Length") != "" {
		t.Errorf("multi-range Content-Length %q", r.h.Get("Content-Length"))
	}
	// Empty object: any Range → 416; hashmap has one hash.
	e.put("/{a}/c/empty", "", nil)
	e.walk([]step{
		{name: "range on empty", method: "GET", path: "/{a}/c/empty", hdr: map[string]string{"Range": "bytes=0-"}, code: 416},
		{name: "empty full", method: "GET", path: "/{a}/c/empty", code: 200, body0: ptr(""), want: map[string]string{"Content-Length": "0", "ETag": emptyHash}},
		{name: "empty hashmap", method: "GET", path: "/{a}/c/empty?hashmap&format=json", code: 200, body0: ptr(`{"block_size":4,"block_hash":"sha256","bytes":0,"hashes":["` + emptyHash + `"]}`)},
	})
	// Hashmap reply: object's own Content-Type, all object headers, Range ignored.
	r = e.must(e.do("GET", "/{a}/c/o?hashmap&format=json", map[string]string{"Range": "bytes=0-1"}, ""), 200)
	var hm hashmapReply
	json.Unmarshal(r.body, &hm)
	if hm.BlockSize != 4 || hm.BlockHash != "sha256" || hm.Bytes != 20 || fmt.Sprint(hm.Hashes) != fmt.Sprint(refHashes([]byte(digits), 4)) {
		t.Errorf("hashmap %+v", hm)
	}
	if r.h.Get("Content-Type") != "text/plain" || r.h.Get("X-Object-Hash") != top || r.h.Get("Content-Length") != strconv.Itoa(len(r.body)) {
		t.Errorf("hashmap headers %v", r.h)
	}
	// §10 preconditions for GET/HEAD: IMS → IUS → If-Match → If-None-Match.
	lm := r.h.Get("Last-Modified")
	lt, _ := http.ParseTime(lm)
	before := lt.Add(-time.Second).Format(http.TimeFormat)
	e.walk([]step{
		{name: "If-Match ok", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Match": `"` + strings.ToUpper(top) + `"`}, code: 200},
		{name: "If-Match list", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Match": `"x", W/"` + top + `"`}, code: 200},
		{name: "If-Match *", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Match": "*"}, code: 200},
		{name: "If-Match no", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Match": "abc"}, code: 412, fault: "preconditionFailed: Resource ETag does not match"},
		{name: "If-None-Match match", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-None-Match": top}, code: 304, want: map[string]string{"ETag": top}},
		{name: "If-None-Match *", method: "HEAD", path: "/{a}/c/o", hdr: map[string]string{"If-None-Match": "*"}, code: 304},
		{name: "If-None-Match other", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-None-Match": "abc"}, code: 200},
		{name: "IMS", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Modified-Since": lm}, code: 304},
		{name: "IMS before", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Modified-Since": before}, code: 200},
		{name: "IUS before", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Unmodified-Since": before}, code: 412, fault: "preconditionFailed: Resource has been modified"},
		{name: "IMS before If-Match", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Modified-Since": lm, "If-Match": "abc"}, code: 304},
		{name: "IUS before If-None-Match", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Unmodified-Since": before, "If-None-Match": top}, code: 412},
		{name: "If-Match before If-None-Match", method: "GET", path: "/{a}/c/o", hdr: map[string]string{"If-Match": "abc", "If-None-Match": top}, code: 412},
		{name: "hashmap honours preconditions", method: "GET", path: "/{a}/c/o?hashmap&format=json", hdr: map[string]string{"If-None-Match": top}, code: 304},
		{name: "missing", method: "HEAD", path: "/{a}/c/nope", code: 404},
		{name: "missing GET", method: "GET", path: "/{a}/c/nope", code: 404, fault: "itemNotFound: Object does not exist"},
	})
}

// §8.2/8.3 versions.
func TestSpec8Versions(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	v1 := e.put("/{a}/c/o", "one", map[string]string{"X-Object-Meta-V": "1"}).h.Get("X-Object-Version")
	v2 := e.put("/{a}/c/o", "second", map[string]string{"X-Object-Sharing": "read={b}"}).h.Get("X-Object-Version")
	n1, _ := strconv.Atoi(v1)
	n2, _ := strconv.Atoi(v2)
	if n2 <= n1 {
		t.Fatalf("versions %s then %s", v1, v2)
	}
	latest := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200)
	e.walk([]step{
		{name: "old version", method: "GET", path: "/{a}/c/o?version=" + v1, code: 200, body0: ptr("one"),
			want: map[string]string{"X-Object-Version": v1, "X-Object-Meta-V": "1", "Last-Modified": latest.h.Get("Last-Modified"), "X-Object-Sharing": ""}},
		{name: "latest has sharing", method: "HEAD", path: "/{a}/c/o", code: 200, want: map[string]string{"X-Object-Sharing": "read={b}", "X-Object-Meta-V": ""}},
		{name: "old hashmap", method: "GET", path: "/{a}/c/o?hashmap&format=json&version=" + v1, code: 200, has: []string{`"bytes":3`}},
		{name: "bad version", method: "GET", path: "/{a}/c/o?version=abc", code: 404, fault: "itemNotFound: Version does not exist"},
		{name: "unknown version", method: "GET", path: "/{a}/c/o?version=999999", code: 404, fault: "itemNotFound: Version does not exist"},
		{name: "delete", method: "DELETE", path: "/{a}/c/o", code: 204},
		{name: "deleted", method: "GET", path: "/{a}/c/o", code: 404, fault: "itemNotFound: Object is deleted."},
		{name: "delete again", method: "DELETE", path: "/{a}/c/o", code: 404, fault: "itemNotFound: Object is deleted."},
		{name: "never existed", method: "DELETE", path: "/{a}/c/never", code: 404, fault: "itemNotFound: Object does not exist"},
	})
	r := e.must(e.do("GET", "/{a}/c/o?version=list&format=json", nil, ""), 200)
	var vl struct {
		Versions [][]any `json:"versions"`
	}
	if err := json.Unmarshal(r.body, &vl); err != nil || len(vl.Versions) != 2 {
		t.Fatalf("version list %s", r.body)
	}
	for i, want := range []int{n1, n2} {
		id, _ := vl.Versions[i][0].(float64)
		ts, _ := vl.Versions[i][1].(string)
		if int(id) != want || !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(ts) {
			t.Errorf("version %d: %v", i, vl.Versions[i])
		}
	}
	// Re-created: a new UUID; re-PUT keeps it.
	u1 := e.put("/{a}/c/o", "x", nil)
	h1 := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Uuid")
	e.put("/{a}/c/o", "y", nil)
	h2 := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Uuid")
	if h1 != h2 || h1 == latest.h.Get("X-Object-Uuid") || u1 == nil {
		t.Errorf("uuids: old %s, recreated %s, re-put %s", latest.h.Get("X-Object-Uuid"), h1, h2)
	}
	// DELETE ?until purges history older than ts.
	e.must(e.do("DELETE", fmt.Sprintf("/{a}/c/o?until=%d", time.Now().Unix()+5), nil, ""), 204)
	r = e.must(e.do("GET", "/{a}/c/o?version=list&format=json", nil, ""), 200)
	json.Unmarshal(r.body, &vl)
	if len(vl.Versions) != 1 || e.get("/{a}/c/o") != "y" {
		t.Errorf("after until purge: %s", r.body)
	}
}

// §8.4 PUT: 411/422, hashmap PUT 400s, the 409 upload flow, chunked bodies.
func TestSpec8Put(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	hdr := "X-Auth-Token: tokA\nHost: x\nConnection: close\n"
	checkFault(t, e.raw("PUT /pithos/object-store/v1/{a}/c/o HTTP/1.1\n"+hdr+"Content-Type: a/b\n\n"), 411, "lengthRequired", "Missing or invalid Content-Length header")
	checkFault(t, e.raw("PUT /pithos/object-store/v1/{a}/c/o HTTP/1.1\n"+hdr+"Content-Length: 2\n\nab"), 411, "lengthRequired", "Missing Content-Type header")
	checkFault(t, e.raw("PUT /pithos/object-store/v1/{a}/c/o?hashmap HTTP/1.1\n"+hdr+"Content-Length: 2\n\n{}"), 411, "lengthRequired", "Missing Content-Type header")
	sum := md5.Sum([]byte("hello"))
	md := hex.EncodeToString(sum[:])
	e.walk([]step{
		{name: "ETag mismatch", method: "PUT", path: "/{a}/c/o", hdr: map[string]string{"Content-Type": "a/b", "ETag": "0123"}, body: "hello", code: 422, fault: "unprocessableEntity: Object ETag does not match"},
		{name: "not created", method: "HEAD", path: "/{a}/c/o", code: 404},
		{name: "ETag match", method: "PUT", path: "/{a}/c/o", hdr: map[string]string{"Content-Type": "a/b", "ETag": `"` + md + `"`}, body: "hello", code: 201},
		{name: "md5 in listing", method: "GET", path: "/{a}/c?format=json", code: 200, has: []string{`"hash":"` + md + `"`}},
		{name: "container missing", method: "PUT", path: "/{a}/nope/o", hdr: map[string]string{"Content-Type": "a/b"}, body: "x", code: 404, fault: "itemNotFound: Container does not exist"},
		{name: "If-Match on missing", method: "PUT", path: "/{a}/c/new", hdr: map[string]string{"Content-Type": "a/b", "If-Match": "*"}, body: "x", code: 412, fault: "preconditionFailed: Resource does not exist"},
		{name: "If-None-Match * existing", method: "PUT", path: "/{a}/c/o", hdr: map[string]string{"Content-Type": "a/b", "If-None-Match": "*"}, body: "x", code: 412, fault: "preconditionFailed: Resource exists or ETag matches"},
		{name: "If-Match wrong", method: "PUT", path: "/{a}/c/o", hdr: map[string]string{"Content-Type": "a/b", "If-Match": "abc"}, body: "x", code: 412, fault: "preconditionFailed: Resource ETag does not match"},
		{name: "If-None-Match * new", method: "PUT", path: "/{a}/c/new", hdr: map[string]string{"Content-Type": "a/b", "If-None-Match": "*"}, body: "x", code: 201},
		{name: "bad public", method: "PUT", path: "/{a}/c/p", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Public": "maybe"}, body: "x", code: 400, fault: "badRequest: Bad X-Object-Public header value"},
		{name: "bad sharing", method: "PUT", path: "/{a}/c/p", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Sharing": "read="}, body: "x", code: 400},
		// Meta replaced by PUT.
		{name: "with meta", method: "PUT", path: "/{a}/c/m", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Meta-A": "1", "Content-Encoding": "gzip", "X-Object-Sharing": "read={b}"}, body: "x", code: 201},
		{name: "replace", method: "PUT", path: "/{a}/c/m", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Meta-B": "2"}, body: "y", code: 201},
		{name: "replaced; sharing kept", method: "HEAD", path: "/{a}/c/m", code: 200, want: map[string]string{"X-Object-Meta-A": "", "Content-Encoding": "", "X-Object-Meta-B": "2", "X-Object-Sharing": "read={b}"}},
	})
	// Hashmap PUT validation.
	h := map[string]string{"Content-Type": "application/octet-stream"}
	ab := refBlockHash([]byte("ab"))
	e.walk([]step{
		{name: "bad json", method: "PUT", path: "/{a}/c/h?hashmap&format=json", hdr: h, body: "{", code: 400, fault: "badRequest: Invalid data formatting"},
		{name: "no hashes", method: "PUT", path: "/{a}/c/h?hashmap&format=json", hdr: h, body: `{"bytes": 3}`, code: 400, fault: "badRequest: Invalid data formatting"},
		{name: "count mismatch", method: "PUT", path: "/{a}/c/h?hashmap&format=json", hdr: h, body: hashmapJSON(5, []string{ab}), code: 400,
			fault: "badRequest: The object's size does not match with the object's hashmap length"},
		{name: "negative", method: "PUT", path: "/{a}/c/h?hashmap&format=json", hdr: h, body: hashmapJSON(-1, []string{ab}), code: 400},
		{name: "zero with a block", method: "PUT", path: "/{a}/c/h?hashmap&format=json", hdr: h, body: hashmapJSON(0, []string{ab}), code: 400},
		{name: "bad hash", method: "PUT", path: "/{a}/c/h?hashmap&format=json", hdr: h, body: hashmapJSON(2, []string{"zz"}), code: 400, fault: "badRequest: Invalid hash: zz"},
		{name: "bytes as string", method: "PUT", path: "/{a}/c/h?hashmap", hdr: h, body: `{"bytes":"2","hashes":["` + ab + `"]}`, code: 409, body0: ptr(`["` + ab + `"]`)},
		{name: "zero, empty list", method: "PUT", path: "/{a}/c/z0?hashmap&format=json", hdr: h, body: `{"bytes":0,"hashes":[]}`, code: 201, want: map[string]string{"ETag": emptyHash}},
		{name: "zero, H('')", method: "PUT", path: "/{a}/c/z1?hashmap&format=json", hdr: h, body: hashmapJSON(0, []string{emptyHash}), code: 201},
	})
	// 409 flow: bare list of missing hashes (unique, first-appearance order),
	// object unchanged; upload via container POST; then 201.
	data := []byte("wxyzwxyzQRST\x00\x00") // blocks wxyz wxyz QRST \0\0
	hashes := refHashes(data, 4)
	body := hashmapJSON(len(data), hashes)
	r := e.must(e.do("PUT", "/{a}/nope/h?hashmap&format=json", h, body), 409) // [Q] checked before the container
	want := fmt.Sprintf(`[%q,%q]`, hashes[0], hashes[2])
	if h := refBlockHash(nil); hashes[3] != h {
		t.Fatal("test data")
	}
	if string(r.body) != want || r.h.Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Fatalf("409 body %q %q, want %q", r.body, r.h.Get("Content-Type"), want)
	}
	e.must(e.do("PUT", "/{a}/c/h?hashmap&format=json", h, body), 409)
	e.must(e.do("HEAD", "/{a}/c/h", nil, ""), 404)
	up := e.must(e.do("POST", "/{a}/c?update&format=json", h, "wxyz"), 202)
	if string(up.body) != fmt.Sprintf(`[%q]`, hashes[0]) {
		t.Fatalf("upload reply %s", up.body)
	}
	if r := e.must(e.do("PUT", "/{a}/c/h?hashmap&format=json", h, body), 409); string(r.body) != fmt.Sprintf(`[%q]`, hashes[2]) {
		t.Fatalf("second 409 %s", r.body)
	}
	e.must(e.do("POST", "/{a}/c?update&format=json", h, "QRST"), 202)
	r = e.must(e.do("PUT", "/{a}/c/h?hashmap&format=json", map[string]string{"Content-Type": "text/x-thing"}, body), 201)
	if r.h.Get("ETag") != refTop(hashes) {
		t.Errorf("hashmap PUT ETag %s", r.h.Get("ETag"))
	}
	r = e.must(e.do("GET", "/{a}/c/h", nil, ""), 200)
	if string(r.body) != string(data) || r.h.Get("Content-Type") != "text/x-thing" {
		t.Errorf("hashmap object %q %q", r.body, r.h.Get("Content-Type"))
	}
	// Blocks are global: another container's hashmap PUT finds them.
	e.must(e.do("PUT", "/{a}/c2", nil, ""), 201)
	e.must(e.do("PUT", "/{a}/c2/h?hashmap&format=json", h, body), 201)
	// Chunked data PUT.
	big := strings.Repeat("chunk-", 1000)
	r = e.req("PUT", "/{a}/c/chunked", userA.Token, h, io.MultiReader(strings.NewReader(big[:100]), strings.NewReader(big[100:])))
	e.must(r, 201)
	if got := e.get("/{a}/c/chunked"); got != big {
		t.Errorf("chunked PUT: %d bytes back", len(got))
	}
	// Chunked hashmap PUT.
	r = e.req("PUT", "/{a}/c/chunkedhm?hashmap&format=json", userA.Token, h, io.MultiReader(strings.NewReader(body)))
	e.must(r, 201)
}

// §8.5 copy/move via PUT and §8.6 COPY/MOVE methods.
func TestSpec8CopyMove(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.must(e.do("PUT", "/{a}/c2", nil, ""), 201)
	e.put("/{a}/c/src", "source", map[string]string{"Content-Type": "text/plain", "X-Object-Meta-A": "1", "X-Object-Meta-B": "2", "X-Object-Sharing": "read={b}", "X-Object-Public": "true"})
	srcHead := e.must(e.do("HEAD", "/{a}/c/src", nil, ""), 200)
	hdr := "X-Auth-Token: tokA\nHost: x\nConnection: close\n"
	checkFault(t, e.raw("PUT /pithos/object-store/v1/{a}/c/dst HTTP/1.1\n"+hdr+"X-Copy-From: /c/src\n\n"), 411, "lengthRequired", "Missing or invalid Content-Length header")
	checkFault(t, e.raw("PUT /pithos/object-store/v1/{a}/c/dst HTTP/1.1\n"+hdr+"X-Move-From: /c/src\nTransfer-Encoding: chunked\n\n0\n\n"), 411, "lengthRequired", "")
	e.walk([]step{
		{name: "no leading slash", method: "PUT", path: "/{a}/c/dst", hdr: map[string]string{"X-Copy-From": "c/src"}, code: 400, fault: "badRequest: Invalid X-Copy-From header"},
		{name: "no object", method: "PUT", path: "/{a}/c/dst", hdr: map[string]string{"X-Move-From": "/c"}, code: 400, fault: "badRequest: Invalid X-Move-From header"},
		{name: "missing source", method: "PUT", path: "/{a}/c/dst", hdr: map[string]string{"X-Copy-From": "/c/nope"}, code: 404},
		{name: "missing dest container", method: "PUT", path: "/{a}/nope/dst", hdr: map[string]string{"X-Copy-From": "/c/src"}, code: 404},
		{name: "copy with meta merge", method: "PUT", path: "/{a}/c/dst", hdr: map[string]string{"X-Copy-From": "/c/src", "X-Object-Meta-B": "", "X-Object-Meta-C": "3"}, code: 201},
		{name: "merged; type kept; sharing/public not copied", method: "HEAD", path: "/{a}/c/dst", code: 200, want: map[string]string{
			"X-Object-Meta-A": "1", "X-Object-Meta-B": "", "X-Object-Meta-C": "3", "Content-Type": "text/plain", "X-Object-Sharing": "", "X-Object-Public": "",
			"ETag": srcHead.h.Get("ETag")}},
		{name: "copy percent-encoded source", method: "PUT", path: "/{a}/c2/%C3%A9", hdr: map[string]string{"X-Copy-From": "/c/sr%63", "Content-Type": "image/png"}, code: 201},
		{name: "type from request", method: "HEAD", path: "/{a}/c2/%C3%A9", code: 200, want: map[string]string{"Content-Type": "image/png"}},
		{name: "ignore_content_type", method: "PUT", path: "/{a}/c2/ict?ignore_content_type", hdr: map[string]string{"X-Copy-From": "/c/src", "Content-Type": "image/png"}, code: 201},
		{name: "type kept", method: "HEAD", path: "/{a}/c2/ict", code: 200, want: map[string]string{"Content-Type": "text/plain"}},
		{name: "dest no-clobber", method: "PUT", path: "/{a}/c/dst", hdr: map[string]string{"X-Copy-From": "/c/src", "If-None-Match": "*"}, code: 412, fault: "preconditionFailed: Resource exists or ETag matches"},
		{name: "dest If-Match missing", method: "PUT", path: "/{a}/c/dst9", hdr: map[string]string{"X-Copy-From": "/c/src", "If-Match": "*"}, code: 412, fault: "preconditionFailed: Resource does not exist"},
		{name: "source version", method: "PUT", path: "/{a}/c/v", hdr: map[string]string{"X-Copy-From": "/c/src", "X-Source-Version": "999999"}, code: 404},
		{name: "copy with sharing", method: "PUT", path: "/{a}/c/shared", hdr: map[string]string{"X-Copy-From": "/c/src", "X-Object-Sharing": "write={c}"}, code: 201},
		{name: "sharing from header", method: "HEAD", path: "/{a}/c/shared", code: 200, want: map[string]string{"X-Object-Sharing": "write={c}"}},
	})
	dst := e.must(e.do("HEAD", "/{a}/c/dst", nil, ""), 200)
	if dst.h.Get("X-Object-Uuid") == srcHead.h.Get("X-Object-Uuid") {
		t.Errorf("copy kept the source uuid")
	}
	// Copy onto an existing object: still a new UUID (a copy is a new object).
	e.put("/{a}/c/existing", "old", nil)
	oldUUID := e.must(e.do("HEAD", "/{a}/c/existing", nil, ""), 200).h.Get("X-Object-Uuid")
	e.must(e.do("PUT", "/{a}/c/existing", map[string]string{"X-Copy-From": "/c/src"}, ""), 201)
	if u := e.must(e.do("HEAD", "/{a}/c/existing", nil, ""), 200).h.Get("X-Object-Uuid"); u == oldUUID || u == srcHead.h.Get("X-Object-Uuid") {
		t.Errorf("copy onto existing: uuid %s (old %s, src %s)", u, oldUUID, srcHead.h.Get("X-Object-Uuid"))
	}
	// Move keeps the UUID; the source is gone with its sharing and public URL.
	pub := srcHead.h.Get("X-Object-Public")
	r := e.must(e.do("PUT", "/{a}/c2/moved", map[string]string{"X-Move-From": "/c/src"}, ""), 201)
	if _, err := strconv.Atoi(r.h.Get("X-Object-Version")); err != nil {
		t.Errorf("move X-Object-Version %q", r.h.Get("X-Object-Version"))
	}
	moved := e.must(e.do("HEAD", "/{a}/c2/moved", nil, ""), 200)
	if moved.h.Get("X-Object-Uuid") != srcHead.h.Get("X-Object-Uuid") || moved.h.Get("X-Object-Meta-A") != "1" || moved.h.Get("X-Object-Sharing") != "" || moved.h.Get("X-Object-Public") != "" {
		t.Errorf("moved %v", moved.h)
	}
	checkFault(t, e.do("HEAD", "/{a}/c/src", nil, ""), 404, "", "")
	e.must(e.req("GET", pub, "", nil, nil), 404)
	e.must(e.do("PUT", "/{a}/c/src", map[string]string{"Content-Type": "text/plain"}, "again"), 201)
	if h := e.must(e.do("HEAD", "/{a}/c/src", nil, ""), 200).h; h.Get("X-Object-Sharing") != "" || h.Get("X-Object-Public") != "" {
		t.Errorf("re-created source inherited sharing/public: %v", h)
	}
	// COPY / MOVE methods.
	e.walk([]step{
		{name: "COPY no Destination", method: "COPY", path: "/{a}/c/src", code: 400, fault: "badRequest: Missing Destination header"},
		{name: "COPY bad Destination", method: "COPY", path: "/{a}/c/src", hdr: map[string]string{"Destination": "c/x"}, code: 400, fault: "badRequest: Invalid Destination header"},
		{name: "COPY precondition on source", method: "COPY", path: "/{a}/c/src", hdr: map[string]string{"Destination": "/c/cp", "If-Match": "abc"}, code: 412},
		{name: "COPY If-None-Match source", method: "COPY", path: "/{a}/c/src", hdr: map[string]string{"Destination": "/c/cp", "If-None-Match": "*"}, code: 412},
		{name: "COPY", method: "COPY", path: "/{a}/c/src", hdr: map[string]string{"Destination": "/c/cp", "X-Object-Meta-Z": "z"}, code: 201},
		{name: "copied", method: "GET", path: "/{a}/c/cp", code: 200, body0: ptr("again"), want: map[string]string{"X-Object-Meta-Z": "z"}},
		{name: "MOVE", method: "MOVE", path: "/{a}/c/cp", hdr: map[string]string{"Destination": "/c2/mv", "Content-Type": "x/y"}, code: 201},
		{name: "moved", method: "GET", path: "/{a}/c2/mv", code: 200, body0: ptr("again"), want: map[string]string{"Content-Type": "x/y"}},
		{name: "source gone", method: "HEAD", path: "/{a}/c/cp", code: 404},
	})
	// Subtree move with delimiter, atomically; names outside the subtree untouched.
	e.mkdir("/{a}/c/d", map[string]string{"Content-Type": "application/directory"})
	for _, n := range []string{"d/x", "d/y/z", "d/y/", "dx", "d.txt"} {
		e.put("/{a}/c/"+n, n, nil)
	}
	e.must(e.do("PUT", "/{a}/c/e?delimiter=/", map[string]string{"X-Move-From": "/c/d"}, ""), 201)
	got := strings.Join(names(e.list("/{a}/c?format=json&prefix=d", userA.Token)), " ")
	if got != "d.txt dst dx" {
		t.Errorf("after subtree move, d*: %q", got)
	}
	got = strings.Join(names(e.list("/{a}/c?format=json&prefix=e", userA.Token)), " ")
	if got != "e e/x e/y/ e/y/z existing" {
		t.Errorf("after subtree move, e*: %q", got)
	}
	if e.get("/{a}/c/e/y/z") != "d/y/z" {
		t.Errorf("moved content")
	}
	// Subtree copy with the COPY method.
	e.must(e.do("COPY", "/{a}/c/e?delimiter=/", map[string]string{"Destination": "/c2/f"}, ""), 201)
	got = strings.Join(names(e.list("/{a}/c2?format=json&prefix=f", userA.Token)), " ")
	if got != "f f/x f/y/ f/y/z" {
		t.Errorf("after subtree copy: %q", got)
	}
	// A subtree move that fails part-way (quota) changes nothing.
	e.must(e.do("PUT", "/{a}/small", map[string]string{"X-Container-Policy-Quota": "4"}, ""), 201)
	r = e.do("PUT", "/{a}/small/e?delimiter=/", map[string]string{"X-Move-From": "/c/e"}, "")
	checkFault(t, r, 413, "requestEntityTooLarge", "")
	if got := strings.Join(names(e.list("/{a}/c?format=json&prefix=e", userA.Token)), " "); got != "e e/x e/y/ e/y/z existing" {
		t.Errorf("after failed subtree move: %q", got)
	}
	e.must(e.do("GET", "/{a}/small", nil, ""), 204)
}

// §8.7 POST: metadata only and data updates; §9.4 stale-tail quirk.
func TestSpec8Post(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	v0 := e.put("/{a}/c/o", digits, map[string]string{"Content-Type": "text/plain", "X-Object-Meta-A": "1"}).h.Get("X-Object-Version")
	version := func() string { return e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Version") }
	// Metadata-only.
	r := e.must(e.do("POST", "/{a}/c/o", map[string]string{"X-Object-Meta-B": "2", "Content-Type": "image/png"}, ""), 202)
	v1 := r.h.Get("X-Object-Version")
	if v1 == "" || v1 == v0 || version() != v1 {
		t.Errorf("meta POST version %q (was %q)", v1, v0)
	}
	e.walk([]step{
		{name: "replaced; type unchanged", method: "HEAD", path: "/{a}/c/o", code: 200, want: map[string]string{"X-Object-Meta-A": "", "X-Object-Meta-B": "2", "Content-Type": "text/plain"}},
		{name: "update", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Object-Meta-C": "3", "Content-Disposition": "attachment"}, code: 202},
		{name: "merged", method: "HEAD", path: "/{a}/c/o", code: 200, want: map[string]string{"X-Object-Meta-B": "2", "X-Object-Meta-C": "3", "Content-Disposition": "attachment"}},
		{name: "own disposition wins", method: "GET", path: "/{a}/c/o", code: 200, want: map[string]string{"Content-Disposition": "attachment"}},
		{name: "unless disposition-type", method: "GET", path: "/{a}/c/o?disposition-type=inline", code: 200, want: map[string]string{"Content-Disposition": `inline; filename="o"`}},
		{name: "empty deletes", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Object-Meta-B": ""}, code: 202},
		{name: "deleted", method: "HEAD", path: "/{a}/c/o", code: 200, want: map[string]string{"X-Object-Meta-B": "", "X-Object-Meta-C": "3"}},
		{name: "sharing only: no version", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Object-Sharing": "read={b}"}, code: 202, want: map[string]string{"X-Object-Version": ""}},
		{name: "public only: no version", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Object-Public": "true"}, code: 202, want: map[string]string{"X-Object-Version": ""}},
		{name: "body ignored in meta mode", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"Content-Type": "application/octet-stream; charset=x", "Content-Range": "bytes 0-1/*"}, body: "ZZ", code: 202},
		{name: "unchanged data", method: "GET", path: "/{a}/c/o", code: 200, body0: ptr(digits)},
		{name: "If-Match wrong", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"If-Match": "abc", "X-Object-Meta-Q": "q"}, code: 412},
		{name: "If-None-Match *", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"If-None-Match": "*", "X-Object-Meta-Q": "q"}, code: 412},
		{name: "missing object", method: "POST", path: "/{a}/c/nope?update", hdr: map[string]string{"X-Object-Meta-Q": "q"}, code: 404},
	})
	sv := version()
	if h := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h; h.Get("X-Object-Sharing") != userB.UUID && h.Get("X-Object-Sharing") != "read="+userB.UUID {
		t.Errorf("sharing after POST: %v", h)
	}
	e.must(e.do("POST", "/{a}/c/o", nil, ""), 202) // no update, nothing sent: clears meta, new version
	if h := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h; h.Get("X-Object-Meta-C") != "" || h.Get("X-Object-Version") == sv || h.Get("X-Object-Sharing") == "" {
		t.Errorf("clear-all POST: %v", h)
	}
	// Data updates.
	oct := func(cr string, extra ...string) map[string]string {
		h := map[string]string{"Content-Type": "application/octet-stream"}
		if cr != "" {
			h["Content-Range"] = cr
		}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	e.walk([]step{
		{name: "no Content-Range", method: "POST", path: "/{a}/c/o?update", hdr: oct(""), body: "x", code: 400, fault: "badRequest: Missing Content-Range header"},
		{name: "first > last", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes 5-3/*"), body: "x", code: 416, fault: "rangeNotSatisfiable: Invalid Content-Range header"},
		{name: "garbage", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes x-3/*"), body: "x", code: 416, fault: "rangeNotSatisfiable: Invalid Content-Range header"},
		{name: "last >= total", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes 0-20/20"), body: "x", code: 416, fault: "rangeNotSatisfiable: Invalid Content-Range header"},
		{name: "total != size", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes 0-1/99"), body: "xx", code: 416, fault: "rangeNotSatisfiable: Supplied range will change provided object limits"},
		{name: "offset beyond", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes 21-/*"), body: "x", code: 416, fault: "rangeNotSatisfiable: Supplied offset is beyond object limits"},
		{name: "length mismatch", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes 0-3/*"), body: "xx", code: 400, fault: "badRequest: Content length does not match range length"},
		{name: "bad X-Object-Bytes", method: "POST", path: "/{a}/c/o?update", hdr: oct("bytes 0-0/*", "X-Object-Bytes", "abc"), body: "x", code: 400, fault: "badRequest: Invalid X-Object-Bytes header"},
		{name: "data unchanged", method: "GET", path: "/{a}/c/o", code: 200, body0: ptr(digits)},
	})
	type upd struct {
		name  string
		hdr   map[string]string
		body  string
		want  string
		chunk bool
	}
	for _, u := range []upd{
		{"overwrite a-b", oct("bytes 2-3/*"), "XY", "01XY456789abcdefghij", false},
		{"overwrite across blocks a-/total", oct("bytes 3-/20"), "PQRST", "01XPQRST89abcdefghij", false},
		{"append */*", oct("bytes */*"), "++", "01XPQRST89abcdefghij++", false},
		{"append at size", oct("bytes 22-/*"), "!", "01XPQRST89abcdefghij++!", false},
		{"chunked append", oct("bytes */*"), "chunky", "01XPQRST89abcdefghij++!chunky", true},
		{"chunked overwrite ignores range length", oct("bytes 0-0/*"), "abc", "abcPQRST89abcdefghij++!chunky", true},
		{"X-Object-Bytes cannot grow", oct("bytes 0-0/*", "X-Object-Bytes", "100"), "A", "AbcPQRST89abcdefghij++!chunky", false},
	} {
		var body io.Reader = strings.NewReader(u.body)
		if u.chunk {
			body = io.MultiReader(body)
		}
		r := e.req("POST", "/{a}/c/o?update", userA.Token, u.hdr, body)
		if r.code != 204 {
			t.Fatalf("%s: %s", u.name, r)
		}
		if r.h.Get("ETag") != refTop(refHashes([]byte(u.want), 4)) || r.h.Get("X-Object-Version") == "" {
			t.Errorf("%s: ETag %q X-Object-Version %q", u.name, r.h.Get("ETag"), r.h.Get("X-Object-Version"))
		}
		if got := e.get("/{a}/c/o"); got != u.want {
			t.Errorf("%s: %q, want %q", u.name, got, u.want)
		}
	}
	// X-Source-Object: data from another object (and a version of it).
	sv1 := e.put("/{a}/c/src", "SRC1", nil).h.Get("X-Object-Version")
	e.put("/{a}/c/src", "src2", nil)
	e.walk([]step{
		{name: "source", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Source-Object": "/c/src", "Content-Range": "bytes 1-/*"}, code: 204},
		{name: "source applied", method: "GET", path: "/{a}/c/o", code: 200, body0: ptr("Asrc2RST89abcdefghij++!chunky")},
		{name: "source version", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Source-Object": "/c/src", "X-Source-Version": sv1, "Content-Range": "bytes 0-1/*"}, code: 204},
		{name: "source version applied", method: "GET", path: "/{a}/c/o", code: 200, body0: ptr("SRrc2RST89abcdefghij++!chunky")},
		{name: "range longer than source", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Source-Object": "/c/src", "Content-Range": "bytes 0-9/*"}, code: 400, fault: "badRequest: Object length is smaller than range length"},
		{name: "bad source", method: "POST", path: "/{a}/c/o?update", hdr: map[string]string{"X-Source-Object": "c/src", "Content-Range": "bytes 0-1/*"}, code: 400},
	})
	// Truncation (kamaki's recipe) and the §9.4 stale-tail quirk: hashes keep
	// the whole stored last block.
	e.put("/{a}/c/t", "abcdefgh", map[string]string{"X-Object-Meta-Keep": "k"})
	r = e.must(e.do("POST", "/{a}/c/t?update", map[string]string{"X-Source-Object": "/c/t", "Content-Range": "bytes 0-0/*", "X-Object-Bytes": "6", "Content-Type": "application/octet-stream"}, ""), 204)
	hm := e.hashmap("/{a}/c/t")
	stale := []string{refBlockHash([]byte("abcd")), refBlockHash([]byte("efgh"))}
	if e.get("/{a}/c/t") != "abcdef" || hm.Bytes != 6 || fmt.Sprint(hm.Hashes) != fmt.Sprint(stale) || r.h.Get("ETag") != refTop(stale) {
		t.Errorf("truncate: hashmap %+v ETag %s, want stale hashes %v", hm, r.h.Get("ETag"), stale)
	}
	if e.must(e.do("HEAD", "/{a}/c/t", nil, ""), 200).h.Get("X-Object-Meta-Keep") != "k" {
		t.Errorf("data POST with update lost meta")
	}
	// Appending after truncation overlays the stale block (padded(old)[:o] + d).
	e.must(e.do("POST", "/{a}/c/t?update", oct("bytes */*"), "Z"), 204)
	if got := e.get("/{a}/c/t"); got != "abcdefZ" {
		t.Errorf("append after truncate %q", got)
	}
	if hm := e.hashmap("/{a}/c/t"); hm.Hashes[1] != refBlockHash([]byte("efZh")) {
		t.Errorf("stale tail after append: %v", hm.Hashes)
	}
	// Data POST without update wipes user meta [Q].
	e.must(e.do("POST", "/{a}/c/t", oct("bytes 0-0/*"), "X"), 204)
	if e.must(e.do("HEAD", "/{a}/c/t", nil, ""), 200).h.Get("X-Object-Meta-Keep") != "" {
		t.Errorf("data POST without update kept meta")
	}
	// Truncate to zero.
	e.must(e.do("POST", "/{a}/c/t?update", map[string]string{"X-Source-Object": "/c/t", "Content-Range": "bytes 0-0/*", "X-Object-Bytes": "0"}, ""), 204)
	if hm := e.hashmap("/{a}/c/t"); hm.Bytes != 0 || len(hm.Hashes) != 1 || e.get("/{a}/c/t") != "" {
		t.Errorf("truncate to 0: %+v", hm)
	}
	// Data POST into an empty object.
	e.must(e.do("POST", "/{a}/c/t?update", oct("bytes */*"), "hello"), 204)
	if got := e.get("/{a}/c/t"); got != "hello" {
		t.Errorf("append to empty %q", got)
	}
	// HTML form upload.
	form := "--XX\r\nContent-Disposition: form-data; name=\"X-Object-Data\"; filename=\"f\"\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--XX--\r\n"
	e.must(e.req("POST", "/{a}/c/form?X-Auth-Token=tokA", "", map[string]string{"Content-Type": "multipart/form-data; boundary=XX"}, strings.NewReader(form)), 201)
	if r := e.must(e.do("GET", "/{a}/c/form", nil, ""), 200); string(r.body) != "<p>hi</p>" || r.h.Get("Content-Type") != "text/html" {
		t.Errorf("form upload %q %q", r.body, r.h.Get("Content-Type"))
	}
}

// §8.8 DELETE with delimiter.
func TestSpec8Delete(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.mkdir("/{a}/c/d", map[string]string{"Content-Type": "application/directory"})
	for _, n := range []string{"d/x", "d/y/z", "dx", "nodir/x"} {
		e.put("/{a}/c/"+n, n, nil)
	}
	e.walk([]step{
		{name: "b cannot delete", method: "DELETE", path: "/{a}/c/d", tok: "tokB", code: 403},
		{name: "delimiter needs the object", method: "DELETE", path: "/{a}/c/nodir?delimiter=/", code: 404},
		{name: "nodir/x kept", method: "HEAD", path: "/{a}/c/nodir/x", code: 200},
		{name: "subtree", method: "DELETE", path: "/{a}/c/d?delimiter=/", code: 204},
		{name: "listing", method: "GET", path: "/{a}/c", code: 200, body0: ptr("dx\nnodir/x\n")},
		{name: "count", method: "HEAD", path: "/{a}/c", code: 204, want: map[string]string{"X-Container-Object-Count": "2", "X-Container-Bytes-Used": "9"}},
	})
}

// §8.9 public objects.
func TestSpec8Public(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/p", digits, map[string]string{"Content-Type": "text/plain", "X-Object-Public": "true", "X-Object-Meta-Secret": "s", "Content-Encoding": "identity"})
	pub := e.must(e.do("HEAD", "/{a}/c/p", nil, ""), 200).h.Get("X-Object-Public")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(e.srv.URL) + `/pithos/public/[0-9a-zA-Z]{16}$`).MatchString(pub) {
		t.Fatalf("X-Object-Public %q", pub)
	}
	e.must(e.do("POST", "/{a}/c/p?update", map[string]string{"X-Object-Public": "TRUE"}, ""), 202)
	if again := e.must(e.do("HEAD", "/{a}/c/p", nil, ""), 200).h.Get("X-Object-Public"); again != pub {
		t.Errorf("re-publish changed the URL: %s → %s", pub, again)
	}
	top := refTop(refHashes([]byte(digits), 4))
	r := e.must(e.req("GET", pub, "", nil, nil), 200)
	if string(r.body) != digits || r.h.Get("ETag") != top || r.h.Get("Content-Type") != "text/plain" || r.h.Get("Content-Encoding") != "identity" {
		t.Errorf("public GET %s %v", r, r.h)
	}
	for k := range r.h {
		if strings.HasPrefix(k, "X-Object-") {
			t.Errorf("public reply has %s", k)
		}
	}
	e.walk([]step{
		{name: "HEAD", method: "HEAD", path: pub, tok: "-", code: 200, want: map[string]string{"Content-Length": "20", "ETag": top}},
		{name: "HEAD ignores preconditions", method: "HEAD", path: pub, tok: "-", hdr: map[string]string{"If-Match": "nope"}, code: 200},
		{name: "range", method: "GET", path: pub, tok: "-", hdr: map[string]string{"Range": "bytes=-2"}, code: 206, body0: ptr("ij"), want: map[string]string{"Content-Range": "bytes 18-19/20"}},
		{name: "range 416", method: "GET", path: pub, tok: "-", hdr: map[string]string{"Range": "bytes=0-99"}, code: 416},
		{name: "If-None-Match", method: "GET", path: pub, tok: "-", hdr: map[string]string{"If-None-Match": top}, code: 304},
		{name: "If-Match", method: "GET", path: pub, tok: "-", hdr: map[string]string{"If-Match": "nope"}, code: 412},
		{name: "unknown id", method: "GET", path: e.srv.URL + "/pithos/public/0000000000000000", tok: "-", code: 404},
		{name: "b never sees the URL", method: "POST", path: "/{a}/c/p?update", hdr: map[string]string{"X-Object-Sharing": "read={b}"}, code: 202},
		{name: "b HEAD", method: "HEAD", path: "/{a}/c/p", tok: "tokB", code: 200, want: map[string]string{"X-Object-Public": ""}},
		{name: "b cannot publish", method: "POST", path: "/{a}/c/p?update", tok: "tokB", hdr: map[string]string{"X-Object-Public": "false"}, code: 403},
		{name: "bad value", method: "POST", path: "/{a}/c/p?update", hdr: map[string]string{"X-Object-Public": "yes"}, code: 400, fault: "badRequest: Bad X-Object-Public header value"},
	})
	// Multiple ranges: multipart like §8.2.
	r = e.must(e.req("GET", pub, "", map[string]string{"Range": "bytes=0-0,19-19"}, nil), 206)
	if !strings.HasPrefix(r.h.Get("Content-Type"), "multipart/byteranges; boundary=") || !strings.Contains(string(r.body), "Content-Range: bytes 19-19/20\r\nContent-Transfer-Encoding: binary\r\n\r\nj\r\n") {
		t.Errorf("public multi-range %v %q", r.h, r.body)
	}
	e.must(e.do("POST", "/{a}/c/p?update", map[string]string{"X-Object-Public": ""}, ""), 202)
	e.must(e.req("GET", pub, "", nil, nil), 404)
	if e.must(e.do("HEAD", "/{a}/c/p", nil, ""), 200).h.Get("X-Object-Public") != "" {
		t.Errorf("unpublished object still has a URL")
	}
}
