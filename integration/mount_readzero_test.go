package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountReadZeroTails reads objects whose blocks end in zeros (the cache
// keeps them stripped; the mount serves the zeros without storing them):
// whole-file sums, and reads at offsets straddling the stored bytes, the
// zero tail and block boundaries, each on a fresh open.
func TestMountReadZeroTails(t *testing.T) {
	const mib = 1 << 20
	srv := startServe(t)
	srv.put(t, alice, "z", nil, nil)
	sparse := make([]byte, 12*mib+5000)
	copy(sparse, randomBytes(mib))                  // block 0: 1 MiB of data, 3 MiB of zeros
	copy(sparse[8*mib+4096:], randomBytes(100_000)) // block 1: zeros; block 2: zeros, data, zeros
	sparse[len(sparse)-2000] = 7                    // block 3 (short): data then zeros
	files := map[string][]byte{
		"sparse": sparse,
		"zeros":  make([]byte, 4*mib+3),
	}
	for name, data := range files {
		srv.put(t, alice, "z/"+name, data, nil)
	}
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	root := filepath.Join(m.Dir, alice.Name, "z")
	for name, data := range files {
		if sum := strings.Fields(sh(t, "sha256sum "+shq(filepath.Join(root, name))))[0]; sum != sha256hex(data) {
			t.Errorf("sha256sum %s = %s, want %s", name, sum, sha256hex(data))
		}
	}
	reads := [][2]int{{0, 2 * mib}, {mib - 10, 20}, {mib, 4096}, {4*mib - 100, 200}, {8*mib + 4000, 200_000},
		{12*mib - 1, 5001}, {12*mib + 2999, 2001}, {3 * mib, 6 * mib}}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10 {
		n := 1 + rng.IntN(3*mib)
		reads = append(reads, [2]int{rng.IntN(len(sparse) - n), n})
	}
	for _, r := range reads {
		off, n := r[0], r[1]
		out := sh(t, fmt.Sprintf("dd if=%s bs=1M skip=%d count=%d iflag=skip_bytes,count_bytes status=none | sha256sum",
			shq(filepath.Join(root, "sparse")), off, n))
		if got := strings.Fields(out)[0]; got != sha256hex(sparse[off:off+n]) {
			t.Errorf("dd at %d+%d: sha256 %s, want %s", off, n, got, sha256hex(sparse[off:off+n]))
		}
	}
	var st struct {
		Cache struct {
			MemBytes int64 `json:"mem_bytes"`
		} `json:"cache"`
	}
	data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json"))
	if err != nil || json.Unmarshal(data, &st) != nil {
		t.Fatalf("stats.json: %v\n%s", err, data)
	}
	if st.Cache.MemBytes > 2*mib+200_000 {
		t.Errorf("memory tier holds %d bytes: zero tails were stored", st.Cache.MemBytes)
	}
}
