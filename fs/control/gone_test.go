package control_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
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
