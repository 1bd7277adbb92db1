package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountSwiftWrite runs the write-side workflows against a real OpenStack Swift: whole-object
// streamed uploads (segments above the client's threshold), copy+delete renames (not atomic there),
// POSIX attributes and symlinks across a remount, and the real-tool workflows (cp -a, rsync -a twice,
// tar, appends, truncate, concurrent writers; git runs on Pithos+ only).
func TestMountSwiftWrite(t *testing.T) {
	env := requireSwift(t)
	hc := newHTTPClient()
	token, storage := swiftAuth(t, hc, env.AuthURL, env.Admin)
	container := randomName("pfswrite")
	if resp, body := doHTTP(t, hc, http.MethodPut, storage+"/"+container, token, nil, nil); resp.StatusCode/100 != 2 {
		t.Fatalf("PUT container: %s %s", resp.Status, body)
	}
	acct := storage[strings.LastIndex(storage, "/")+1:]
	args := mountArgs{URL: env.AuthURL, User: env.Admin.Name, Token: env.Admin.Key, CacheDir: filepath.Join(t.TempDir(), "cache")}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, acct, container)
	t.Cleanup(func() {
		resp, body := doHTTP(t, hc, http.MethodGet, storage+"/"+container+"?limit=10000", token, nil, nil)
		if resp.StatusCode/100 == 2 {
			for _, n := range strings.Fields(string(body)) {
				doHTTP(t, hc, http.MethodDelete, storage+"/"+container+"/"+n, token, nil, nil)
			}
		}
		doHTTP(t, hc, http.MethodDelete, storage+"/"+container, token, nil, nil)
	})

	// A large file (streamed upload), a rename (copy + delete) and attributes across a remount.
	big := randomBytes(30<<20 + 3)
	local := filepath.Join(t.TempDir(), "big")
	if err := writeFile(local, big); err != nil {
		t.Fatal(err)
	}
	sh(t, "cp "+shq(local)+" "+shq(filepath.Join(c, "big")))
	if out, err := shErr("mv " + shq(filepath.Join(c, "big")) + " " + shq(filepath.Join(c, "big2"))); err != nil {
		t.Fatalf("mv of a large (segmented) object: %v %s\n%s", err, out, m.stderrText())
	}
	sh(t, "cd "+shq(c)+" && mkdir d && echo hi > d/f && mv d e && chmod 700 e/f && touch -d '2012-03-04 05:06:07' e/f && ln -s e/f lnk")
	m.unmount(t)
	m = startMountAt(t, m.Dir, args)
	sh(t, "cmp "+shq(local)+" "+shq(filepath.Join(c, "big2")))
	if got := sh(t, "cd "+shq(c)+" && ls big 2>&1 || true"); !strings.Contains(got, "No such file") {
		t.Errorf("big after the rename: %q", got)
	}
	if got := sh(t, "cd "+shq(c)+" && stat -c '%a %y' e/f && readlink lnk && cat lnk"); got != "700 2012-03-04 05:06:07.000000000 +0000\ne/f\nhi\n" {
		t.Errorf("attributes and symlink after a remount:\n%s", got)
	}
	runToolWorkflows(t, m, c, false)
}

func writeFile(p string, data []byte) error { return os.WriteFile(p, data, 0o644) }
