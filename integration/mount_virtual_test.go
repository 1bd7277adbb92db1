package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// refusal is one shell command a user might try on a virtual path, and the
// messages (strerror texts) it may fail with.
type refusal struct {
	cmd  string
	want []string
}

var (
	eperm  = []string{"Operation not permitted"}
	eacces = []string{"Permission denied"}
	either = []string{"Operation not permitted", "Permission denied"}
)

// virtualRefusals lists what is tried on path p, a virtual directory or
// file. other is a writable directory of the same mount (for ln and mv).
func virtualRefusals(p string, dir bool, other string) []refusal {
	q := shq(p)
	rs := []refusal{
		{"mv " + q + " " + shq(p+".moved"), eperm},
		{"mv " + q + " " + shq(filepath.Join(other, "moved")), either},
		{"chmod 700 " + q, eperm},
		{"chown :0 " + q, eperm},
	}
	// touch opens a file for writing first (EACCES: read-only), a
	// directory not.
	if dir {
		rs = append(rs, refusal{"touch " + q, eperm}, refusal{"touch -d 2001-01-01 " + q, eperm})
	} else {
		rs = append(rs, refusal{"touch " + q, either}, refusal{"touch -d 2001-01-01 " + q, either})
	}
	if dir {
		return append(rs,
			refusal{"rmdir " + q, eperm},
			refusal{"rm -rf " + q, eperm},
			refusal{"mkdir " + shq(filepath.Join(p, "new")), either},
			refusal{"ln -s /etc " + shq(filepath.Join(p, "link")), either},
		)
	}
	return append(rs,
		refusal{"rm -f " + q, eperm},
		refusal{"> " + q, either},
		refusal{"truncate -s 0 " + q, either},
		refusal{"ln " + q + " " + shq(filepath.Join(other, "hard")), eperm},
		refusal{"ln " + q + " " + shq(p+".hard"), eperm},
	)
}

// checkRefused runs each refusal: it must fail with one of its messages,
// and path must still be there afterwards.
func checkRefused(t *testing.T, path string, rs []refusal) {
	t.Helper()
	for _, r := range rs {
		out, err := shErr(r.cmd)
		if err == nil {
			t.Errorf("%s: succeeded (%q), want refused", r.cmd, out)
		} else if !containsAny(out, r.want) {
			t.Errorf("%s: %v: %q, want one of %q", r.cmd, err, strings.TrimSpace(out), r.want)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("after %s: %v", r.cmd, err)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestMountVirtualTreesRefuseChanges: on a whole-cloud mount, every virtual
// path (.pithosfs and everything in it, the control trees servers/,
// images/, flavors/, networks/ with their .last-error files and resource
// files, the account directory) is tried with rm, rmdir, mv, chmod, chown,
// touch, ln, mkdir, truncate and ">": each is refused with EPERM or EACCES,
// the path stays, and the mount still lists (no handler panics on a node a
// refused operation would have dropped).
func TestMountVirtualTreesRefuseChanges(t *testing.T) {
	srv := startServe(t)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	root := m.Dir
	other := filepath.Join(root, alice.Name, "c")
	sh(t, "mkdir "+shq(other))
	ctl := filepath.Join(root, ".pithosfs")
	type vpath struct {
		rel string
		dir bool
	}
	paths := []vpath{
		{".pithosfs/stats.json", false}, {".pithosfs/uploads.json", false}, {".pithosfs/uploads/status", false},
		{".pithosfs/uploads/failed", true}, {".pithosfs/uploads", true}, {".pithosfs", true},
		{".pithosfs/versions", true}, {".pithosfs/deleted", true},
		{"servers/.last-error", false}, {"images/.last-error", false},
		{"servers", true}, {"images", true}, {"flavors", true}, {"networks", true},
	}
	flavor := strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(root, "flavors"))+" | head -1"))
	if flavor == "" {
		t.Fatal("no flavor listed")
	}
	for _, p := range paths {
		full := filepath.Join(root, p.rel)
		checkRefused(t, full, virtualRefusals(full, p.dir, other))
	}
	// A resource file: no mode to change, no links, no rename.
	fl := filepath.Join(root, "flavors", flavor)
	checkRefused(t, fl, []refusal{
		{"chmod 600 " + shq(fl), eperm},
		{"mv " + shq(fl) + " " + shq(fl+".x"), eperm},
		{"ln " + shq(fl) + " " + shq(fl+".hard"), eperm},
	})
	// The account directory (where mkdir makes containers) is not removed
	// or renamed, and holds no files or links.
	acct := filepath.Join(root, alice.Name)
	checkRefused(t, acct, []refusal{
		{"rmdir " + shq(acct), eperm},
		{"mv " + shq(acct) + " " + shq(acct+".x"), eperm},
		{"chmod 700 " + shq(acct), eperm},
		{"touch " + shq(acct), eperm},
		{"> " + shq(filepath.Join(acct, "f")), eperm},
		{"ln -s x " + shq(filepath.Join(acct, "l")), eperm},
	})
	// New names in the read-only .pithosfs tree.
	for _, d := range []string{".pithosfs", ".pithosfs/uploads", ".pithosfs/uploads/failed"} {
		n := filepath.Join(root, d, "new")
		for _, cmd := range []string{"> " + shq(n), "touch " + shq(n), "mkdir " + shq(n), "ln -s x " + shq(n)} {
			if out, err := shErr(cmd); err == nil || !containsAny(out, eacces) {
				t.Errorf("%s: %v %q, want Permission denied", cmd, err, out)
			}
		}
		if _, err := os.Lstat(n); err == nil {
			t.Errorf("%s exists after the refused creates", n)
		}
	}
	// Everything still lists, including the mount's root after rmdir of
	// each control tree was refused.
	ls := sh(t, "ls -a "+shq(root))
	for _, n := range []string{".pithosfs", "servers", "images", "flavors", "networks", alice.Name} {
		if !strings.Contains(ls, n) {
			t.Errorf("ls -a of the root = %q, missing %s", ls, n)
		}
	}
	if got := strings.Fields(sh(t, "ls "+shq(ctl))); strings.Join(got, " ") != "deleted stats.json uploads uploads.json versions" {
		t.Errorf("ls .pithosfs = %q", got)
	}
	sh(t, "ls -la "+shq(filepath.Join(ctl, "uploads"))+" "+shq(filepath.Join(root, "servers"))+" >/dev/null && cat "+
		shq(filepath.Join(ctl, "stats.json"))+" >/dev/null")
	if strings.Contains(m.stderrText(), "panic") {
		t.Fatalf("the mount logged a panic:\n%s", m.stderrText())
	}
}

// TestMountContainerControlDirRefused: at the root of a container mount,
// .pithosfs cannot be removed, renamed or changed either.
func TestMountContainerControlDirRefused(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "box", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/box"})
	ctl := filepath.Join(m.Dir, ".pithosfs")
	checkRefused(t, ctl, virtualRefusals(ctl, true, m.Dir))
	checkRefused(t, filepath.Join(ctl, "stats.json"), virtualRefusals(filepath.Join(ctl, "stats.json"), false, m.Dir))
	if got := strings.Fields(sh(t, "ls "+shq(ctl))); strings.Join(got, " ") != "deleted stats.json uploads uploads.json versions" {
		t.Errorf("ls .pithosfs = %q", got)
	}
}

// TestMountEmptyControlWrite: an empty or white-space-only document written
// to a new control file creates nothing: touch (which checks close) fails
// with EINVAL, tee too, and .last-error gives the reason, in servers/ and
// images/ alike.
func TestMountEmptyControlWrite(t *testing.T) {
	srv := startServe(t)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	for _, d := range []string{"servers", "images"} {
		dir := filepath.Join(m.Dir, d)
		lastErr := filepath.Join(dir, ".last-error")
		sh(t, ": > "+shq(filepath.Join(dir, "colon.json"))) // bash does not check close; .last-error says why
		waitFor(t, 10*time.Second, "the empty document in "+lastErr, func() bool {
			b, _ := os.ReadFile(lastErr)
			return strings.Contains(string(b), "colon.json") && strings.Contains(string(b), "empty document")
		})
		for _, cmd := range []string{
			"touch " + shq(filepath.Join(dir, "touched.json")),
			"printf '  \\n\\t' | tee " + shq(filepath.Join(dir, "blank.json")),
		} {
			out, err := shErr(cmd)
			if err == nil || !strings.Contains(out, "Invalid argument") {
				t.Errorf("%s: %v %q, want Invalid argument", cmd, err, out)
			}
		}
		b, err := os.ReadFile(lastErr)
		if err != nil || !strings.Contains(string(b), "empty document") {
			t.Errorf("%s = %q, %v", lastErr, b, err)
		}
		ls := sh(t, "ls "+shq(dir))
		for _, n := range []string{"colon.json", "touched.json", "blank.json"} {
			if strings.Contains(ls, n) {
				t.Errorf("ls %s = %q: %s was created", dir, ls, n)
			}
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
