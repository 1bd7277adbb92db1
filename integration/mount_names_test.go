package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// objectStore is raw HTTP access to one container, behind the mount's back.
type objectStore struct {
	put func(name string, data []byte)
	// get returns the object's content and HTTP status.
	get func(name string) ([]byte, int)
}

// oddObjects are names no POSIX file name can carry as they are: empty
// segments ("//", a leading "/"), "." and ".." segments, a 300-byte
// segment, and a name that looks like one of the mount's escapes.
var oddObjects = []string{
	"w4//leading",
	"/lead",
	"dots/./x",
	"dots/../y",
	"odd/.",
	"odd/..",
	"long/" + strings.Repeat("L", 300),
	"deep/" + strings.Repeat("D", 300) + "/z",
	"⧸real",
	"plain",
}

// shortened matches the name a 300-byte segment of c is shown under.
func shortened(c byte) *regexp.Regexp {
	return regexp.MustCompile("^⧸" + strings.Repeat(string(c), 235) + "~[0-9a-f]{16}$")
}

// checkOddNames creates oddObjects in an empty container over HTTP and
// works on them through the mount at root (that container's directory)
// with shell tools: every directory lists (escaped names, no EIO), and
// reads, writes, renames and deletes reach the real objects.
func checkOddNames(t *testing.T, root string, st objectStore) {
	for _, n := range oddObjects {
		st.put(n, []byte("data of "+n))
	}
	lsIs := func(dir string, want ...string) {
		t.Helper()
		got := strings.Fields(sh(t, "ls "+shq(filepath.Join(root, dir)))) // no name here starts with "."
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ls %s = %q, want %q", dir, got, want)
		}
	}
	lsIs("", "deep", "dots", "long", "odd", "plain", "w4", "⧸", "⧸⧸real")
	lsIs("w4", "⧸")
	lsIs("w4/⧸", "leading")
	lsIs("⧸", "lead")
	lsIs("dots", "⧸.", "⧸..")
	lsIs("dots/⧸.", "x")
	lsIs("odd", "⧸.", "⧸..")
	long := strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(root, "long"))))
	deep := strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(root, "deep"))))
	if !shortened('L').MatchString(long) || !shortened('D').MatchString(deep) {
		t.Fatalf("300-byte names shown as %q and %q", long, deep)
	}
	lsIs("deep/"+deep, "z")
	// Every directory lists in full (ls -lR stats every entry).
	sh(t, "ls -laR "+shq(root)+" > /dev/null")

	reads := map[string]string{
		"w4/⧸/leading": "w4//leading", "⧸/lead": "/lead", "dots/⧸./x": "dots/./x", "dots/⧸../y": "dots/../y",
		"odd/⧸.": "odd/.", "odd/⧸..": "odd/..", "long/" + long: oddObjects[6], "deep/" + deep + "/z": oddObjects[7],
		"⧸⧸real": "⧸real",
	}
	for shown, obj := range reads {
		if got := sh(t, "cat "+shq(filepath.Join(root, shown))); got != "data of "+obj {
			t.Errorf("cat %s = %q, want the content of %q", shown, got, obj)
		}
	}
	serverHas := func(obj, want string) {
		t.Helper()
		if got, status := st.get(obj); status != http.StatusOK || string(got) != want {
			t.Errorf("GET %.60q after the change through the mount: %d %q, want %q", obj, status, got, want)
		}
	}
	serverLacks := func(obj string) {
		t.Helper()
		if _, status := st.get(obj); status != http.StatusNotFound {
			t.Errorf("GET %.60q: %d, want 404 (gone through the mount)", obj, status)
		}
	}

	// Writes: append, overwrite, and new files under escaped names.
	sh(t, "printf ' more' >> "+shq(filepath.Join(root, "⧸", "lead")))
	serverHas("/lead", "data of /lead more")
	sh(t, "echo -n replaced > "+shq(filepath.Join(root, "long", long)))
	serverHas(oddObjects[6], "replaced")
	sh(t, "echo -n fresh > "+shq(filepath.Join(root, "w4", "⧸", "new"))+" && echo -n dot > "+shq(filepath.Join(root, "⧸.")))
	serverHas("w4//new", "fresh")
	serverHas(".", "dot")
	lsIs("w4/⧸", "leading", "new")

	// Renames, to and from escaped names, of files and a directory.
	sh(t, "mv "+shq(filepath.Join(root, "⧸", "lead"))+" "+shq(filepath.Join(root, "⧸", "lead2")))
	serverHas("/lead2", "data of /lead more")
	serverLacks("/lead")
	sh(t, "mv "+shq(filepath.Join(root, "long", long))+" "+shq(filepath.Join(root, "long", "short")))
	serverHas("long/short", "replaced")
	serverLacks(oddObjects[6])
	sh(t, "mv "+shq(filepath.Join(root, "odd", "⧸."))+" "+shq(filepath.Join(root, "odd", "⧸⧸dot")))
	serverHas("odd/⧸dot", "data of odd/.")
	serverLacks("odd/.")
	sh(t, "mv "+shq(filepath.Join(root, "plain"))+" "+shq(filepath.Join(root, "odd", "⧸.")))
	serverHas("odd/.", "data of plain")
	sh(t, "mv "+shq(filepath.Join(root, "dots", "⧸.."))+" "+shq(filepath.Join(root, "dots", "up")))
	serverHas("dots/up/y", "data of dots/../y")
	serverLacks("dots/../y")
	lsIs("dots", "up", "⧸.")
	lsIs("odd", "⧸.", "⧸..", "⧸⧸dot")

	// Deletes, also of a file under its shortened 300-byte name.
	st.put("long/"+strings.Repeat("M", 300), []byte("doomed"))
	waitFor(t, 10*time.Second, "a second 300-byte name in long/", func() bool {
		return len(strings.Fields(sh(t, "ls "+shq(filepath.Join(root, "long"))))) == 2
	})
	doomed := strings.TrimSpace(sh(t, "cd "+shq(filepath.Join(root, "long"))+" && ls | grep '^⧸M'"))
	if !shortened('M').MatchString(doomed) || sh(t, "cat "+shq(filepath.Join(root, "long", doomed))) != "doomed" {
		t.Fatalf("second 300-byte name shown as %q", doomed)
	}
	sh(t, "rm "+shq(filepath.Join(root, "long", doomed)))
	serverLacks("long/" + strings.Repeat("M", 300))
	lsIs("long", "short")
	sh(t, "rm "+shq(filepath.Join(root, "odd", "⧸.."))+" "+shq(filepath.Join(root, "deep", deep, "z"))+" "+
		shq(filepath.Join(root, "⧸⧸real"))+" "+shq(filepath.Join(root, "w4", "⧸", "leading")))
	for _, obj := range []string{"odd/..", oddObjects[7], "⧸real", "w4//leading"} {
		serverLacks(obj)
	}
	lsIs("odd", "⧸.", "⧸⧸dot")
	sh(t, "ls -laR "+shq(root)+" > /dev/null")

	// The names with a leading "/" move as a directory too: not in one
	// request (EXDEV), so mv copies them and removes the originals.
	sh(t, "mv "+shq(filepath.Join(root, "⧸"))+" "+shq(filepath.Join(root, "fromroot")))
	serverHas("fromroot/lead2", "data of /lead more")
	serverLacks("/lead2")
	lsIs("", "dots", "fromroot", "long", "odd", "w4", "⧸.") // deep went with its last object

	// New names: over 255 bytes is ENAMETOOLONG, as is a shortened name
	// (it stands for a longer one); an escape that stands for nothing is
	// EINVAL. statfs says 255.
	for cmd, want := range map[string]string{
		"touch " + shq(filepath.Join(root, strings.Repeat("N", 300))): "File name too long",
		"touch " + shq(filepath.Join(root, "long", long)):             "File name too long",
		"touch " + shq(filepath.Join(root, "⧸abc")):                   "Invalid argument",
		"mkdir " + shq(filepath.Join(root, "⧸%41")):                   "Invalid argument",
		"mkdir " + shq(filepath.Join(root, "odd", "⧸")):               "Invalid argument",
	} {
		if out, err := shErr(cmd); err == nil || !strings.Contains(out, want) {
			t.Errorf("%s: %v %q, want %s", cmd, err, out, want)
		}
	}
	if got := strings.TrimSpace(sh(t, "stat -f -c %l "+shq(root))); got != "255" {
		t.Errorf("stat -f: name length %s, want 255", got)
	}
}

// TestMountOddNames: names with "//", a leading "/", "." and ".." segments
// and a 300-byte segment, written to `pithosfs serve` over HTTP, are
// listed, read, written, renamed and deleted through a container mount;
// containers named "." and ".." show escaped too.
func TestMountOddNames(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "odd", nil, nil)
	url := func(name string) string { return srv.objectURL(alice, "odd/"+name) }
	st := objectStore{
		put: func(name string, data []byte) {
			resp, body := doHTTP(t, srv.http, http.MethodPut, url(name), alice.Token, data,
				http.Header{"Content-Type": {"text/plain"}})
			if resp.StatusCode/100 != 2 {
				t.Fatalf("PUT %q: %s %s", name, resp.Status, body)
			}
		},
		get: func(name string) ([]byte, int) {
			resp, body := doHTTP(t, srv.http, http.MethodGet, url(name), alice.Token, nil, nil)
			return body, resp.StatusCode
		},
	}
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/odd"})
	checkOddNames(t, m.Dir, st)

	// An rclone symlink dup.rclonelink beside an object dup would show
	// under the same name: it is skipped, and logged once however often
	// the directory is listed.
	st.put("dups/dup", []byte("object"))
	st.put("dups/dup.rclonelink", []byte("target"))
	waitFor(t, 10*time.Second, "dups/ in the mount (after the attribute TTL)", func() bool {
		_, err := os.Stat(filepath.Join(m.Dir, "dups"))
		return err == nil
	})
	for range 3 {
		if got := strings.Fields(sh(t, "ls "+shq(filepath.Join(m.Dir, "dups")))); strings.Join(got, " ") != "dup" {
			t.Errorf("ls dups = %q", got)
		}
		sh(t, "ls -la "+shq(filepath.Join(m.Dir, "dups"))+" > /dev/null")
	}
	if n := strings.Count(m.stderrText(), "listing entry not shown"); n != 1 || !strings.Contains(m.stderrText(), "odd/dups/dup.rclonelink") {
		t.Errorf("the skipped entry was logged %d times:\n%s", n, m.stderrText())
	}

	for _, c := range []string{".", ".."} {
		resp, body := doHTTP(t, srv.http, http.MethodPut, srv.objectURL(alice, c), alice.Token, nil, nil)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT container %q: %s %s", c, resp.Status, body)
		}
	}
	whole := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	acct := filepath.Join(whole.Dir, alice.Name)
	if got := strings.Fields(sh(t, "ls "+shq(acct))); strings.Join(got, " ") != "odd ⧸. ⧸.." {
		t.Errorf("ls of the account = %q", got)
	}
	sh(t, "echo -n inside > "+shq(filepath.Join(acct, "⧸..", "f")))
	if b, err := os.ReadFile(filepath.Join(acct, "⧸..", "f")); err != nil || string(b) != "inside" {
		t.Errorf("a file in container \"..\": %q %v", b, err)
	}
	resp, body := doHTTP(t, srv.http, http.MethodGet, srv.objectURL(alice, "../f"), alice.Token, nil, nil)
	if resp.StatusCode != http.StatusOK || string(body) != "inside" {
		t.Errorf("GET ../f: %s %q", resp.Status, body)
	}
}

// TestMountOddNamesSwift is TestMountOddNames on a real OpenStack Swift,
// which accepts every one of those names.
func TestMountOddNamesSwift(t *testing.T) {
	env := requireSwift(t)
	hc := newHTTPClient()
	token, storage := swiftAuth(t, hc, env.AuthURL, env.Admin)
	container := randomName("pfsodd")
	url := func(name string) string { return storage + "/" + container + "/" + name }
	if resp, body := doHTTP(t, hc, http.MethodPut, storage+"/"+container, token, nil, nil); resp.StatusCode/100 != 2 {
		t.Fatalf("PUT container: %s %s", resp.Status, body)
	}
	var created []string
	t.Cleanup(func() {
		// Best effort: whatever the test left, then the container.
		resp, body := doHTTP(t, hc, http.MethodGet, storage+"/"+container+"?format=plain", token, nil, nil)
		if resp.StatusCode == http.StatusOK {
			created = append(created, strings.Split(strings.TrimSpace(string(body)), "\n")...)
		}
		for _, n := range created {
			doHTTP(t, hc, http.MethodDelete, url(n), token, nil, nil)
		}
		doHTTP(t, hc, http.MethodDelete, storage+"/"+container, token, nil, nil)
	})
	st := objectStore{
		put: func(name string, data []byte) {
			resp, body := doHTTP(t, hc, http.MethodPut, url(name), token, data, http.Header{"Content-Type": {"text/plain"}})
			if resp.StatusCode/100 != 2 {
				t.Fatalf("PUT %q: %s %s", name, resp.Status, body)
			}
		},
		get: func(name string) ([]byte, int) {
			resp, body := doHTTP(t, hc, http.MethodGet, url(name), token, nil, nil)
			return body, resp.StatusCode
		},
	}
	acct := storage[strings.LastIndex(storage, "/")+1:]
	m := startMount(t, mountArgs{URL: env.AuthURL, User: env.Admin.Name, Token: env.Admin.Key})
	checkOddNames(t, filepath.Join(m.Dir, acct, container), st)
}
