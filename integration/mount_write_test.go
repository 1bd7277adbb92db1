package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// get returns an object's bytes through the API (the server's truth).
func (s *serveProc) get(t testing.TB, u cloudUser, path string) []byte {
	t.Helper()
	resp, body := doHTTP(t, s.http, http.MethodGet, s.objectURL(u, path), u.Token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	return body
}

// TestMountWrite: the write path wired to fs/writeback: create, append, overwrite in place, truncate, an
// editor-style save (temp file, fsync, rename over) and cp of a multi-block file; after each close the
// server has the bytes. A 4 KiB write into a multi-block file uploads at most one block.
func TestMountWrite(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "w", nil, nil)
	big := randomBytes(12 << 20)
	srv.put(t, alice, "w/big", big, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	c := filepath.Join(m.Dir, alice.Name, "w")

	sh(t, "echo hello > "+shq(filepath.Join(c, "new.txt")))
	if got := string(srv.get(t, alice, "w/new.txt")); got != "hello\n" {
		t.Fatalf("server after echo >: %q", got)
	}
	for range 100 {
		sh(t, "echo line >> "+shq(filepath.Join(c, "new.txt")))
	}
	want := "hello\n" + strings.Repeat("line\n", 100)
	if got := string(srv.get(t, alice, "w/new.txt")); got != want {
		t.Fatalf("server after 100 appends: %d bytes, want %d", len(got), len(want))
	}
	if got := sh(t, "cat "+shq(filepath.Join(c, "new.txt"))); got != want {
		t.Fatalf("cat after appends: %d bytes", len(got))
	}

	// 4 KiB in the middle of a 12 MiB file: one block uploaded.
	before := m.stats(t)
	patch := bytes.Repeat([]byte{'Z'}, 4096)
	if err := os.WriteFile(filepath.Join(t.TempDir(), "p"), patch, 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "printf 'Z%.0s' $(seq 4096) | dd of="+shq(filepath.Join(c, "big"))+" bs=4096 seek=1000 conv=notrunc status=none")
	after := m.stats(t)
	copy(big[1000*4096:], patch)
	if got := srv.get(t, alice, "w/big"); !bytes.Equal(got, big) {
		t.Fatal("server content after the in-place write differs")
	}
	if up := after.RequestsByKind["post_container"] - before.RequestsByKind["post_container"]; up > 1 {
		t.Errorf("a 4 KiB in-place write uploaded %d blocks, want ≤ 1", up)
	}

	sh(t, "truncate -s 5000000 "+shq(filepath.Join(c, "big")))
	if got := srv.get(t, alice, "w/big"); !bytes.Equal(got, big[:5000000]) {
		t.Fatalf("after truncate: %d bytes", len(got))
	}

	// Editor-style save.
	tmp := filepath.Join(c, ".new.txt.swp")
	sh(t, "printf 'saved\\n' > "+shq(tmp)+" && sync "+shq(tmp)+" && mv "+shq(tmp)+" "+shq(filepath.Join(c, "new.txt")))
	if got := string(srv.get(t, alice, "w/new.txt")); got != "saved\n" {
		t.Fatalf("after the editor-style save: %q", got)
	}

	local := filepath.Join(t.TempDir(), "src")
	data := randomBytes(9<<20 + 3)
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "cp "+shq(local)+" "+shq(filepath.Join(c, "copied")))
	if got := srv.get(t, alice, "w/copied"); !bytes.Equal(got, data) {
		t.Fatalf("server copy differs (%d bytes)", len(got))
	}
	sh(t, "cmp "+shq(local)+" "+shq(filepath.Join(c, "copied")))
	sh(t, "rm "+shq(filepath.Join(c, "copied")))
	if _, err := os.Stat(filepath.Join(c, "copied")); !os.IsNotExist(err) {
		t.Errorf("stat after rm: %v", err)
	}
}
