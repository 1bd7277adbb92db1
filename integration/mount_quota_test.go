package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountQuotaEDQUOT: with alice at her storage limit (her base project's
// pithos.diskspace), cp of one more file through the mount fails with
// EDQUOT ("Disk quota exceeded"), as the server's 413 says; rm of a file
// frees the quota and the same cp then succeeds.
func TestMountQuotaEDQUOT(t *testing.T) {
	srv := startServeQuota(t, 3<<20)
	srv.put(t, alice, "c", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/c", CacheDir: filepath.Join(t.TempDir(), "cache")})
	src := filepath.Join(t.TempDir(), "two.bin")
	if err := os.WriteFile(src, randomBytes(2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "cp "+shq(src)+" "+shq(filepath.Join(m.Dir, "first.bin")))
	out, err := shErr("cp " + shq(src) + " " + shq(filepath.Join(m.Dir, "second.bin")))
	if err == nil || !strings.Contains(out, "Disk quota exceeded") {
		t.Fatalf("cp over the quota: %v: %q, want Disk quota exceeded", err, out)
	}
	sh(t, "rm "+shq(filepath.Join(m.Dir, "first.bin")))
	// The refused commit is kept under .pithosfs/uploads/failed; this one
	// is a new name.
	sh(t, "cp "+shq(src)+" "+shq(filepath.Join(m.Dir, "third.bin"))+" && cmp "+shq(src)+" "+shq(filepath.Join(m.Dir, "third.bin")))
}
