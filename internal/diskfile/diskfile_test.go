package diskfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAtomicReplaces: the file holds the new content with the mode
// asked for, and no temporary file is left beside it.
func TestWriteAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "record")
	for i, content := range []string{"first", "second, longer", ""} {
		perm := os.FileMode(0o600)
		if i == 1 {
			perm = 0o644
		}
		if err := WriteAtomic(p, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("after write %d: %q, %v; want %q", i, got, err, content)
		}
		st, _ := os.Stat(p)
		if st.Mode().Perm() != perm {
			t.Fatalf("after write %d: mode %v, want %v", i, st.Mode().Perm(), perm)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the file", len(ents))
	}
}

// TestWriteAtomicFailsCleanly: a missing directory is an error, and nothing
// is created.
func TestWriteAtomicFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAtomic(filepath.Join(dir, "no", "such"), []byte("x"), 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left %d entries behind", len(ents))
	}
}
