package control_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// TestControlTreesWithTheCloudGone: with the cloud stopped (every request
// refused), servers/ and flavors/ list from their last list, and ls -l of
// them succeeds, instead of failing with EIO after the client's retries
// (4–5 s a list, and a GET per file for its size); reading a server's file,
// live state, fails rather than showing an old document.
func TestControlTreesWithTheCloudGone(t *testing.T) {
	e := setup(t)
	e.upload(t, "images", "debian.diskdump", bytes.Repeat([]byte("debian"), 5000))
	mnt := mount(t, e.srv, false)
	mustSh(t, mnt, `echo '{"location": "/images/debian.diskdump"}' > images/debian.json`)
	mustSh(t, mnt, fmt.Sprintf(`echo '{"flavor": %q, "image": "debian"}' > servers/web1.json`, e.flavor.Name))
	before := mustSh(t, mnt, "ls servers flavors")
	if !strings.Contains(before, "web1") || !strings.Contains(before, e.flavor.Name) {
		t.Fatalf("ls before: %q", before)
	}
	mustSh(t, mnt, "cat servers/web1.json > /dev/null")

	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the mount's 200 ms TTL: the next ls lists the cloud again
	after, err := sh(mnt, "ls servers flavors")
	if err != nil {
		t.Fatalf("ls with the cloud gone: %v", err)
	}
	if after != before {
		t.Fatalf("ls with the cloud gone = %q, want the last list %q", after, before)
	}
	if out, err := sh(mnt, "ls -l servers flavors"); err != nil || !strings.Contains(out, "web1") {
		t.Fatalf("ls -l with the cloud gone: %q, %v", out, err)
	}
	if out, err := sh(mnt, "cat servers/web1.json"); err == nil || !strings.Contains(err.Error(), "Input/output error") {
		t.Fatalf("cat of a server's file with the cloud gone: %q, %v; want EIO", out, err)
	}
}

// TestControlWritesWithTheCloudGone: with the cloud stopped (every request
// refused: nothing can be sent), a create, an action and an rm fail at once
// (write(2) or close(2): EIO) and .last-error says nothing was sent, instead
// of waiting for the client's retries of each request (3–6 s apiece: a
// create's two lookups and its POST took 10–20 s).
func TestControlWritesWithTheCloudGone(t *testing.T) {
	e := setup(t)
	e.upload(t, "images", "debian.diskdump", bytes.Repeat([]byte("debian"), 5000))
	mnt := mount(t, e.srv, true)
	mustSh(t, mnt, `echo '{"location": "/images/debian.diskdump"}' > images/debian.json`)
	spec := fmt.Sprintf(`{"flavor": %q, "image": "debian"}`, e.flavor.Name)
	mustSh(t, mnt, "echo '"+spec+"' > servers/web1.json")
	mustSh(t, mnt, "ls servers images > /dev/null")

	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the mount's 200 ms TTL
	for _, c := range []struct{ what, script string }{
		{"create", "echo '" + spec + "' | tee servers/web2.json"},
		{"action", `echo '{"action": "reboot"}' | tee servers/web1.json`},
		{"metadata", `echo '{"metadata": {"k": "v"}}' | tee servers/web1.json`},
		{"image", `echo '{"location": "/images/debian.diskdump"}' | tee images/other.json`},
		{"rm", "rm servers/web1.json"},
	} {
		start := time.Now()
		out, err := sh(mnt, c.script+" > /dev/null")
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "Input/output error") {
			t.Errorf("%s with the cloud gone: %q, %v; want EIO", c.what, out, err)
		}
		if took > 1500*time.Millisecond {
			t.Errorf("%s with the cloud gone took %s, want it at once", c.what, took.Round(time.Millisecond))
		}
		dir, _, _ := strings.Cut(strings.Fields(c.script)[len(strings.Fields(c.script))-1], "/")
		if le := mustSh(t, mnt, "cat "+dir+"/.last-error"); !strings.Contains(le, "nothing was sent") {
			t.Errorf("%s: %s/.last-error = %q, want it to say nothing was sent", c.what, dir, le)
		}
	}
}

// TestControlCreateReplyLost: a create whose reply is lost (the cloud makes
// the server, then the connection drops) fails with EIO and says it may
// have been applied; it is not sent again (a second server), and writing
// the same file again finds the server made and creates nothing.
func TestControlCreateReplyLost(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.upload(t, "images", "debian.diskdump", bytes.Repeat([]byte("debian"), 5000))
	var creates atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/servers") {
			e.srv.Cloud.ServeHTTP(w, r)
			return
		}
		creates.Add(1)
		e.srv.Cloud.ServeHTTP(httptest.NewRecorder(), r) // made, and the reply never arrives
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer ts.Close()
	mnt := mount(t, &localcloud.Server{URL: ts.URL, Cloud: e.srv.Cloud}, false)
	mustSh(t, mnt, `echo '{"location": "/images/debian.diskdump"}' > images/debian.json`)
	spec := fmt.Sprintf(`{"flavor": %q, "image": "debian"}`, e.flavor.Name)
	if out, err := sh(mnt, "echo '"+spec+"' | tee servers/web2.json >/dev/null"); err == nil || !strings.Contains(err.Error(), "Input/output error") {
		t.Fatalf("create with its reply lost: %q, %v; want EIO", out, err)
	}
	if le := mustSh(t, mnt, "cat servers/.last-error"); !strings.Contains(le, "may have been applied") {
		t.Errorf(".last-error = %q, want it to say the create may have been applied", le)
	}
	if n := creates.Load(); n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
	if _, err := sh(mnt, "echo '"+spec+"' | tee servers/web2.json >/dev/null"); err == nil {
		t.Error("writing the create again succeeded")
	}
	all, err := e.compute.ListServers(ctx, cyclades.ListOptions{})
	if err != nil || len(all) != 1 {
		t.Fatalf("servers after a lost reply and a second write: %+v, %v; want the one", all, err)
	}
	if n := creates.Load(); n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
}
