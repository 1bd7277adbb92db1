package localcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// §1 URL layout: routing, 400 for unknown endpoints, 405 with Allow, names
// kept verbatim.
func TestSpec1Routing(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	notFound := "badRequest: API endpoint not found"
	e.walk([]step{
		{name: "v1 without slash", method: "GET", path: e.srv.URL + "/pithos/object-store/v1", code: 400, fault: notFound},
		{name: "unknown version", method: "GET", path: e.srv.URL + "/pithos/object-store/v2/x", code: 400, fault: notFound},
		{name: "top PUT", method: "PUT", path: "/", code: 405, fault: "notAllowed: Method not allowed", want: map[string]string{"Allow": "GET"}},
		{name: "account DELETE", method: "DELETE", path: "/{a}", code: 405, want: map[string]string{"Allow": "HEAD,GET,POST"}},
		{name: "account PUT with slash", method: "PUT", path: "/{a}/", code: 405, want: map[string]string{"Allow": "HEAD,GET,POST"}},
		{name: "container PATCH", method: "PATCH", path: "/{a}/c", code: 405, want: map[string]string{"Allow": "HEAD,GET,PUT,POST,DELETE"}},
		{name: "container COPY", method: "COPY", path: "/{a}/c/", code: 405, want: map[string]string{"Allow": "HEAD,GET,PUT,POST,DELETE"}},
		{name: "object PATCH", method: "PATCH", path: "/{a}/c/o", code: 405, want: map[string]string{"Allow": "HEAD,GET,PUT,COPY,MOVE,POST,DELETE"}},
		{name: "public POST", method: "POST", path: e.srv.URL + "/pithos/public/abc", code: 405, want: map[string]string{"Allow": "HEAD,GET"}},
		{name: "container with trailing slash", method: "HEAD", path: "/{a}/c/", code: 204},
		{name: "%2F is /", method: "PUT", path: "/{a}/c/x%2Fy", hdr: map[string]string{"Content-Type": "text/plain"}, body: "xy", code: 201},
		{name: "read back as x/y", method: "GET", path: "/{a}/c/x/y", code: 200, body0: ptr("xy")},
	})
	// Object names are everything after the container, verbatim.
	for _, name := range []string{"dir/", "/lead", "a//b", "a/./b", "a/../b", "sp ace", "x.xml"} {
		esc := strings.ReplaceAll(strings.ReplaceAll(name, " ", "%20"), ".xml", ".xml")
		e.put("/{a}/c/"+esc, "n:"+name, nil)
		if got := e.get("/{a}/c/" + esc + "?format=json"); got != "n:"+name {
			t.Errorf("GET %q = %q", name, got)
		}
	}
	var got []string
	for _, r := range e.list("/{a}/c?format=json", userA.Token) {
		got = append(got, r.Name)
	}
	want := []string{"/lead", "a/../b", "a/./b", "a//b", "dir/", "sp ace", "x.xml", "x/y"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("names %q, want %q", got, want)
	}
}

// §2 authentication.
func TestSpec2Auth(t *testing.T) {
	e := newEnv(t, 4)
	noTok := "unauthorized: Access denied. No authentication token"
	e.walk([]step{
		{name: "no token", method: "GET", path: "/{a}", tok: "-", code: 401, fault: noTok},
		{name: "no token object", method: "GET", path: "/{a}/c/o", tok: "-", code: 401, fault: noTok},
		{name: "bad token", method: "GET", path: "/{a}", tok: "nope", code: 401, fault: "fault: "},
		{name: "query token", method: "HEAD", path: "/{a}?X-Auth-Token=tokA", tok: "-", code: 204},
		{name: "query token first (bad query)", method: "HEAD", path: "/{a}?X-Auth-Token=nope", code: 401},
		{name: "query token first (bad header)", method: "HEAD", path: "/{a}?X-Auth-Token=tokA", tok: "nope", code: 204},
		{name: "own account auto-created", method: "HEAD", path: "/{c}", tok: "tokC", code: 204, want: map[string]string{"X-Account-Container-Count": "0", "X-Account-Bytes-Used": "0"}},
		{name: "legacy auth", method: "GET", path: "/", tok: "-", hdr: map[string]string{"X-Auth-User": "bob", "X-Auth-Key": "k3y"}, code: 204,
			want: map[string]string{"X-Auth-Token": "k3y", "X-Storage-Url": e.base + "/bob"}},
		{name: "legacy auth without key", method: "GET", path: "/", tok: "-", hdr: map[string]string{"X-Auth-User": "bob"}, code: 400},
	})
}

// Identity (astakos-api.md §2, §3).
func TestIdentity(t *testing.T) {
	e := newEnv(t, 4)
	id := e.srv.IdentityURL() + "/tokens"
	post := func(body, ct string) *resp {
		h := map[string]string{}
		if ct != "" {
			h["Content-Type"] = ct
		}
		return e.req("POST", id, "", h, strings.NewReader(body))
	}
	r := e.must(post(`{"auth":{"token":{"id":"tokB"}}}`, "application/json"), 200)
	var doc struct {
		Access struct {
			Token struct {
				ID     string              `json:"id"`
				Tenant struct{ ID string } `json:"tenant"`
			} `json:"token"`
			User struct {
				ID    string `json:"id"`
				Name  string `json:"name"`
				Roles []struct {
					ID string `json:"id"`
				} `json:"roles"`
				Projects []string `json:"projects"`
			} `json:"user"`
			Catalog []struct {
				Name      string `json:"name"`
				Type      string `json:"type"`
				Endpoints []map[string]string
			} `json:"serviceCatalog"`
		} `json:"access"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Access
	if a.Token.ID != "tokB" || a.User.ID != userB.UUID || a.User.Name != userB.Name || a.Token.Tenant.ID != userB.UUID || len(a.User.Roles) != 1 || a.User.Roles[0].ID != "1" {
		t.Errorf("access %+v", a)
	}
	types := map[string]map[string]string{}
	for _, s := range a.Catalog {
		if len(s.Endpoints) != 1 {
			t.Fatalf("service %s has %d endpoints", s.Name, len(s.Endpoints))
		}
		types[s.Type] = s.Endpoints[0]
		if s.Endpoints[0]["region"] != "default" || s.Endpoints[0]["SNF:uiURL"] == "" {
			t.Errorf("endpoint %v", s.Endpoints[0])
		}
	}
	for typ, url := range map[string]string{"identity": e.srv.IdentityURL(), "object-store": e.base, "account": e.srv.URL + "/astakos/account/v1.0",
		"compute": e.srv.URL + "/cyclades/compute/v2.0", "network": e.srv.URL + "/cyclades/network", "image": e.srv.URL + "/cyclades/image", "volume": e.srv.URL + "/cyclades/volume"} {
		if types[typ]["publicURL"] != url {
			t.Errorf("%s publicURL %q, want %q", typ, types[typ]["publicURL"], url)
		}
	}
	if types["account"]["versionId"] != "v1.0" {
		t.Errorf("astakos_account versionId %q", types["account"]["versionId"])
	}
	// Form B, public mode, faults.
	e.must(post(fmt.Sprintf(`{"auth":{"passwordCredentials":{"username":%q,"password":"tokA"}}}`, userA.UUID), "application/json"), 200)
	checkFault(t, post(`{"auth":{"passwordCredentials":{"username":"x","password":"tokA"}}}`, "application/json"), 401, "unauthorized", "Invalid credentials")
	checkFault(t, post(`{"auth":{"token":{"id":"bad"}}}`, "application/json"), 401, "unauthorized", "Invalid token")
	checkFault(t, post(`{"auth":{}}`, "application/json"), 400, "badRequest", "Malformed request: missing credentials")
	checkFault(t, post(`{`, "application/json"), 400, "badRequest", "Could not decode request body as JSON")
	checkFault(t, post(`{}`, "text/plain"), 400, "badRequest", "Unsupported Content-type: 'text/plain'")
	pub := e.must(e.req("POST", id, "", nil, nil), 200)
	if !strings.Contains(string(pub.body), `"serviceCatalog"`) || strings.Contains(string(pub.body), `"token"`) {
		t.Errorf("public mode body %s", pub.body)
	}
	// User catalogs.
	cat := e.srv.URL + "/astakos/account/v1.0/user_catalogs"
	r = e.must(e.req("POST", cat, "tokA", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(fmt.Sprintf(`{"uuids":[%q,"nobody"],"displaynames":["BOB@example.org"]}`, userB.UUID))), 200)
	want := fmt.Sprintf(`{"displayname_catalog":{"BOB@example.org":%q},"uuid_catalog":{%q:%q}}`, userB.UUID, userB.UUID, userB.Name)
	if string(r.body) != want {
		t.Errorf("user_catalogs %s, want %s", r.body, want)
	}
	checkFault(t, e.req("POST", cat, "", nil, strings.NewReader(`{}`)), 401, "unauthorized", "Access denied. No authentication token")
	checkFault(t, e.req("POST", cat, "bad", nil, strings.NewReader(`{}`)), 401, "unauthorized", "Invalid X-Auth-Token")
}

// §3 wire conventions: header decoding, '~', key normalisation, reply
// encoding, format selection, error bodies.
func TestSpec3Headers(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/o", "data", map[string]string{
		"Content-Type":          "image/svg+xml",
		"X-Object-Meta-foo_BAR": "caf%C3%A9~ x",
		"X-Object-Meta-Pct":     "100%25",
		"X-Object-Meta-%C3%A9T": "v",
		"X-Object-Meta-Odd":     "a(b)!*'&+~c",
		"Content-Disposition":   "attachment; filename=\"x y\"",
	})
	r := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200)
	for k, want := range map[string]string{
		"Content-Type":          "image/svg%2Bxml",
		"X-Object-Meta-Foo-Bar": "caf%C3%A9 x",
		"X-Object-Meta-Pct":     "100%25",
		"X-Object-Meta-Odd":     "a%28b%29%21%2A%27%26%2Bc",
		"Content-Disposition":   `attachment; filename="x y"`,
	} {
		if got := r.h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	found := false
	for k, v := range r.h {
		if suffix, ok := strings.CutPrefix(k, "X-Object-Meta-"); ok && unquoteHeader(suffix) == "ét" {
			found = v[0] == "v"
		}
	}
	if !found {
		t.Errorf("non-ASCII meta key not returned percent-encoded as É/ét: %v", r.h)
	}
	// Keys are case-insensitive: an update with another spelling replaces.
	e.must(e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Meta-FOO-bar": "new"}, ""), 202)
	r = e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200)
	if got := r.h.Values("X-Object-Meta-Foo-Bar"); len(got) != 1 || got[0] != "new" {
		t.Errorf("after update Foo-Bar = %q", got)
	}
	// '~' removed from X-Object-Sharing.
	e.must(e.do("POST", "/{a}/c/o?update", map[string]string{"X-Object-Sharing": "read=~{b}~"}, ""), 202)
	if got := e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Sharing"); got != expand("read={b}") {
		t.Errorf("sharing %q", got)
	}
	// Raw non-ASCII in a header is refused.
	r = e.raw("HEAD /pithos/object-store/v1/{a}/c/o HTTP/1.1\nHost: x\nX-Auth-Token: tokA\nX-Object-Meta-A: caf\xc3\xa9\nConnection: close\n\n")
	if r.code != 400 {
		t.Errorf("raw non-ASCII header: %d", r.code)
	}
	// Non-ASCII content type (percent-encoded) is refused.
	checkFault(t, e.do("PUT", "/{a}/c/t", map[string]string{"Content-Type": "text/caf%C3%A9"}, "x"), 400, "badRequest", "")

	// Serialization (§3.2): errors JSON by default, XML when asked or when the
	// path ends in .xml.
	checkFault(t, e.do("GET", "/{a}/c/missing", nil, ""), 404, "itemNotFound", "Object does not exist")
	for _, p := range []string{"/{a}/c/missing?format=xml", "/{a}/c/missing.xml"} {
		r = e.must(e.do("GET", p, nil, ""), 404)
		if ct := r.h.Get("Content-Type"); ct != "application/xml; charset=UTF-8" || !strings.Contains(string(r.body), `<itemNotFound code="404"><message>Object does not exist</message>`) {
			t.Errorf("%s: XML fault %q %q", p, ct, r.body)
		}
	}
	r = e.must(e.do("GET", "/{a}/c/missing.xml?format=json", nil, ""), 404)
	checkFault(t, r, 404, "itemNotFound", "Object does not exist")
	r = e.must(e.req("GET", "/{a}/c", "tokA", map[string]string{"Accept": "application/json"}, nil), 200)
	if r.h.Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Errorf("Accept json listing: %q", r.h.Get("Content-Type"))
	}
	// Common reply headers (§3.4).
	r = e.must(e.do("GET", "/{a}/c", nil, ""), 200)
	if r.h.Get("Cache-Control") != "no-cache, no-store, must-revalidate, max-age=0" || r.h.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Errorf("listing headers %v", r.h)
	}
	// Dates: RFC 1123 in headers.
	if _, err := http.ParseTime(r.h.Get("Last-Modified")); err != nil || !strings.HasSuffix(r.h.Get("Last-Modified"), " GMT") {
		t.Errorf("Last-Modified %q", r.h.Get("Last-Modified"))
	}
	// Query flags are presence-only (§3.1).
	for _, q := range []string{"update", "update=", "update=True", "update=0"} {
		e.must(e.do("POST", "/{a}/c/o?"+q, map[string]string{"X-Object-Meta-Q": q}, ""), 202)
		if e.must(e.do("HEAD", "/{a}/c/o", nil, ""), 200).h.Get("X-Object-Meta-Foo-Bar") != "new" {
			t.Errorf("?%s did not merge", q)
		}
	}
}

// §4 limits.
func TestSpec4Limits(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	meta := func(n int, prefix string) map[string]string {
		h := map[string]string{"Content-Type": "text/plain"}
		for i := 0; i < n; i++ {
			h[fmt.Sprintf("%s%02d", prefix, i)] = "v"
		}
		return h
	}
	e.walk([]step{
		{name: "container 256", method: "PUT", path: "/{a}/" + strings.Repeat("c", 256), code: 201},
		{name: "container 257", method: "PUT", path: "/{a}/" + strings.Repeat("c", 257), code: 400, fault: "badRequest: Container name too large"},
		{name: "object 1024", method: "PUT", path: "/{a}/c/" + strings.Repeat("o", 1024), hdr: map[string]string{"Content-Type": "a/b"}, code: 201},
		{name: "object 1025", method: "PUT", path: "/{a}/c/" + strings.Repeat("o", 1025), hdr: map[string]string{"Content-Type": "a/b"}, code: 400, fault: "badRequest: Object name too large."},
		{name: "32 meta", method: "PUT", path: "/{a}/c/m32", hdr: meta(32, "X-Object-Meta-K"), code: 201},
		{name: "33 meta", method: "PUT", path: "/{a}/c/m33", hdr: meta(33, "X-Object-Meta-K"), code: 400, fault: "badRequest: Pithos+ resources cannot have more than 32 metadata items per domain"},
		{name: "33 after merge", method: "POST", path: "/{a}/c/m32?update", hdr: map[string]string{"X-Object-Meta-Extra": "x"}, code: 400, fault: "badRequest: Pithos+ resources cannot have more than 32 metadata items per domain"},
		{name: "m33 absent", method: "HEAD", path: "/{a}/c/m33", code: 404},
		{name: "91 headers", method: "PUT", path: "/{a}/c/m91", hdr: meta(91, "X-Object-Meta-K"), code: 400, fault: "badRequest: Too many headers."},
		{name: "value 257", method: "PUT", path: "/{a}/c/v", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Meta-V": strings.Repeat("v", 257)}, code: 400, fault: "badRequest: Header value too large."},
		{name: "value 256", method: "PUT", path: "/{a}/c/v", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Meta-V": strings.Repeat("v", 256)}, code: 201},
		{name: "name 129", method: "PUT", path: "/{a}/c/n", hdr: map[string]string{"Content-Type": "a/b", "X-Object-Meta-" + strings.Repeat("N", 115): "v"}, code: 400, fault: "badRequest: Header name too large."},
		{name: "container 33 meta", method: "POST", path: "/{a}/c", hdr: meta(33, "X-Container-Meta-K"), code: 400, fault: "badRequest: Pithos+ resources cannot have more than 32 metadata items per domain"},
		{name: "account 33 meta", method: "POST", path: "/{a}", hdr: meta(33, "X-Account-Meta-K"), code: 400, fault: "badRequest: Pithos+ resources cannot have more than 32 metadata items per domain"},
	})
}
