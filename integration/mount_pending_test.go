package integration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMountUploadsShowOpenFiles: a file half written and still open is in
// .pithosfs/uploads/status and uploads.json with state open and its dirty
// bytes; after close it is gone from both.
func TestMountUploadsShowOpenFiles(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "u", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/u"})
	// Read once before: the status a reader saw earlier must not stick.
	statusPath := filepath.Join(m.Dir, ".pithosfs", "uploads", "status")
	if b, err := os.ReadFile(statusPath); err != nil || !strings.Contains(string(b), "no pending uploads") {
		t.Fatalf("uploads/status before writing: %q, %v", b, err)
	}
	f, err := os.Create(filepath.Join(m.Dir, "half.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := randomBytes(1 << 20)
	for range 50 {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	// Read without starting a process: a fork closes a copy of f's
	// descriptor in the child, and that close is a FUSE flush (a commit).
	b, err := os.ReadFile(statusPath)
	status := string(b)
	if err != nil || !strings.Contains(status, "open") || !strings.Contains(status, "u/half.bin") {
		t.Errorf("uploads/status while half.bin is open with 50 MiB written:\n%s", status)
	}
	ups := m.pendingUploads(t)
	if len(ups) != 1 || ups[0]["state"] != "open" || ups[0]["name"] != "half.bin" {
		t.Fatalf("uploads.json = %v", ups)
	}
	if db, _ := ups[0]["dirty_bytes"].(float64); db != 50<<20 {
		t.Errorf("dirty_bytes = %v, want %d", ups[0]["dirty_bytes"], 50<<20)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if ups := m.pendingUploads(t); len(ups) != 0 {
		t.Errorf("uploads.json after close = %v", ups)
	}
}

// TestMountRefusedCommitFailsAtOnce: a commit the server refuses for good
// (400 "Object name too large": the path is over Pithos' 1024 bytes though
// each name is under 255) fails close() with EIO and is under
// .pithosfs/uploads/failed/ at once with the server's reason, never
// "retrying"; its data reads back from there.
func TestMountRefusedCommitFailsAtOnce(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "r", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/r"})
	dir := m.Dir
	for i := range 4 {
		dir = filepath.Join(dir, strings.Repeat(string(rune('a'+i)), 240))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, strings.Repeat("f", 100)) // 4*241 + 100 bytes: over 1024
	data := randomBytes(3<<20 + 7)
	err := os.WriteFile(p, data, 0o644)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("writing a file whose path is over 1024 bytes: %v, want EIO", err)
	}
	ups := m.pendingUploads(t)
	if len(ups) != 1 || ups[0]["state"] != "failed" || !strings.Contains(ups[0]["error"].(string), "Object name too large") {
		t.Fatalf("uploads.json = %v, want one failed with the server's reason", ups)
	}
	failed := filepath.Join(m.Dir, ".pithosfs", "uploads", "failed")
	ents, err := os.ReadDir(failed)
	if err != nil || len(ents) != 1 {
		t.Fatalf("ls uploads/failed: %v, %v", ents, err)
	}
	entry := filepath.Join(failed, ents[0].Name())
	if reason := sh(t, "cat "+shq(filepath.Join(entry, "reason"))); !strings.Contains(reason, "Object name too large") {
		t.Errorf("reason = %q", reason)
	}
	saved := filepath.Join(t.TempDir(), "saved")
	sh(t, "cp "+shq(filepath.Join(entry, "data"))+" "+shq(saved))
	if got, _ := os.ReadFile(saved); string(got) != string(data) {
		t.Errorf("failed data: %d bytes, want the %d written", len(got), len(data))
	}
	if status := sh(t, "cat "+shq(filepath.Join(m.Dir, ".pithosfs", "uploads", "status"))); strings.Contains(status, "retrying") {
		t.Errorf("uploads/status:\n%s", status)
	}
}
