package integration

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountReadQuietAndZeros reads, at the default log level, an object whose first block ends in zeros (the
// cache stores it stripped, so replies mix cached bytes with zeros) with reads that cross the block boundary:
// every byte is right, and the reads log nothing (go-fuse used to log a failed splice for every 1 MiB read).
func TestMountReadQuietAndZeros(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "data", nil, nil)
	data := append(append(randomBytes(3<<20), make([]byte, 2<<20)...), randomBytes(3<<20+12345)...)
	srv.put(t, alice, "data/zeros", data, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--log-level", "info"}})
	p := filepath.Join(m.Dir, alice.Name, "data", "zeros")
	sh(t, "stat "+shq(p)+" > /dev/null")
	before := m.stderrText()

	if sum := strings.Fields(sh(t, "cat "+shq(p)+" | sha256sum"))[0]; sum != sha256hex(data) {
		t.Fatalf("cat | sha256sum = %s, want %s", sum, sha256hex(data))
	}
	for _, r := range []struct{ off, n int }{
		{3<<20 - 100, 200},         // stored bytes, then zeros, in one block
		{4<<20 - 4096, 1 << 20},    // zeros at the end of block 0, then block 1
		{4<<20 - 1, 2},             // one byte each side of the boundary
		{0, len(data)},             // everything in 1 MiB reads
		{5<<20 - 7, 3<<20 + 12352}, // from block 1 to the end
	} {
		out := sh(t, fmt.Sprintf("dd if=%s bs=1M skip=%d count=%d iflag=skip_bytes,count_bytes,direct status=none | sha256sum",
			shq(p), r.off, r.n))
		if f := strings.Fields(out)[0]; f != sha256hex(data[r.off:r.off+r.n]) {
			t.Errorf("dd at %d+%d: sha256 %s, want %s", r.off, r.n, f, sha256hex(data[r.off:r.off+r.n]))
		}
	}
	logged := strings.TrimPrefix(m.stderrText(), before)
	if strings.Contains(logged, "trySplice") || bytes.Count([]byte(logged), []byte("\n")) > 2 {
		t.Errorf("reads logged at the default level:\n%s", logged)
	}
}
