package localcloud

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// §9 hash vectors end to end (pithos-hash-vectors.md), with block size 4:
// upload the content, compare X-Object-Hash, ETag and the hashmap.
func TestSpec9SmallBlockVectors(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	// On a fresh server H("") is not stored yet: a hashmap PUT lists it [Q].
	r := e.must(e.do("PUT", "/{a}/c/z?hashmap&format=json", map[string]string{"Content-Type": "application/octet-stream"}, hashmapJSON(4, []string{emptyHash})), 409)
	if string(r.body) != `["`+emptyHash+`"]` {
		t.Errorf("fresh server 409 %s", r.body)
	}
	vectors := []struct {
		id, content string
		hashes      []string
		top         string
	}{
		{"S1", "abcdefghij", []string{"88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589", "e5e088a0b66163a0a26a5e053d2a4496dc16ab6e0e3dd1adf2d16aa84a078c9d", "c9df9c3f2963b19b9b95f58c4d33b053fa9f8586dd6ee04126e52a868f882108"},
			"18374008371944fcd365918bfd1187d4edcaaad1ce8dc23e746347129b1f22d1"},
		{"S2", "abcdefghijklmnopqrst", []string{"88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589", "e5e088a0b66163a0a26a5e053d2a4496dc16ab6e0e3dd1adf2d16aa84a078c9d",
			"005c19658919186b85618c5870463eec8d9b8c1a9d00208a5352891ba5bbe086", "f1afc31479522d6cff1ed068f93998f05a8cd3b22f5c37d7f307084f62d1d270", "8399259a2c4fec3f1a52ac9c95238c5871943db9740e52ab272024e9f70d6c1d"},
			"15d49499ef201ecc244e0da4c7492666b309047fd6ff75dc0f2e64c6593e9465"},
		{"S3", "ab\x00\x00cd", []string{"fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603", "21e721c35a5823fdb452fa2f9f0a612c74fb952e06927489c6b27a43b817bed4"},
			"c5fdd166560d16ced70242cfaf2894e2bc666fe24fff13449c52299f63c749ce"},
		{"S4", "ab", []string{"fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"}, "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"},
		{"V1", "", []string{emptyHash}, emptyHash},
		{"V2", "a", []string{"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
		{"a+zeros", "a\x00\x00\x00", []string{"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
		{"zero block", "\x00\x00\x00\x00", []string{emptyHash}, emptyHash},
		{"zeros+1", "\x00\x00\x00\x00\x00", []string{emptyHash, emptyHash}, "2dba5dbc339e7316aea2683faf839c1b7b1ee2313db792112588118df066aa35"},
	}
	for _, v := range vectors {
		put := e.put("/{a}/c/"+v.id, v.content, nil)
		head := e.must(e.do("HEAD", "/{a}/c/"+v.id, nil, ""), 200)
		hm := e.hashmap("/{a}/c/" + v.id)
		if put.h.Get("ETag") != v.top || head.h.Get("ETag") != v.top || head.h.Get("X-Object-Hash") != v.top {
			t.Errorf("%s: PUT ETag %s, HEAD ETag %s, X-Object-Hash %s, want %s", v.id, put.h.Get("ETag"), head.h.Get("ETag"), head.h.Get("X-Object-Hash"), v.top)
		}
		if fmt.Sprint(hm.Hashes) != fmt.Sprint(v.hashes) || hm.Bytes != int64(len(v.content)) {
			t.Errorf("%s: hashmap %+v, want %v", v.id, hm, v.hashes)
		}
		if got := e.get("/{a}/c/" + v.id); got != v.content {
			t.Errorf("%s: data %q", v.id, got)
		}
		// And the same object created by hashmap PUT (all blocks now stored).
		e.must(e.do("PUT", "/{a}/c/"+v.id+".hm?hashmap&format=json", map[string]string{"Content-Type": "application/octet-stream"}, hashmapJSON(len(v.content), v.hashes)), 201)
		if got := e.get("/{a}/c/" + v.id + ".hm?format=json"); got != v.content {
			t.Errorf("%s by hashmap: data %q", v.id, got)
		}
	}
	// Once a zero block exists, the earlier hashmap PUT succeeds.
	e.must(e.do("PUT", "/{a}/c/z?hashmap&format=json", map[string]string{"Content-Type": "application/octet-stream"}, hashmapJSON(4, []string{emptyHash})), 201)
	if got := e.get("/{a}/c/z"); got != "\x00\x00\x00\x00" {
		t.Errorf("zero object %q", got)
	}
}

// §9 with the default 4 MiB block size: V4-V7.
func TestSpec9LargeBlockVectors(t *testing.T) {
	e := newEnv(t, 4<<20)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	const B = 4 << 20
	v6 := make([]byte, 10000000)
	for i := range v6 {
		v6[i] = byte(i % 251)
	}
	v7 := append(bytes.Repeat([]byte{1}, 2*B), 'b')
	v7 = append(v7, make([]byte, 999)...)
	for _, v := range []struct {
		id   string
		data []byte
		top  string
	}{
		{"V3", make([]byte, B), emptyHash},
		{"V4", append(make([]byte, B), 'a'), "ad83abb09da975a192cb6af596055a37dc786a28b490ecf027d482ab232e42bb"},
		{"V5", make([]byte, B+1), "2dba5dbc339e7316aea2683faf839c1b7b1ee2313db792112588118df066aa35"},
		{"V6", v6, "86a2ead1c05f5bb5163c96d4c43e4ada5805e89f3e55430f32904a208363191a"},
		{"V7", v7, "b9112fae8d61ed8828ae7592ba03e220769c226139d169ff3203f16ccf58d4dd"},
	} {
		r := e.must(e.req("PUT", "/{a}/c/"+v.id, userA.Token, map[string]string{"Content-Type": "application/octet-stream"}, bytes.NewReader(v.data)), 201)
		if r.h.Get("ETag") != v.top {
			t.Errorf("%s: ETag %s, want %s", v.id, r.h.Get("ETag"), v.top)
		}
		hm := e.hashmap("/{a}/c/" + v.id)
		if hm.BlockSize != B || fmt.Sprint(hm.Hashes) != fmt.Sprint(refHashes(v.data, B)) || refTop(hm.Hashes) != v.top {
			t.Errorf("%s: hashmap %v", v.id, hm.Hashes)
		}
		got := e.must(e.do("GET", "/{a}/c/"+v.id, nil, ""), 200).body
		if !bytes.Equal(got, v.data) {
			t.Errorf("%s: data differs (%d bytes)", v.id, len(got))
		}
	}
}

// §12 sharing: grammar, inheritance, access of other users.
func TestSpec12Sharing(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "data", nil)
	up := strings.ToUpper
	grammar := []struct{ send, reply string }{
		{"read={b}", "read={b}"},
		{"read=" + up(userB.UUID) + " , {b} ; write={c}", "read={b}; write={c}"},
		{"write={c};read={b}", "read={b}; write={c}"},
		{"read=*,{b}", "read=*"},
		{"read={b},{c};write={b}", "read={c}; write={b}"},
		{"read={b};write={b}", "write={b}"},
		{"read={a}:Team", "read={a}:team"},
		{"read={b},", "read={b}"},
	}
	for _, g := range grammar {
		e.must(e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Sharing": g.send}, ""), 202)
		if got := unquoteHeader(e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Sharing")); got != expand(g.reply) {
			t.Errorf("sharing %q → %q, want %q", g.send, got, expand(g.reply))
		}
	}
	for _, bad := range []string{"read=", "write=", "read={b};", "owner={b}", "read", "read=,"} {
		r := e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Sharing": bad}, "")
		checkFault(t, r, 400, "badRequest", "")
	}
	e.must(e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Sharing": ""}, ""), 202)
	if got := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Sharing"); got != "" {
		t.Errorf("cleared sharing %q", got)
	}

	// Access of a second user.
	e.mkdir("/{a}/c/dir", map[string]string{"Content-Type": "application/directory; charset=x", "X-Object-Sharing": "read={b}"})
	e.put("/{a}/c/dir/f", "inherited", nil)
	e.put("/{a}/c/dir/sub/g", "deep", nil)
	e.mkdir("/{a}/c/w", map[string]string{"Content-Type": "application/folder", "X-Object-Sharing": "write={b}"})
	e.put("/{a}/c/w/f", "writable", nil)
	e.put("/{a}/c/plain", "x", map[string]string{"Content-Type": "text/plain", "X-Object-Sharing": "read={b}"})
	e.put("/{a}/c/plain/under", "x", nil) // plain is not a directory: nothing inherited
	e.mkdir("/{a}/c/slash/", map[string]string{"Content-Type": "application/directory", "X-Object-Sharing": "read={c}"})
	e.put("/{a}/c/slash/f", "s", nil)
	e.walk([]step{
		{name: "b: unshared", method: "GET", path: "/{a}/c/o", tok: "tokB", code: 403, fault: "forbidden: "},
		{name: "b: unshared HEAD", method: "HEAD", path: "/{a}/c/o", tok: "tokB", code: 403},
		{name: "c: unshared", method: "GET", path: "/{a}/c/dir/f", tok: "tokC", code: 403},
		{name: "b: dir itself", method: "HEAD", path: "/{a}/c/dir", tok: "tokB", code: 200, want: map[string]string{"X-Object-Allowed-To": "read", "X-Object-Shared-By": "", "X-Object-Sharing": "read={b}"}},
		{name: "b: inherited", method: "GET", path: "/{a}/c/dir/f", tok: "tokB", code: 200, body0: ptr("inherited"),
			want: map[string]string{"X-Object-Shared-By": "{a}/c/dir", "X-Object-Allowed-To": "read", "X-Object-Sharing": "read={b}", "X-Object-Public": ""}},
		{name: "b: inherited deep", method: "GET", path: "/{a}/c/dir/sub/g", tok: "tokB", code: 200, want: map[string]string{"X-Object-Shared-By": "{a}/c/dir"}},
		{name: "owner sees Shared-By too", method: "HEAD", path: "/{a}/c/dir/f", code: 200, want: map[string]string{"X-Object-Shared-By": "{a}/c/dir", "X-Object-Allowed-To": ""}},
		{name: "b: not a directory", method: "GET", path: "/{a}/c/plain/under", tok: "tokB", code: 403},
		{name: "b: plain shared", method: "GET", path: "/{a}/c/plain", tok: "tokB", code: 200},
		{name: "c: dir marker with slash", method: "GET", path: "/{a}/c/slash/f", tok: "tokC", code: 200, want: map[string]string{"X-Object-Shared-By": "{a}/c/slash/"}},
		{name: "b: read-only PUT", method: "PUT", path: "/{a}/c/dir/new", tok: "tokB", hdr: map[string]string{"Content-Type": "a/b"}, body: "x", code: 403},
		{name: "b: read-only POST", method: "POST", path: "/{a}/c/dir/f?update", tok: "tokB", hdr: map[string]string{"X-Object-Meta-X": "1"}, code: 403},
		{name: "b: copy out of shared", method: "PUT", path: "/{b}/mine", tok: "tokB", code: 201},
		{name: "b: copy from a", method: "PUT", path: "/{b}/mine/copy", tok: "tokB", hdr: map[string]string{"X-Copy-From": "/c/dir/f", "X-Source-Account": "{a}"}, code: 201},
		{name: "b: copied", method: "GET", path: "/{b}/mine/copy", tok: "tokB", code: 200, body0: ptr("inherited")},
		{name: "b: cannot move a's object", method: "PUT", path: "/{b}/mine/mv", tok: "tokB", hdr: map[string]string{"X-Move-From": "/c/dir/f", "X-Source-Account": "{a}"}, code: 403},
		{name: "b: cannot copy unshared", method: "PUT", path: "/{b}/mine/x", tok: "tokB", hdr: map[string]string{"X-Copy-From": "/c/o", "X-Source-Account": "{a}"}, code: 403},
		// Write permission: PUT/POST yes, sharing/delete/move no.
		{name: "b: write PUT", method: "PUT", path: "/{a}/c/w/new", tok: "tokB", hdr: map[string]string{"Content-Type": "a/b"}, body: "by b", code: 201},
		{name: "modified by b", method: "HEAD", path: "/{a}/c/w/new", code: 200, want: map[string]string{"X-Object-Modified-By": "{b}", "X-Object-Shared-By": "{a}/c/w"}},
		{name: "b: write POST meta", method: "POST", path: "/{a}/c/w/f?update", tok: "tokB", hdr: map[string]string{"X-Object-Meta-X": "1"}, code: 202},
		{name: "b: write POST data", method: "POST", path: "/{a}/c/w/f?update", tok: "tokB", hdr: map[string]string{"Content-Type": "application/octet-stream", "Content-Range": "bytes */*"}, body: "!", code: 204},
		{name: "b: wrote", method: "GET", path: "/{a}/c/w/f", tok: "tokB", code: 200, body0: ptr("writable!"), want: map[string]string{"X-Object-Allowed-To": "write"}},
		{name: "b: COPY into w", method: "COPY", path: "/{a}/c/dir/f", tok: "tokB", hdr: map[string]string{"Destination": "/c/w/cp", "Destination-Account": "{a}"}, code: 201},
		{name: "b: cannot change sharing", method: "POST", path: "/{a}/c/w/f?update", tok: "tokB", hdr: map[string]string{"X-Object-Sharing": "read=*"}, code: 403, fault: "forbidden: Modifying other account's object permissions is not allowed"},
		{name: "b: cannot PUT sharing", method: "PUT", path: "/{a}/c/w/s", tok: "tokB", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Sharing": "read=*"}, body: "x", code: 403},
		{name: "b: cannot delete", method: "DELETE", path: "/{a}/c/w/f", tok: "tokB", code: 403},
		{name: "b: cannot MOVE", method: "MOVE", path: "/{a}/c/w/f", tok: "tokB", hdr: map[string]string{"Destination": "/c/w/g", "Destination-Account": "{a}"}, code: 403},
		{name: "b: write list/meta only on own", method: "POST", path: "/{a}/c?update", tok: "tokB", hdr: map[string]string{"X-Container-Meta-X": "1"}, code: 403},
	})
	// b's listing of a's container shows exactly the readable objects.
	got := strings.Join(names(e.list("/{a}/c?format=json", userB.Token)), " ")
	if got != "dir dir/f dir/sub/g plain w w/cp w/f w/new" {
		t.Errorf("b's listing %q", got)
	}
	// Groups: read=<owner>:<group>.
	e.must(e.do("POST", "/{a}?update", map[string]string{"X-Account-Group-Team": "{c}"}, ""), 202)
	e.must(e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Sharing": "read={a}:team"}, ""), 202)
	e.must(e.req("GET", "/{a}/c/o", "tokC", nil, nil), 200)
	e.must(e.req("GET", "/{a}/c/o", "tokB", nil, nil), 403)
	e.must(e.do("POST", "/{a}?update", map[string]string{"X-Account-Group-Team": "{b}"}, ""), 202)
	e.must(e.req("GET", "/{a}/c/o", "tokB", nil, nil), 200)
	e.must(e.req("GET", "/{a}/c/o", "tokC", nil, nil), 403)
	// Deleting clears sharing: a re-created object is private.
	e.must(e.do("DELETE", "/{a}/c/plain", nil, ""), 204)
	e.put("/{a}/c/plain", "again", nil)
	e.must(e.req("GET", "/{a}/c/plain", "tokB", nil, nil), 403)
}

// §13 versioning policies and restore.
func TestSpec13Versioning(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/auto", nil, ""), 201)
	e.must(e.do("PUT", "/{a}/none", map[string]string{"X-Container-Policy-Versioning": "none"}, ""), 201)
	vl := func(path string) string {
		return string(e.must(e.do("GET", path+"?version=list&format=json", nil, ""), 200).body)
	}
	a1 := e.put("/{a}/auto/o", "first", map[string]string{"X-Object-Meta-M": "1"}).h.Get("X-Object-Version")
	e.put("/{a}/auto/o", "second", nil)
	e.must(e.do("POST", "/{a}/auto/o?update", map[string]string{"X-Object-Meta-M": "2"}, ""), 202)
	if n := strings.Count(vl("/{a}/auto/o"), "["); n != 4 { // {"versions": [[..],[..],[..]]}
		t.Errorf("auto: versions %s", vl("/{a}/auto/o"))
	}
	n1 := e.put("/{a}/none/o", "first", nil).h.Get("X-Object-Version")
	e.put("/{a}/none/o", "second", nil)
	if n := strings.Count(vl("/{a}/none/o"), "["); n != 2 {
		t.Errorf("none: versions %s", vl("/{a}/none/o"))
	}
	e.must(e.do("GET", "/{a}/none/o?version="+n1, nil, ""), 404)
	// Restore: copy onto itself from an old version; UUID kept.
	uuid := e.must(e.do("HEAD", "/{a}/auto/o", nil, ""), 200).h.Get("X-Object-Uuid")
	e.must(e.do("PUT", "/{a}/auto/o", map[string]string{"X-Copy-From": "/auto/o", "X-Source-Version": a1}, ""), 201)
	h := e.must(e.do("GET", "/{a}/auto/o", nil, ""), 200)
	if string(h.body) != "first" || h.h.Get("X-Object-Uuid") != uuid || h.h.Get("X-Object-Meta-M") != "1" {
		t.Errorf("restored %q %v", h.body, h.h)
	}
	if n := strings.Count(vl("/{a}/auto/o"), "["); n != 5 {
		t.Errorf("after restore: versions %s", vl("/{a}/auto/o"))
	}
	// Deleted objects keep their history under auto, not under none.
	e.must(e.do("DELETE", "/{a}/auto/o", nil, ""), 204)
	if n := strings.Count(vl("/{a}/auto/o"), "["); n != 5 {
		t.Errorf("after delete: versions %s", vl("/{a}/auto/o"))
	}
	e.must(e.do("GET", "/{a}/auto/o?version="+a1, nil, ""), 200)
	e.must(e.do("DELETE", "/{a}/none/o", nil, ""), 204)
	e.must(e.do("GET", "/{a}/none/o?version=list&format=json", nil, ""), 404)
	// History is free: it does not count in bytes used.
	if got := e.must(e.do("HEAD", "/{a}/auto", nil, ""), 204).h.Get("X-Container-Bytes-Used"); got != "0" {
		t.Errorf("bytes used after delete %s", got)
	}
}

// §14 quota: container and account quota → 413 and nothing changed;
// reaching the quota exactly is allowed.
func TestSpec14Quota(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/q", map[string]string{"X-Container-Policy-Quota": "10"}, ""), 201)
	e.put("/{a}/q/a", "12345", nil)
	e.put("/{a}/q/b", "12345", nil) // exactly at quota
	r := e.do("PUT", "/{a}/q/c", map[string]string{"Content-Type": "a/b"}, "1")
	checkFault(t, r, 413, "requestEntityTooLarge", "Quota error: Container quota exceeded: limit: 10, usage: 11")
	e.walk([]step{
		{name: "not created", method: "HEAD", path: "/{a}/q/c", code: 404},
		{name: "grow b", method: "PUT", path: "/{a}/q/b", hdr: map[string]string{"Content-Type": "a/b"}, body: "123456", code: 413},
		{name: "b unchanged", method: "GET", path: "/{a}/q/b", code: 200, body0: ptr("12345")},
		{name: "append", method: "POST", path: "/{a}/q/b?update", hdr: map[string]string{"Content-Type": "application/octet-stream", "Content-Range": "bytes */*"}, body: "6", code: 413},
		{name: "b still unchanged", method: "GET", path: "/{a}/q/b", code: 200, body0: ptr("12345")},
		{name: "copy in", method: "PUT", path: "/{a}/q/cp", hdr: map[string]string{"X-Copy-From": "/q/a"}, code: 413},
		{name: "shrink is fine", method: "PUT", path: "/{a}/q/b", hdr: map[string]string{"Content-Type": "a/b"}, body: "1234", code: 201},
		{name: "hashmap PUT over quota", method: "PUT", path: "/{a}/q/h?hashmap", hdr: map[string]string{"Content-Type": "a/b"}, body: hashmapJSON(4, []string{refBlockHash([]byte("1234"))}), code: 413},
		{name: "usage", method: "HEAD", path: "/{a}/q", code: 204, want: map[string]string{"X-Container-Bytes-Used": "9", "X-Container-Object-Count": "2"}},
		{name: "raise quota", method: "POST", path: "/{a}/q?update", hdr: map[string]string{"X-Container-Policy-Quota": "0"}, code: 202},
		{name: "unlimited", method: "PUT", path: "/{a}/q/big", hdr: map[string]string{"Content-Type": "a/b"}, body: strings.Repeat("x", 100), code: 201},
		// Account quota (user d: 8 bytes).
		{name: "d container", method: "PUT", path: "/{d}/c", tok: "tokD", code: 201},
		{name: "d quota header", method: "HEAD", path: "/{d}", tok: "tokD", code: 204, want: map[string]string{"X-Account-Policy-Quota": "8"}},
		{name: "d 8 bytes", method: "PUT", path: "/{d}/c/a", tok: "tokD", hdr: map[string]string{"Content-Type": "a/b"}, body: "12345678", code: 201},
		{name: "d over", method: "PUT", path: "/{d}/c/b", tok: "tokD", hdr: map[string]string{"Content-Type": "a/b"}, body: "1", code: 413}, // body: TestQuotaStorageLimit,
		{name: "d second container over", method: "PUT", path: "/{d}/c2", tok: "tokD", code: 201},
		{name: "d over elsewhere", method: "PUT", path: "/{d}/c2/b", tok: "tokD", hdr: map[string]string{"Content-Type": "a/b"}, body: "1", code: 413},
		{name: "d used", method: "HEAD", path: "/{d}", tok: "tokD", code: 204, want: map[string]string{"X-Account-Bytes-Used": "8"}},
		{name: "d move within quota", method: "PUT", path: "/{d}/c2/a", tok: "tokD", hdr: map[string]string{"X-Move-From": "/c/a"}, code: 201},
	})
}
