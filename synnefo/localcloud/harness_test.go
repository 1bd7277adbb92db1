package localcloud

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The conformance tests speak the wire protocol with plain net/http (no
// client package), against a real listening server.

var (
	userA = User{Name: "alice@example.org", UUID: "a0000000-0000-4000-8000-00000000000a", Token: "tokA"}
	userB = User{Name: "bob@example.org", UUID: "b0000000-0000-4000-8000-00000000000b", Token: "tokB"}
	userC = User{Name: "carol@example.org", UUID: "c0000000-0000-4000-8000-00000000000c", Token: "tokC"}
	// userD has a tiny account quota (§14).
	userD = User{Name: "dave@example.org", UUID: "d0000000-0000-4000-8000-00000000000d", Token: "tokD", Quota: 8}
)

const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

type env struct {
	t    *testing.T
	srv  *Server
	base string // object-store URL, without the account
	hc   *http.Client
}

func newEnv(t *testing.T, blockSize int64) *env {
	t.Helper()
	srv, err := Start(Config{Dir: t.TempDir(), BlockSize: blockSize, Users: []User{userA, userB, userC, userD}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, base: srv.ObjectStoreURL(), hc: &http.Client{
		Timeout: 60 * time.Second,
		// Redirects would hide a server that does not route a name verbatim.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
	}}
}

type resp struct {
	code int
	h    http.Header
	body []byte
}

func (r *resp) String() string {
	return fmt.Sprintf("%d %q", r.code, truncate(string(r.body), 300))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// expand replaces {a} {b} {c} {d} with the users' uuids.
func expand(s string) string {
	return strings.NewReplacer("{a}", userA.UUID, "{b}", userB.UUID, "{c}", userC.UUID, "{d}", userD.UUID).Replace(s)
}

// req sends one request. path is relative to the object-store URL and
// already escaped; tok "" sends no token. body nil sends no body; a
// non-nil io.Reader that is not *bytes.Reader/*strings.Reader is sent chunked.
func (e *env) req(method, path, tok string, hdr map[string]string, body io.Reader) *resp {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.base + expand(path)
	}
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		r.Header.Set("X-Auth-Token", tok)
	}
	for k, v := range hdr {
		r.Header[k] = []string{expand(v)}
	}
	res, err := e.hc.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return &resp{code: res.StatusCode, h: res.Header, body: data}
}

func (e *env) do(method, path string, hdr map[string]string, body string) *resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" || method == "PUT" || method == "POST" {
		rd = strings.NewReader(body)
	}
	return e.req(method, path, userA.Token, hdr, rd)
}

// raw sends a request written by hand (for things net/http will not send:
// no Content-Length on a PUT, raw non-ASCII header bytes).
func (e *env) raw(text string) *resp {
	e.t.Helper()
	host := strings.TrimPrefix(e.srv.URL, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	text = strings.ReplaceAll(expand(text), "\n", "\r\n")
	if _, err := io.WriteString(conn, text); err != nil {
		e.t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{code: res.StatusCode, h: res.Header, body: data}
}

// must checks the status of a reply.
func (e *env) must(r *resp, code int) *resp {
	e.t.Helper()
	if r.code != code {
		e.t.Fatalf("status %d, want %d: %s", r.code, code, r)
	}
	return r
}

// put creates an object with data (type application/octet-stream unless hdr says).
func (e *env) put(path, data string, hdr map[string]string) *resp {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/octet-stream"}
	for k, v := range hdr {
		h[k] = v
	}
	return e.must(e.do("PUT", path, h, data), 201)
}

func (e *env) mkdir(path string, hdr map[string]string) {
	e.t.Helper()
	e.must(e.do("PUT", path, hdr, ""), 201)
}

func (e *env) get(path string) string {
	e.t.Helper()
	return string(e.must(e.do("GET", path, nil, ""), 200).body)
}

// checkFault checks a fault body: {"name": {"code", "message", "details"}}.
func checkFault(t *testing.T, r *resp, code int, name, msg string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d: %s", r.code, code, r)
	}
	if name == "" {
		return
	}
	if ct := r.h.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("fault Content-Type %q", ct)
	}
	var body map[string]struct {
		Code    int     `json:"code"`
		Message string  `json:"message"`
		Details *string `json:"details"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("fault body %q: %v", r.body, err)
	}
	f, ok := body[name]
	if !ok || len(body) != 1 {
		t.Fatalf("fault body %q, want single key %q", r.body, name)
	}
	if f.Code != code || f.Details == nil || *f.Details != "" {
		t.Errorf("fault body %q: code/details", r.body)
	}
	if msg != "" && f.Message != msg {
		t.Errorf("fault message %q, want %q", f.Message, msg)
	}
}

// step is one request of a table-driven walk and what must come back.
type step struct {
	name   string
	method string
	path   string
	tok    string // "" = user A; "-" = no token
	hdr    map[string]string
	body   string
	code   int
	fault  string            // "name: message" (message may be empty)
	want   map[string]string // reply headers; "" means must be absent
	body0  *string           // exact body
	has    []string          // substrings of the body
	hasnt  []string          // substrings the body must not contain
}

func ptr(s string) *string { return &s }

func (e *env) walk(steps []step) {
	e.t.Helper()
	for i, s := range steps {
		tok := userA.Token
		switch s.tok {
		case "-":
			tok = ""
		case "":
		default:
			tok = s.tok
		}
		var body io.Reader
		if s.body != "" || s.method == "PUT" || s.method == "POST" {
			body = strings.NewReader(s.body)
		}
		r := e.req(s.method, s.path, tok, s.hdr, body)
		label := fmt.Sprintf("step %d %q (%s %s)", i, s.name, s.method, s.path)
		if r.code != s.code {
			e.t.Errorf("%s: status %d, want %d: %s", label, r.code, s.code, r)
			continue
		}
		if s.fault != "" {
			name, msg, _ := strings.Cut(s.fault, ": ")
			var body map[string]map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				e.t.Errorf("%s: fault body %q", label, r.body)
			} else if f, ok := body[name]; !ok || msg != "" && f["message"] != msg || f["details"] != "" || f["code"] != float64(s.code) {
				e.t.Errorf("%s: fault %q, want %q", label, r.body, s.fault)
			}
		}
		for k, v := range s.want {
			got, ok := r.h[http.CanonicalHeaderKey(k)]
			switch {
			case v == "" && ok:
				e.t.Errorf("%s: header %s = %q, want absent", label, k, got)
			case v != "" && (!ok || got[0] != expand(v)):
				e.t.Errorf("%s: header %s = %q, want %q", label, k, got, expand(v))
			}
		}
		if s.body0 != nil && string(r.body) != expand(*s.body0) {
			e.t.Errorf("%s: body %q, want %q", label, r.body, expand(*s.body0))
		}
		for _, sub := range s.has {
			if !strings.Contains(string(r.body), expand(sub)) {
				e.t.Errorf("%s: body %q lacks %q", label, truncate(string(r.body), 500), expand(sub))
			}
		}
		for _, sub := range s.hasnt {
			if strings.Contains(string(r.body), expand(sub)) {
				e.t.Errorf("%s: body %q contains %q", label, truncate(string(r.body), 500), expand(sub))
			}
		}
	}
}

// listing is a JSON object listing row.
type listing struct {
	Name         string `json:"name"`
	Subdir       string `json:"subdir"`
	Bytes        int64  `json:"bytes"`
	ContentType  string `json:"content_type"`
	Hash         string `json:"hash"`
	XObjectHash  string `json:"x_object_hash"`
	UUID         string `json:"x_object_uuid"`
	Version      int64  `json:"x_object_version"`
	VersionTS    string `json:"x_object_version_timestamp"`
	LastModified string `json:"last_modified"`
	Sharing      string `json:"x_object_sharing"`
	SharedBy     string `json:"x_object_shared_by"`
	AllowedTo    string `json:"x_object_allowed_to"`
	Public       string `json:"x_object_public"`
}

func (e *env) list(path, tok string) []listing {
	e.t.Helper()
	r := e.req("GET", path, tok, nil, nil)
	e.must(r, 200)
	var rows []listing
	if err := json.Unmarshal(r.body, &rows); err != nil {
		e.t.Fatalf("listing %s: %v: %q", path, err, r.body)
	}
	return rows
}

// names renders a listing as "name" / "name/ (subdir)" strings.
func names(rows []listing) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.Subdir != "" {
			out = append(out, "subdir:"+r.Subdir)
		} else {
			out = append(out, r.Name)
		}
	}
	return out
}

type hashmapReply struct {
	BlockSize int64    `json:"block_size"`
	BlockHash string   `json:"block_hash"`
	Bytes     int64    `json:"bytes"`
	Hashes    []string `json:"hashes"`
}

func (e *env) hashmap(path string) hashmapReply {
	e.t.Helper()
	r := e.must(e.do("GET", path+"?hashmap&format=json", nil, ""), 200)
	var hm hashmapReply
	if err := json.Unmarshal(r.body, &hm); err != nil {
		e.t.Fatalf("hashmap %q: %v", r.body, err)
	}
	return hm
}

// Independent reference hashing for the tests (the spec's algorithm,
// written again here so the server is not checked against itself).
func refBlockHash(b []byte) string {
	s := sha256.Sum256(bytes.TrimRight(b, "\x00"))
	return hex.EncodeToString(s[:])
}

func refHashes(data []byte, bs int) []string {
	if len(data) == 0 {
		return []string{emptyHash}
	}
	var out []string
	for i := 0; i < len(data); i += bs {
		out = append(out, refBlockHash(data[i:min(i+bs, len(data))]))
	}
	return out
}

func refTop(hashes []string) string {
	level := make([][]byte, len(hashes))
	for i, h := range hashes {
		level[i], _ = hex.DecodeString(h)
	}
	if len(level) == 1 {
		return hashes[0]
	}
	n := 2
	for n < len(level) {
		n *= 2
	}
	for len(level) < n {
		level = append(level, make([]byte, 32))
	}
	for len(level) > 1 {
		var next [][]byte
		for i := 0; i < len(level); i += 2 {
			s := sha256.Sum256(append(append([]byte{}, level[i]...), level[i+1]...))
			next = append(next, s[:])
		}
		level = next
	}
	return hex.EncodeToString(level[0])
}

func hashmapJSON(size int, hashes []string) string {
	b, _ := json.Marshal(map[string]any{"bytes": size, "hashes": hashes})
	return string(b)
}

// unquoteHeader percent-decodes a reply header value as clients must (§3.3).
func unquoteHeader(v string) string {
	d, err := url.PathUnescape(v)
	if err != nil {
		return v
	}
	return d
}
