package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountHistorySwift: on plain Swift the same views come from the
// archive container of X-History-Location; a container without versioning
// has empty views and one log line saying why.
func TestMountHistorySwift(t *testing.T) {
	env := requireSwift(t)
	hc := newHTTPClient()
	token, storage := swiftAuth(t, hc, env.AuthURL, env.Admin)
	cont, arch, plain := randomName("pfshist"), randomName("pfsarch"), randomName("pfsplain")
	mk := func(name string, hdr http.Header) {
		t.Helper()
		if resp, body := doHTTP(t, hc, http.MethodPut, storage+"/"+name, token, []byte{}, hdr); resp.StatusCode/100 != 2 {
			t.Fatalf("PUT %s: %s %s", name, resp.Status, body)
		}
	}
	mk(arch, nil)
	mk(plain, nil)
	mk(cont, http.Header{"X-History-Location": {arch}})
	t.Cleanup(func() {
		for _, c := range []string{cont, arch, plain} {
			_, body := doHTTP(t, hc, http.MethodGet, storage+"/"+c, token, nil, nil)
			for _, n := range strings.Fields(string(body)) {
				doHTTP(t, hc, http.MethodDelete, storage+"/"+c+"/"+n, token, nil, nil)
			}
			doHTTP(t, hc, http.MethodDelete, storage+"/"+c, token, nil, nil)
		}
	})
	acct := storage[strings.LastIndex(storage, "/")+1:]
	m := startMount(t, mountArgs{URL: env.AuthURL, User: env.Admin.Name, Token: env.Admin.Key})
	dir := filepath.Join(m.Dir, acct, cont)
	v := [][]byte{randomBytes(5<<20 + 1), []byte("two\n"), randomBytes(1 << 20)}
	for _, d := range v {
		if err := os.WriteFile(filepath.Join(dir, "f.bin"), d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vdir := filepath.Join(m.Dir, ".pithosfs", "versions", cont, "f.bin")
	paths := checkVersions(t, vdir, [][]byte{v[2], v[1], v[0]})
	restoreNoBytes(t, m.Dir, paths[2], filepath.Join(dir, "f.bin"), v[0])

	if err := os.WriteFile(filepath.Join(dir, "gone.txt"), []byte("bye\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	ddir := filepath.Join(m.Dir, ".pithosfs", "deleted", cont)
	if ls := sh(t, "ls "+shq(ddir)); ls != "gone.txt\n" {
		t.Errorf("deleted view on Swift lists %q", ls)
	}
	dv := checkVersions(t, filepath.Join(ddir, "gone.txt"), [][]byte{[]byte("bye\n")})
	restoreNoBytes(t, m.Dir, dv[0], filepath.Join(dir, "gone.txt"), []byte("bye\n"))

	// No versioning: empty views, and the log says why, once.
	if err := os.WriteFile(filepath.Join(m.Dir, acct, plain, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ls := sh(t, "ls -A "+shq(filepath.Join(m.Dir, ".pithosfs", "versions", plain))); ls != "" {
			t.Errorf("versions of a container without versioning: %q", ls)
		}
	}
	if ls := sh(t, "ls -A "+shq(filepath.Join(m.Dir, ".pithosfs", "deleted", plain))); ls != "" {
		t.Errorf("deleted view of a container without versioning: %q", ls)
	}
	if n := strings.Count(m.stderrText(), "keeps no versions"); n != 1 {
		t.Errorf("the log says %d times that %s keeps no versions, want once:\n%s", n, plain, m.stderrText())
	}
}
