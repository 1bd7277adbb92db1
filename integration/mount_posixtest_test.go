package integration

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hanwen/go-fuse/v2/posixtest"
)

// posixtestByDesign are the cases of go-fuse's posixtest suite that cannot pass on pithosfs, with why.
// Every other case runs (a new case in a go-fuse upgrade runs too, and fails until it passes or is
// named here).
var posixtestByDesign = map[string]string{
	"Link":             "hard links are not supported: link(2) gives EPERM (docs/semantics.md)",
	"LinkUnlinkRename": "hard links are not supported: link(2) gives EPERM (docs/semantics.md)",
	// The case takes a write lock through one descriptor and expects a read lock through another of
	// the same process to fail; POSIX record locks never conflict within one process (it fails on
	// ext4 too), and go-fuse's own run of the suite leaves it out.
	"FcntlFlockLocksFile": "POSIX record locks never conflict within one process: the case expects they do",
}

// TestMountPosixTest runs go-fuse's own POSIX conformance cases (posixtest.All) against a real mount
// of `pithosfs serve`, each in a fresh directory of a container.
func TestMountPosixTest(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "px", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "px")
	names := make([]string, 0, len(posixtest.All))
	for n := range posixtest.All {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if _, skip := posixtestByDesign[n]; skip {
			continue
		}
		t.Run(n, func(t *testing.T) {
			dir := filepath.Join(c, n)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			posixtest.All[n](t, dir)
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("removing %s: %v", dir, err)
			}
		})
	}
}

// TestMountPosixTestByDesign checks that the cases left out of TestMountPosixTest still fail for the
// reason given: a case that starts passing must leave the list.
func TestMountPosixTestByDesign(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "px", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "px")
	if err := os.WriteFile(filepath.Join(c, "a"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := os.Link(filepath.Join(c, "a"), filepath.Join(c, "b"))
	if !os.IsPermission(err) {
		t.Errorf("link(2): %v, want EPERM (posixtestByDesign says hard links are refused)", err)
	}
}
