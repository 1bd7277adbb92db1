package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upStats is the part of stats.json a restore is judged by.
type upStats struct {
	BytesUp        int64            `json:"bytes_up"`
	RequestsByKind map[string]int64 `json:"requests_by_kind"`
}

func readUpStats(t *testing.T, mnt string) upStats {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(mnt, ".pithosfs", "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s upStats
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// versionEntries lists a versions directory in readdir order (newest
// first), regular files only.
func versionEntries(t *testing.T, dir string) []os.FileInfo {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	var out []os.FileInfo
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			out = append(out, fi)
		}
	}
	return out
}

// checkVersions: dir lists one file per entry of want (newest first), with
// its size, times that do not increase, and its bytes (cmp).
func checkVersions(t *testing.T, dir string, want [][]byte) []string {
	t.Helper()
	vs := versionEntries(t, dir)
	if len(vs) != len(want) {
		t.Fatalf("%s: %d versions, want %d:\n%s", dir, len(vs), len(want), sh(t, "ls -l "+shq(dir)))
	}
	var paths []string
	for i, fi := range vs {
		p := filepath.Join(dir, fi.Name())
		paths = append(paths, p)
		if fi.Size() != int64(len(want[i])) || fi.Mode().Perm() != 0o444 {
			t.Errorf("version %d %s: %d bytes mode %v, want %d bytes 0444", i, fi.Name(), fi.Size(), fi.Mode(), len(want[i]))
		}
		if i > 0 && fi.ModTime().After(vs[i-1].ModTime()) {
			t.Errorf("version %d (%v) is newer than version %d (%v)", i, fi.ModTime(), i-1, vs[i-1].ModTime())
		}
		local := filepath.Join(t.TempDir(), "want")
		if err := os.WriteFile(local, want[i], 0o644); err != nil {
			t.Fatal(err)
		}
		sh(t, "cmp "+shq(local)+" "+shq(p))
	}
	return paths
}

// restoreNoBytes copies version onto dst with cp and checks that no byte
// went up (a server-side copy: stats.json's bytes_up and copy_move).
func restoreNoBytes(t *testing.T, mnt, version, dst string, want []byte) {
	t.Helper()
	before := readUpStats(t, mnt)
	sh(t, "cp "+shq(version)+" "+shq(dst))
	after := readUpStats(t, mnt)
	if up := after.BytesUp - before.BytesUp; up != 0 {
		t.Errorf("cp of a version sent %d bytes up (kinds before %v, after %v)", up, before.RequestsByKind, after.RequestsByKind)
	}
	if n := after.RequestsByKind["copy_move"] - before.RequestsByKind["copy_move"]; n != 1 {
		t.Errorf("cp of a version made %d server-side copies, want 1", n)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s after the restore: %d bytes (%v), want %d", dst, len(got), err, len(want))
	}
}

// TestMountHistory: the versions of a file as read-only files, a restore
// by cp that sends no block bytes, undelete from .pithosfs/deleted, and a
// time-travel mount (--at) that shows the past and refuses writes.
func TestMountHistory(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "c")
	doc := filepath.Join(c, "doc.bin")
	v := [][]byte{randomBytes(5<<20 + 17), randomBytes(1 << 20), randomBytes(9<<20 + 3)}
	if err := os.WriteFile(doc, v[0], 0o644); err != nil {
		t.Fatal(err)
	}
	// until is in whole seconds: at is after v1 and before v2.
	at := time.Now().Unix() + 1
	for time.Now().Unix() <= at {
		time.Sleep(50 * time.Millisecond)
	}
	for _, d := range v[1:] {
		if err := os.WriteFile(doc, d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(c, "later.txt"), []byte("later"), 0o644); err != nil {
		t.Fatal(err)
	}

	vdir := filepath.Join(m.Dir, ".pithosfs", "versions", "c", "doc.bin")
	paths := checkVersions(t, vdir, [][]byte{v[2], v[1], v[0]})
	if ls := sh(t, "ls "+shq(filepath.Join(m.Dir, ".pithosfs", "versions", "c"))); !strings.Contains(ls, "doc.bin") || !strings.Contains(ls, "later.txt") {
		t.Errorf("versions/c lists:\n%s", ls)
	}
	// Versions are read-only as the rest of .pithosfs.
	checkRefused(t, paths[0], virtualRefusals(paths[0], false, c))
	checkRefused(t, vdir, virtualRefusals(vdir, true, c))

	restoreNoBytes(t, m.Dir, paths[2], doc, v[0])
	checkVersions(t, vdir, [][]byte{v[0], v[2], v[1], v[0]})

	// Undelete.
	gone := filepath.Join(c, "gone.txt")
	if err := os.WriteFile(gone, []byte("deleted, not lost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	ddir := filepath.Join(m.Dir, ".pithosfs", "deleted", "c")
	if ls := sh(t, "ls "+shq(ddir)); ls != "gone.txt\n" {
		t.Errorf("deleted/c lists %q, want gone.txt", ls)
	}
	dv := checkVersions(t, filepath.Join(ddir, "gone.txt"), [][]byte{[]byte("deleted, not lost\n")})
	restoreNoBytes(t, m.Dir, dv[0], gone, []byte("deleted, not lost\n"))
	if ls := sh(t, "ls -A "+shq(ddir)); ls != "" {
		t.Errorf("deleted/c after the undelete lists %q", ls)
	}

	// Time travel: the mount as it was at "at".
	past := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--at", strconv.FormatInt(at, 10)}})
	pc := filepath.Join(past.Dir, alice.Name, "c")
	sh(t, "cmp "+shq(filepath.Join(pc, "doc.bin"))+" "+shq(paths[2]))
	if ls := sh(t, "ls "+shq(pc)); ls != "doc.bin\n" {
		t.Errorf("--at lists %q, want only doc.bin", ls)
	}
	if _, err := os.Stat(filepath.Join(pc, "later.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file created later, under --at: %v", err)
	}
	fi1, err1 := os.Stat(filepath.Join(pc, "doc.bin"))
	fi2, err2 := os.Stat(filepath.Join(pc, "doc.bin"))
	if err1 != nil || err2 != nil || fi1.Size() != int64(len(v[0])) || fi1.Sys().(*syscall.Stat_t).Ino != fi2.Sys().(*syscall.Stat_t).Ino {
		t.Errorf("--at stat: %v %v %v", fi1, err1, err2)
	}
	for what, err := range map[string]error{
		"write":  os.WriteFile(filepath.Join(pc, "doc.bin"), []byte("x"), 0o644),
		"create": os.WriteFile(filepath.Join(pc, "new.txt"), []byte("x"), 0o644),
		"rm":     os.Remove(filepath.Join(pc, "doc.bin")),
		"mkdir":  os.Mkdir(filepath.Join(pc, "d"), 0o755),
	} {
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s under --at: %v, want EROFS", what, err)
		}
	}
	if got, err := os.ReadFile(doc); err != nil || !bytes.Equal(got, v[0]) {
		t.Errorf("the present changed: %d bytes %v", len(got), err)
	}
}
