package localcloud

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviours of Synnefo's own Pithos API test suite (snf-pithos-app
// pithos/api/test) that the local cloud once differed in; each test names the
// Synnefo test it follows.

// fakeClock is an injected clock: tests step it instead of sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newClockEnv is newEnv with a fake clock starting on a whole second.
func newClockEnv(t *testing.T) (*env, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	srv, err := Start(Config{Dir: t.TempDir(), BlockSize: 4, Users: []User{userA, userB, userC, userD}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, base: srv.ObjectStoreURL(), hc: testHTTPClient()}, clk
}

// testHTTPClient is newEnv's client, for tests that start their own server.
func testHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
	}
}

// objects.py test_get_partial and public.py test_public_get_partial: the
// suite's client percent-encodes every header value, and Synnefo decodes them
// all (util.py update_request_headers), so "bytes%3D0-499" is a range.
func TestFidelityHeadersPercentDecoded(t *testing.T) {
	e := newEnv(t, 64)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	data := strings.Repeat("0123456789abcdef", 32) // 512 bytes
	e.put("/{a}/c/o", data, map[string]string{"X-Object-Public": "true"})
	r := e.must(e.do("GET", "/{a}/c/o", map[string]string{"Range": "bytes%3D0-499"}, ""), 206)
	if string(r.body) != data[:500] || r.h.Get("Content-Range") != "bytes 0-499/512" {
		t.Errorf("ranged GET: %s %q", r, r.h.Get("Content-Range"))
	}
	r = e.must(e.do("GET", "/{a}/c/o", map[string]string{"Range": "bytes%3D-500"}, ""), 206)
	if string(r.body) != data[12:] {
		t.Errorf("suffix range: %s", r)
	}
	pub := unquoteHeader(e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Public"))
	r = e.must(e.req("GET", pub, "", map[string]string{"Range": "bytes%3D0-499"}, nil), 206)
	if string(r.body) != data[:500] {
		t.Errorf("public ranged GET: %s", r)
	}
	// A decoded value that is not UTF-8 is refused, on every service.
	for _, tc := range []struct{ method, path string }{{"GET", "/{a}/c/o"}, {"POST", "/{a}/c/o"}, {"HEAD", "/{a}/c"}} {
		r := e.do(tc.method, tc.path, map[string]string{"X-Object-Meta-A": "%FF%FE"}, "")
		if tc.method == "HEAD" {
			if r.code != 400 {
				t.Errorf("%s %s: %s", tc.method, tc.path, r)
			}
			continue
		}
		checkFault(t, r, 400, "badRequest", "Bad character in headers.")
	}
	checkFault(t, e.req("GET", pub, "", map[string]string{"Range": "%C3%28"}, nil), 400, "badRequest", "Bad character in headers.")
	// Valid UTF-8 decodes; a '%' without two hex digits stays as sent.
	e.must(e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Meta-A": "%CE%B1 100%", "Content-Type": ""}, ""), 202)
	if v := unquoteHeader(e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Meta-A")); v != "α 100%" {
		t.Errorf("meta %q", v)
	}
}

// accounts.py test_get_account_meta_until and AccountGet.test_list_until.
func TestFidelityAccountUntil(t *testing.T) {
	e, clk := newClockEnv(t)
	before := int64(0)
	for _, c := range []string{"apples", "bananas", "kiwis"} {
		e.must(e.do("PUT", "/{a}/"+c, nil, ""), 201)
		e.put("/{a}/"+c+"/o", "12345", nil)
		before += 5
	}
	e.must(e.do("POST", "/{a}?update", map[string]string{"X-Account-Meta-Foo": "bar"}, ""), 202)
	lm, _ := http.ParseTime(e.must(e.do("HEAD", "/{a}", nil, ""), 204).h.Get("Last-Modified"))
	until := lm.Add(time.Second).Unix()
	clk.Advance(2 * time.Second)
	for _, c := range []string{"oranges", "pears"} {
		e.must(e.do("PUT", "/{a}/"+c, nil, ""), 201)
		e.put("/{a}/"+c+"/o", "1234567", nil)
	}
	e.put("/{a}/apples/more", "xyz", nil)
	e.must(e.do("POST", "/{a}?update", map[string]string{"X-Account-Meta-Quality": "AAA"}, ""), 202)

	now := e.must(e.do("HEAD", "/{a}", nil, ""), 204)
	if now.h.Get("X-Account-Meta-Quality") == "" || now.h.Get("X-Account-Meta-Foo") == "" || now.h.Get("X-Account-Container-Count") != "5" {
		t.Fatalf("HEAD now: %v", now.h)
	}
	u := strconv.FormatInt(until, 10)
	r := e.must(e.do("HEAD", "/{a}?until="+u, nil, ""), 204)
	if r.h.Get("X-Account-Meta-Quality") != "" || r.h.Get("X-Account-Meta-Foo") != "bar" {
		t.Errorf("HEAD until: meta %v", r.h)
	}
	if r.h.Get("X-Account-Until-Timestamp") == "" || r.h.Get("X-Account-Container-Count") != "3" || r.h.Get("X-Account-Bytes-Used") != strconv.FormatInt(before, 10) {
		t.Errorf("HEAD until: %v", r.h)
	}
	if got := e.get("/{a}?until=" + u); got != "apples\nbananas\nkiwis\n" {
		t.Errorf("listing until: %q", got)
	}
	var rows []struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
		Bytes int64  `json:"bytes"`
	}
	if err := json.Unmarshal(e.must(e.do("GET", "/{a}?format=json&until="+u, nil, ""), 200).body, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Name != "apples" || rows[0].Count != 1 || rows[0].Bytes != 5 {
		t.Errorf("json listing until: %+v", rows)
	}
	// An invalid until is no until (test_get_account_meta_until_invalid_date).
	if r := e.must(e.do("HEAD", "/{a}?until=-1", nil, ""), 204); r.h.Get("X-Account-Meta-Quality") == "" {
		t.Errorf("until=-1: %v", r.h)
	}
}

// containers.py test_get_container_meta_until.
func TestFidelityContainerUntil(t *testing.T) {
	e, clk := newClockEnv(t)
	e.must(e.do("PUT", "/{a}/apples", nil, ""), 201)
	e.put("/{a}/apples/o1", "12345", map[string]string{"X-Object-Meta-Foo1": "bar"})
	e.put("/{a}/apples/o2", "123", map[string]string{"X-Object-Meta-Foo2": "bar"})
	e.must(e.do("POST", "/{a}/apples?update", map[string]string{"X-Container-Meta-Foo": "bar"}, ""), 202)
	lm, _ := http.ParseTime(e.must(e.do("HEAD", "/{a}/apples", nil, ""), 204).h.Get("Last-Modified"))
	u := strconv.FormatInt(lm.Add(time.Second).Unix(), 10)
	clk.Advance(2 * time.Second)
	e.put("/{a}/apples/o3", "1234567", map[string]string{"X-Object-Meta-Later": "x"})
	e.must(e.do("DELETE", "/{a}/apples/o1", nil, ""), 204)
	e.must(e.do("POST", "/{a}/apples?update", map[string]string{"X-Container-Meta-Quality": "AAA"}, ""), 202)
	e.must(e.do("PUT", "/{a}/later", nil, ""), 201)

	r := e.must(e.do("HEAD", "/{a}/apples?until="+u, nil, ""), 204)
	want := map[string]string{"X-Container-Meta-Quality": "", "X-Container-Meta-Foo": "bar", "X-Container-Object-Count": "2",
		"X-Container-Bytes-Used": "8", "X-Container-Object-Meta": "Foo1,Foo2"}
	for k, v := range want {
		if r.h.Get(k) != v {
			t.Errorf("HEAD until %s = %q, want %q", k, r.h.Get(k), v)
		}
	}
	if r.h.Get("X-Container-Until-Timestamp") == "" {
		t.Errorf("no X-Container-Until-Timestamp: %v", r.h)
	}
	if got := e.get("/{a}/apples?until=" + u); got != "o1\no2\n" {
		t.Errorf("listing until: %q", got)
	}
	// A container created after until did not exist then.
	checkFault(t, e.do("HEAD", "/{a}/later?until="+u, nil, ""), 404, "", "")
}

// containers.py test_if_modified_since: a container metadata update is a
// modification.
func TestFidelityContainerMetaUpdateModifies(t *testing.T) {
	e, clk := newClockEnv(t)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "x", nil)
	lm := e.must(e.do("HEAD", "/{a}/c", nil, ""), 204).h.Get("Last-Modified")
	e.must(e.do("GET", "/{a}/c", map[string]string{"If-Modified-Since": lm}, ""), 304)
	clk.Advance(2 * time.Second)
	e.must(e.do("POST", "/{a}/c?update", map[string]string{"X-Container-Meta-Foo": "bar"}, ""), 202)
	if r := e.must(e.do("GET", "/{a}/c", map[string]string{"If-Modified-Since": lm}, ""), 200); string(r.body) != "o\n" {
		t.Errorf("after meta update: %s", r)
	}
	// A block upload with ?update changes nothing.
	lm2 := e.must(e.do("HEAD", "/{a}/c", nil, ""), 204).h.Get("Last-Modified")
	clk.Advance(2 * time.Second)
	e.must(e.do("POST", "/{a}/c?update", map[string]string{"Content-Type": "application/octet-stream"}, "abcd"), 202)
	e.must(e.do("GET", "/{a}/c", map[string]string{"If-Modified-Since": lm2}, ""), 304)
}

// public.py _assert_public_object and test_public_manifest.
func TestFidelityPublicDispositionAndManifest(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "hello", map[string]string{"X-Object-Public": "true", "Content-Disposition": `extension-token; filename="o"`})
	pub := unquoteHeader(e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Public"))
	for q, want := range map[string]string{"": `extension-token; filename="o"`, "?disposition-type=attachment": `attachment; filename="o"`,
		"?disposition-type=inline": `inline; filename="o"`, "?disposition-type=bogus": `extension-token; filename="o"`} {
		r := e.must(e.req("GET", pub+q, "", nil, nil), 200)
		if got := unquoteHeader(r.h.Get("Content-Disposition")); got != want || string(r.body) != "hello" {
			t.Errorf("public GET%s: Content-Disposition %q, want %q (%s)", q, got, want, r)
		}
	}
	var data string
	for i, part := range []string{"first-", "second-", "third"} {
		e.put("/{a}/c/myobject/"+strconv.Itoa(i), part, nil)
		data += part
	}
	e.put("/{a}/c/m", "", map[string]string{"X-Object-Manifest": "c/myobject/", "X-Object-Public": "true"})
	pub = unquoteHeader(e.must(e.do("HEAD", "/{a}/c/m", nil, ""), 200).h.Get("X-Object-Public"))
	r := e.must(e.req("GET", pub, "", nil, nil), 200)
	if string(r.body) != data || r.h.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Errorf("public manifest GET: %s, Content-Length %q", r, r.h.Get("Content-Length"))
	}
	if r := e.must(e.req("HEAD", pub, "", nil, nil), 200); r.h.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Errorf("public manifest HEAD Content-Length %q", r.h.Get("Content-Length"))
	}
}

// accounts.py test_set_account_groups (header names) and
// test_set_account_groups_limit_exceed; sharing holders share the limit.
func TestFidelityGroupsFormatAndLimits(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("POST", "/{a}?update", map[string]string{"X-Account-Group-pithosdev": "{b},{c}"}, ""), 202)
	r := e.must(e.do("HEAD", "/{a}", nil, ""), 204)
	if _, ok := r.h["X-Account-Group-Pithosdev"]; !ok || r.h.Get("X-Account-Group-Pithosdev") != expand("{b},{c}") {
		t.Errorf("group header: %v", r.h)
	}
	long := strings.Repeat("a", 257)
	checkFault(t, e.do("POST", "/{a}?update", map[string]string{"X-Account-Group-" + long: "{b}"}, ""), 400, "badRequest", "")
	checkFault(t, e.do("POST", "/{a}?update", map[string]string{"X-Account-Group-Pithosdev": long}, ""), 400, "badRequest", "")
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "x", nil)
	checkFault(t, e.do("POST", "/{a}/c/o", map[string]string{"X-Object-Sharing": "read=" + long, "Content-Type": ""}, ""), 400, "badRequest", "")
	if r := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200); r.h.Get("X-Object-Sharing") != "" {
		t.Errorf("refused sharing was stored: %v", r.h)
	}
}

// containers.py test_list_shared_public: both flags list the union.
func TestFidelitySharedPublicUnion(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	for _, n := range []string{"p1", "p2", "plain", "s1", "s2"} {
		e.put("/{a}/c/"+n, n, nil)
	}
	if rows := e.list("/{a}/c?shared&public&format=json", userA.Token); len(rows) != 0 {
		t.Fatalf("nothing shared or public: %v", names(rows))
	}
	for _, n := range []string{"p1", "p2"} {
		e.must(e.do("POST", "/{a}/c/"+n, map[string]string{"X-Object-Public": "true", "Content-Type": ""}, ""), 202)
	}
	for _, n := range []string{"s1", "s2"} {
		e.must(e.do("POST", "/{a}/c/"+n, map[string]string{"X-Object-Sharing": "read={b}", "Content-Type": ""}, ""), 202)
	}
	rows := e.list("/{a}/c?shared&public&format=json", userA.Token)
	if got := strings.Join(names(rows), ","); got != "p1,p2,s1,s2" {
		t.Errorf("shared&public: %s", got)
	}
	for _, r := range rows {
		if r.Sharing == "" && r.Public == "" {
			t.Errorf("row %s has neither sharing nor public", r.Name)
		}
	}
	if got := strings.Join(names(e.list("/{a}/c?public&format=json", userA.Token)), ","); got != "p1,p2" {
		t.Errorf("public: %s", got)
	}
	if got := strings.Join(names(e.list("/{a}/c?shared&format=json", userA.Token)), ","); got != "s1,s2" {
		t.Errorf("shared: %s", got)
	}
	checkFault(t, e.req("GET", "/{a}/c?shared&public&format=json", userB.Token, nil, nil), 403, "forbidden", "")
}

// Synnefo's objects.xml renders a roll-up as <subdir name="…" />.
func TestFidelityXMLSubdir(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/d/x", "1", nil)
	e.put("/{a}/c/top", "2", nil)
	body := string(e.must(e.do("GET", "/{a}/c?format=xml&delimiter=/", nil, ""), 200).body)
	if !strings.Contains(body, `<subdir name="d/" />`) || strings.Contains(body, "<name>d/</name>") || !strings.Contains(body, "<name>top</name>") {
		t.Errorf("xml listing: %s", body)
	}
}

// listing.py test_list_shared (the reader's view): a folder shared with the
// reader shows its permissions in the listing.
func TestFidelityReaderSeesSharing(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c0", nil, ""), 201)
	e.mkdir("/{a}/c0/f1", map[string]string{"Content-Type": "application/directory", "X-Object-Sharing": "read=*"})
	e.mkdir("/{a}/c0/f1/f2", map[string]string{"Content-Type": "application/directory", "X-Object-Sharing": "write=*"})
	e.put("/{a}/c0/f1/f2/o", "x", nil)
	rows := e.list("/{a}/c0?delimiter=/&shared&format=json", userB.Token)
	if got := strings.Join(names(rows), ","); got != "f1,subdir:f1/" {
		t.Fatalf("reader listing: %s", got)
	}
	if rows[0].Sharing != "read=*" {
		t.Errorf("f1 x_object_sharing %q", rows[0].Sharing)
	}
	rows = e.list("/{a}/c0?delimiter=/&prefix=f1&shared&format=json", userB.Token)
	if got := strings.Join(names(rows), ","); got != "f1/f2,subdir:f1/f2/" || rows[0].Sharing != "write=*" {
		t.Errorf("reader listing under f1: %s %+v", got, rows)
	}
}

// objects.py test_create_object_by_hashmap: GET ?hashmap&format=xml is
// Synnefo's hashes.xml, which a hashmap PUT does not take (400).
func TestFidelityHashmapXML(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "0123456789", nil)
	r := e.must(e.do("GET", "/{a}/c/o?hashmap&format=xml", nil, ""), 200)
	hs := refHashes([]byte("0123456789"), 4)
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<object name="o" bytes="10" block_size="4" block_hash="sha256">` +
		"<hash>" + hs[0] + "</hash><hash>" + hs[1] + "</hash><hash>" + hs[2] + "</hash></object>"
	if string(r.body) != want || !strings.HasPrefix(r.h.Get("Content-Type"), "application/xml") {
		t.Errorf("xml hashmap %q (%s)\nwant %q", r.body, r.h.Get("Content-Type"), want)
	}
	checkFault(t, e.do("PUT", "/{a}/c/o2?hashmap&format=xml", map[string]string{"Content-Type": "application/octet-stream"}, string(r.body)), 400, "", "")
}

// permissions.py test_read_directory: a move onto itself changes the type.
func TestFidelityMoveOntoItselfType(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "", nil)
	for _, ct := range []string{"application/directory", "application/folder"} {
		e.must(e.do("PUT", "/{a}/c/o", map[string]string{"X-Move-From": "/c/o", "Content-Type": ct}, ""), 201)
		if got := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("Content-Type"); got != ct {
			t.Errorf("after move onto itself: Content-Type %q, want %q", got, ct)
		}
	}
}

// permissions.py test_not_allowed: permission is checked before the request's
// other faults; top_level.py test_authenticate: no token is a 400.
func TestFidelityNotAllowedAndTopLevelAuth(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "x", nil)
	for _, m := range []string{"POST", "PUT", "DELETE", "HEAD", "GET"} {
		r := e.req(m, "/{a}/c/o", userB.Token, map[string]string{"Content-Type": "application/octet-stream"}, strings.NewReader("data"))
		if r.code != 403 {
			t.Errorf("%s by another user: %s", m, r)
		}
	}
	checkFault(t, e.req("GET", "/", "", nil, nil), 400, "badRequest", "")
	checkFault(t, e.req("GET", "/", "", map[string]string{"X-Auth-User": "{a}"}, nil), 400, "badRequest", "")
	if r := e.must(e.req("GET", "/", "", map[string]string{"X-Auth-User": "{a}", "X-Auth-Key": "tokA"}, nil), 204); r.h.Get("X-Auth-Token") != "tokA" {
		t.Errorf("legacy auth: %v", r.h)
	}
}

// modular.py _can_read_object: a public object is readable by every user
// through the authenticated API, not only by its public URL.
func TestFidelityPublicReadableByOthers(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/pub", "for all", map[string]string{"X-Object-Public": "true"})
	e.put("/{a}/c/priv", "mine", nil)
	if r := e.must(e.req("GET", "/{a}/c/pub", userB.Token, nil, nil), 200); string(r.body) != "for all" {
		t.Errorf("public object by another user: %s", r)
	}
	e.must(e.req("PUT", "/{b}/c", userB.Token, nil, nil), 201)
	e.must(e.req("PUT", "/{b}/c/copy", userB.Token, map[string]string{"X-Copy-From": "/c/pub", "X-Source-Account": "{a}", "Content-Type": "text/plain"}, strings.NewReader("")), 201)
	checkFault(t, e.req("GET", "/{a}/c/priv", userB.Token, nil, nil), 403, "forbidden", "")
	checkFault(t, e.req("DELETE", "/{a}/c/pub", userB.Token, nil, nil), 403, "forbidden", "")
}

// Pithos proxies Astakos under its base URL: {PITHOS}/_astakos/identity and
// {PITHOS}/_astakos/account (pithos-api spec, astakos-api §5).
func TestFidelityAstakosProxy(t *testing.T) {
	e := newEnv(t, 4)
	base := e.srv.URL + "/pithos/_astakos"
	r := e.must(e.req("POST", base+"/identity/v2.0/tokens", "", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(`{"auth": {"token": {"id": "tokA"}}}`)), 200)
	if !strings.Contains(string(r.body), userA.UUID) {
		t.Errorf("tokens via proxy: %s", r)
	}
	r = e.must(e.req("POST", base+"/account/v1.0/user_catalogs", userA.Token, map[string]string{"Content-Type": "application/json"},
		strings.NewReader(`{"uuids": ["`+userB.UUID+`"]}`)), 200)
	if !strings.Contains(string(r.body), userB.Name) {
		t.Errorf("user_catalogs via proxy: %s", r)
	}
	e.must(e.req("GET", base+"/account/v1.0/resources", "", nil, nil), 200)
	e.must(e.req("GET", base+"/other", "", nil, nil), 404)
}

// Concurrent data POSTs to one object take turns, as in Synnefo: none gets
// a 409, and every append lands.
func TestFidelityConcurrentDataPOSTs(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/log", "start:", nil)
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.req("POST", "/{a}/c/log", userA.Token, map[string]string{"Content-Range": "bytes */*", "Content-Type": "application/octet-stream"},
				strings.NewReader(string(rune('a'+i))))
			codes[i] = r.code
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 204 {
			t.Errorf("append %d: status %d", i, c)
		}
	}
	if got := e.get("/{a}/c/log"); len(got) != len("start:")+16 {
		t.Errorf("after 16 appends: %q", got)
	}
}
