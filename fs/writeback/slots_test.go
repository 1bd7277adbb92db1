package writeback

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// TestSlotReusedReadsItsBlockOnly: a slot given back and issued again for a shorter block reads as that
// block's bytes, then zeros — not as the tail of the block it held before — whether the block before it
// was written with O_DIRECT (a whole aligned block) or through the page cache, and the slots around it
// are untouched.
func TestSlotReusedReadsItsBlockOnly(t *testing.T) {
	const bs = 1 << 20
	dir := t.TempDir()
	aligned := func(fill byte) []byte {
		buf := make([]byte, bs+diskfile.Align)
		skip := (diskfile.Align - int(uintptr(unsafe.Pointer(&buf[0]))%diskfile.Align)) % diskfile.Align
		b := buf[skip : skip+bs]
		for i := range b {
			b[i] = fill
		}
		return b
	}
	for k, fill := range []byte{0xa0, 0xa1, 0xa2} {
		if err := refOf(dir, slotName(int64(k)), bs).put(aligned(fill)); err != nil {
			t.Fatal(err)
		}
	}
	for _, short := range [][]byte{bytes.Repeat([]byte{7}, 100<<10), nil} {
		if err := refOf(dir, slotName(1), bs).put(short); err != nil {
			t.Fatal(err)
		}
		got, err := refOf(dir, slotName(1), bs).readAll()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:len(short)], short) || bytes.ContainsFunc(got[len(short):], func(r rune) bool { return r != 0 }) {
			t.Fatalf("slot 1 reused for %d bytes reads wrong past them", len(short))
		}
	}
	for k, fill := range map[int64]byte{0: 0xa0, 2: 0xa2} {
		got, err := refOf(dir, slotName(k), bs).readAll()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, bytes.Repeat([]byte{fill}, bs)) {
			t.Fatalf("slot %d changed by slot 1's writes", k)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != slotsFile {
		t.Fatalf("journal directory holds %d entries, want the one slots file", len(entries))
	}
	if st, err := os.Stat(filepath.Join(dir, slotsFile)); err != nil || st.Size() != 3*bs {
		t.Fatalf("slots file: %v, %v; want %d bytes", st, err, 3*bs)
	}
}

// TestLegacyBlockFileRead: a record of an earlier build names a block file of its own (b<n>), read from
// its offset 0 and zero-extended, so a journal left by it is still recovered.
func TestLegacyBlockFileRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b7"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &record{BlockSize: 8, Blocks: map[int64]string{3: "b7"}}
	dst := make([]byte, 8)
	if ok, err := r.readHeld(dir, 3, 0, dst); !ok || err != nil || string(dst) != "old\x00\x00\x00\x00\x00" {
		t.Fatalf("readHeld of a b7 file: %v, %v, %q", ok, err, dst)
	}
}
