package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMountSwiftRead runs the read tests against a real OpenStack Swift (v1.0 auth): no hashmaps there, so
// blocks are fetched by range and cached by (object, ETag, index).
func TestMountSwiftRead(t *testing.T) {
	env := requireSwift(t)
	hc := newHTTPClient()
	token, storage := swiftAuth(t, hc, env.AuthURL, env.Admin)
	container := randomName("pfsmount")
	put := func(path string, data []byte, hdr http.Header) {
		t.Helper()
		if data == nil {
			data = []byte{}
		}
		resp, body := doHTTP(t, hc, http.MethodPut, storage+"/"+path, token, data, hdr)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT %s: %s %s", path, resp.Status, body)
		}
	}
	put(container, nil, nil)
	t.Cleanup(func() {
		// Best effort: objects then the container.
		for _, n := range []string{"empty", "one", "dir/four", "dir/four1", "dir/large"} {
			doHTTP(t, hc, http.MethodDelete, storage+"/"+container+"/"+n, token, nil, nil)
		}
		doHTTP(t, hc, http.MethodDelete, storage+"/"+container, token, nil, nil)
	})
	files := map[string][]byte{
		"empty":     {},
		"one":       {'x'},
		"dir/four":  randomBytes(4 << 20),
		"dir/four1": randomBytes(4<<20 + 1),
		"dir/large": randomBytes(40 << 20),
	}
	for name, data := range files {
		put(container+"/"+name, data, http.Header{"Content-Type": {"application/octet-stream"}})
	}
	acct := storage[strings.LastIndex(storage, "/")+1:]
	m := startMount(t, mountArgs{URL: env.AuthURL, User: env.Admin.Name, Token: env.Admin.Key})
	root := filepath.Join(m.Dir, acct, container)
	if got := sh(t, "cd "+shq(root)+" && find . | sort"); got != ".\n./dir\n./dir/four\n./dir/four1\n./dir/large\n./empty\n./one\n" {
		t.Fatalf("find on Swift:\n%s", got)
	}
	ls := sh(t, "ls -l "+shq(filepath.Join(root, "dir")))
	if !strings.Contains(ls, " "+strconv.Itoa(4<<20+1)+" ") {
		t.Errorf("ls -l:\n%s", ls)
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if sum := strings.Fields(sh(t, "sha256sum "+shq(p)))[0]; sum != sha256hex(data) {
			t.Errorf("Swift %s: sha256 %s, want %s", name, sum, sha256hex(data))
		}
	}
	large := files["dir/large"]
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10 {
		n := 1 + rng.IntN(300_000)
		off := rng.IntN(len(large) - n)
		out := sh(t, fmt.Sprintf("dd if=%s bs=1 skip=%d count=%d iflag=skip_bytes,count_bytes status=none | sha256sum",
			shq(filepath.Join(root, "dir/large")), off, n))
		if f := strings.Fields(out)[0]; f != sha256hex(large[off:off+n]) {
			t.Fatalf("Swift dd at %d+%d: wrong bytes", off, n)
		}
	}
	st := m.stats(t)
	// One GET per block, plus one per block the disk tier skipped (its
	// writer drops blocks when behind, as TestMountRead allows too): such
	// a block, once evicted from memory, is fetched again.
	maxRanges := int64(1+1+2+10) + st.Cache.DiskWritesSkipped
	if r := st.RequestsByKind["get_range"]; r > maxRanges {
		t.Errorf("%d range GETs on Swift, want at most %d (one per block, %d disk writes skipped)", r, maxRanges, st.Cache.DiskWritesSkipped)
	}
	t.Logf("Swift stats: %+v", st)
}
