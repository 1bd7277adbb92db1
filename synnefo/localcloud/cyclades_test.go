package localcloud

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// cyEnv is a running cloud with two users for the Cyclades and Plankton
// tests; everything goes over HTTP.
type cyEnv struct {
	t     *testing.T
	dir   string
	users []User
	srv   *Server
	clk   *stepClock // the cloud's clock: stands still until e.poll steps it
}

// stepClock is a clock that moves only when a test steps it, so a task's
// state (STOPPING, ATTACHING_VOLUME…) cannot end between two requests of a
// test however slow the machine is.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type cyResp struct {
	code int
	h    http.Header
	body []byte
	m    map[string]any
}

const cyBuild = 200 * time.Millisecond

func newCyEnv(t *testing.T) *cyEnv {
	t.Helper()
	e := &cyEnv{t: t, dir: t.TempDir(), clk: &stepClock{now: time.Now()}, users: []User{
		{Name: "alice@example.org", UUID: newUUID(), Token: "tok-alice"},
		{Name: "bob@example.org", UUID: newUUID(), Token: "tok-bob"},
	}}
	e.start()
	t.Cleanup(func() { e.srv.Close() })
	return e
}

func (e *cyEnv) start() {
	e.t.Helper()
	srv, err := Start(Config{Dir: e.dir, Users: e.users, BuildDelay: cyBuild, Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
}

// restart closes the cloud and opens it again on the same directory.
func (e *cyEnv) restart() {
	e.t.Helper()
	if err := e.srv.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

func (e *cyEnv) alice() string { return e.users[0].UUID }
func (e *cyEnv) bob() string   { return e.users[1].UUID }

// call sends a request as the user with token tok (empty: no token). body
// is a string (sent raw) or a value marshalled as JSON; JSON bodies get
// Content-Type application/json unless hdr sets it ("" removes it).
func (e *cyEnv) call(tok, method, path string, body any, hdr map[string]string) *cyResp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("X-Auth-Token", tok)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range hdr {
		if v == "" && k == "Content-Type" {
			req.Header.Del(k)
			continue
		}
		req.Header[k] = []string{v}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &cyResp{code: resp.StatusCode, h: resp.Header, body: data}
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &r.m); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, data, err)
		}
	}
	return r
}

// as alice, the default user.
func (e *cyEnv) do(method, path string, body any) *cyResp {
	e.t.Helper()
	return e.call("tok-alice", method, path, body, nil)
}

const (
	computeP = "/cyclades/compute/v2.0"
	networkP = "/cyclades/network/v2.0"
	volumeP  = "/cyclades/volume/v2.0"
	imageP   = "/cyclades/image/v1.0"
)

func (r *cyResp) want(t *testing.T, code int) *cyResp {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body %s", r.code, code, r.body)
	}
	return r
}

// fault asserts a single-key fault body {name: {code, message, details}}.
func (r *cyResp) fault(t *testing.T, code int, name, msgPart string) {
	t.Helper()
	r.want(t, code)
	if len(r.m) != 1 {
		t.Fatalf("fault body %s: want exactly one key", r.body)
	}
	f, ok := r.m[name].(map[string]any)
	if !ok {
		t.Fatalf("fault body %s: want key %q", r.body, name)
	}
	if f["code"] != float64(code) {
		t.Fatalf("fault code %v, want %d", f["code"], code)
	}
	msg, ok := f["message"].(string)
	if !ok || !strings.Contains(msg, msgPart) {
		t.Fatalf("fault message %q, want it to contain %q", f["message"], msgPart)
	}
	if _, ok := f["details"].(string); !ok {
		t.Fatalf("fault details missing in %s", r.body)
	}
}

func obj(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

// putObject uploads data to the user's container/name (creating the
// container) and returns the object's UUID and hash.
func (e *cyEnv) putObject(tok, acct, cont, name string, data []byte) (uuid, hash string) {
	e.t.Helper()
	e.call(tok, "PUT", "/pithos/object-store/v1/"+acct+"/"+cont, nil, nil)
	r := e.call(tok, "PUT", "/pithos/object-store/v1/"+acct+"/"+cont+"/"+name, data, map[string]string{"Content-Type": "application/octet-stream"})
	r.want(e.t, 201)
	h := e.call(tok, "HEAD", "/pithos/object-store/v1/"+acct+"/"+cont+"/"+name, nil, nil).want(e.t, 200)
	return h.h.Get("X-Object-Uuid"), h.h.Get("X-Object-Hash")
}

// image uploads and registers an image owned by alice.
func (e *cyEnv) image(name string, data []byte, hdr map[string]string) string {
	e.t.Helper()
	id, _ := e.putObject("tok-alice", e.alice(), "images", name, data)
	h := map[string]string{"X-Image-Meta-Name": name, "X-Image-Meta-Location": "pithos://" + e.alice() + "/images/" + name}
	for k, v := range hdr {
		h[k] = v
	}
	r := e.call("tok-alice", "POST", imageP+"/images/", nil, h).want(e.t, 200)
	if got := r.h.Get("X-Image-Meta-Id"); got != id {
		e.t.Fatalf("image id %q, want object uuid %q", got, id)
	}
	return id
}

func (e *cyEnv) createServer(name, image string, flavor int, extra map[string]any) map[string]any {
	e.t.Helper()
	srv := map[string]any{"name": name, "imageRef": image, "flavorRef": flavor}
	for k, v := range extra {
		srv[k] = v
	}
	r := e.do("POST", computeP+"/servers", map[string]any{"server": srv}).want(e.t, 202)
	return obj(r.m, "server")
}

func (e *cyEnv) server(id any) map[string]any {
	e.t.Helper()
	return obj(e.do("GET", computeP+"/servers/"+jsonID(id), nil).want(e.t, 200).m, "server")
}

func jsonID(id any) string {
	switch v := id.(type) {
	case float64:
		return itoa(int64(v))
	case string:
		return v
	}
	panic("bad id")
}

// poll calls get until cond holds, stepping the cloud's clock by a tenth of
// a build between calls: at most 1 000 steps (100 builds' time).
func (e *cyEnv) poll(what string, get func() map[string]any, cond func(map[string]any) bool) map[string]any {
	e.t.Helper()
	var m map[string]any
	for range 1000 {
		if m = get(); cond(m) {
			return m
		}
		e.clk.step(cyBuild / 10)
	}
	e.t.Fatalf("%s did not happen in 100 builds' time; last %v", what, m)
	return nil
}

func (e *cyEnv) waitStatus(id any, status string) map[string]any {
	e.t.Helper()
	return e.poll("server status "+status, func() map[string]any { return e.server(id) },
		func(m map[string]any) bool { return m["status"] == status })
}

// image data: two blocks' worth is not needed; any non-empty bytes will do.
var diskData = []byte("disk image bytes: pretend this is a diskdump\n")
