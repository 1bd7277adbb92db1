package localcloud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHashmapPutPermissionFirst: a hashmap PUT by a user who may not write
// the object gets 403, not the 409 listing the blocks the server lacks (as
// Synnefo checks permission first): without any share and with a read-only
// share. The owner still gets the 409.
func TestHashmapPutPermissionFirst(t *testing.T) {
	e := newEnv(t, 4096)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.must(e.do("PUT", "/{a}/c/ro", map[string]string{"Content-Type": "text/plain"}, "x"), 201)
	e.must(e.do("POST", "/{a}/c/ro?update", map[string]string{"X-Object-Sharing": "read={b}"}, ""), 202)
	body, _ := json.Marshal(map[string]any{"bytes": 5, "hashes": []string{strings.Repeat("ab", 32)}})
	hdr := map[string]string{"Content-Type": "application/octet-stream"}
	for _, path := range []string{"/{a}/c/ro?hashmap&format=json", "/{a}/c/private?hashmap&format=json"} {
		r := e.req("PUT", path, userB.Token, hdr, bytes.NewReader(body))
		if r.code != 403 {
			t.Errorf("bob's hashmap PUT %s = %s, want 403", path, r)
		}
	}
	if r := e.req("PUT", "/{a}/c/ro?hashmap&format=json", userA.Token, hdr, bytes.NewReader(body)); r.code != 409 {
		t.Errorf("the owner's hashmap PUT = %s, want 409 (missing blocks)", r)
	}
	// A plain data PUT without write access is refused before its body counts.
	if r := e.req("PUT", "/{a}/c/ro", userB.Token, hdr, strings.NewReader("data")); r.code != 403 {
		t.Errorf("bob's PUT = %s, want 403", r)
	}
}

// newEnvConfig is newEnv with its own Config (Dir and Users are set here).
func newEnvConfig(t *testing.T, cfg Config) *env {
	t.Helper()
	cfg.Dir, cfg.Users = t.TempDir(), []User{userA, userB, userC, userD}
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, base: srv.ObjectStoreURL(), hc: &http.Client{Timeout: 60 * time.Second}}
}

// TestSourceCopyBounded: a POST with X-Source-Object copying more than
// Config.MaxSourceBytes gets 400 and changes nothing; one whose client
// goes away stops without making a new version.
func TestSourceCopyBounded(t *testing.T) {
	e := newEnvConfig(t, Config{BlockSize: 64 << 10, MaxSourceBytes: 32 << 20})
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	big := make([]byte, 40<<20)
	_, _ = rand.Read(big)
	e.must(e.req("PUT", "/{a}/c/big", userA.Token, map[string]string{"Content-Type": "application/octet-stream"}, bytes.NewReader(big)), 201)
	e.must(e.do("PUT", "/{a}/c/small", map[string]string{"Content-Type": "text/plain"}, "small"), 201)
	appendHdr := func(src string) map[string]string {
		return map[string]string{"X-Source-Object": src, "Content-Range": "bytes */*", "Content-Type": "application/octet-stream"}
	}
	r := e.do("POST", "/{a}/c/big?update", appendHdr("/c/big"), "")
	if r.code != 400 || !strings.Contains(string(r.body), "too large") {
		t.Errorf("self-append of 40 MiB with a 32 MiB limit = %s, want 400", r)
	}
	if n := e.size("/{a}/c/big"); n != int64(len(big)) {
		t.Errorf("big is %d bytes after the refused append", n)
	}
	e.must(e.do("POST", "/{a}/c/small?update", appendHdr("/c/small"), ""), 204)
	if got := e.get("/{a}/c/small"); got != "smallsmall" {
		t.Errorf("self-append of a small object = %q", got)
	}

	// A client that gives up: the copy (30 MiB, 480 blocks hashed and
	// written) stops, and no new version appears.
	e2 := newEnvConfig(t, Config{BlockSize: 64 << 10})
	e2.must(e2.do("PUT", "/{a}/c", nil, ""), 201)
	e2.must(e2.req("PUT", "/{a}/c/big", userA.Token, map[string]string{"Content-Type": "application/octet-stream"}, bytes.NewReader(big)), 201)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The client goes away as soon as its request is sent.
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }})
	req, _ := http.NewRequestWithContext(ctx, "POST", e2.base+expand("/{a}/c/big?update"), strings.NewReader(""))
	req.Header.Set("X-Auth-Token", userA.Token)
	for k, v := range appendHdr("/c/big") {
		req.Header.Set(k, v)
	}
	if resp, err := e2.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the append answered %s before the client went away", resp.Status)
	}
	// Had the copy gone on, its new version would appear within these 5 s.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n := e2.size("/{a}/c/big"); n != int64(len(big)) {
			t.Fatalf("big is %d bytes: the abandoned append went on and committed", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// size is an object's Content-Length by HEAD.
func (e *env) size(path string) int64 {
	e.t.Helper()
	r := e.req("HEAD", path, userA.Token, nil, nil)
	n, err := strconv.ParseInt(r.h.Get("Content-Length"), 10, 64)
	if r.code != 200 || err != nil {
		e.t.Fatalf("HEAD %s: %s", path, r)
	}
	return n
}
