package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// passthroughStats is the part of stats.json about object files.
type passthroughStats struct {
	Reads            int64 `json:"reads"`
	OpensPassthrough int64 `json:"opens_passthrough"`
	OpensPageCache   int64 `json:"opens_page_cache"`
	Cache            struct {
		Fetches           int64 `json:"fetches"`
		DiskHits          int64 `json:"disk_hits"`
		ObjectFiles       int64 `json:"object_files_assembled"`
		ObjectFileOpens   int64 `json:"object_file_opens"`
		ObjectsAssembling int64 `json:"objects_assembling"`
		DiskBytes         int64 `json:"disk_bytes"`
	} `json:"cache"`
}

func ptStats(t testing.TB, m *mountProc) passthroughStats {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json"))
	var st passthroughStats
	if err != nil || json.Unmarshal(data, &st) != nil {
		t.Fatalf("stats.json: %v", err)
	}
	return st
}

// waitAssembled waits (up to 30 s) until the mount has assembled n object files.
func waitAssembled(t testing.TB, m *mountProc, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := ptStats(t, m)
		if st.Cache.ObjectFiles >= n && st.Cache.ObjectsAssembling == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("object files assembled: %d, want %d (stats %+v)", st.Cache.ObjectFiles, n, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMountPassthrough reads an object (with a run of zeros) whole with cat; the mount then assembles it into
// one sparse file in its disk cache. The next open reads the pages the cold read left in the kernel's cache (no
// READ reaches the daemon); once the page cache is dropped, opens are served by FUSE passthrough: the kernel
// reads that file, no READ reaches the daemon, the bytes are right. With
// --passthrough=false the same re-read goes through the daemon, served from the object file with no fetch.
func TestMountPassthrough(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "data", nil, nil)
	data := append(append(randomBytes(5<<20), make([]byte, 8<<20)...), randomBytes(3<<20+777)...)
	srv.put(t, alice, "data/obj", data, nil)
	want := sha256hex(data)

	for _, tc := range []struct {
		name        string
		extra       []string
		passthrough bool
	}{
		{"passthrough", nil, true},
		{"through the daemon", []string{"--passthrough=false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: tc.extra})
			p := filepath.Join(m.Dir, alice.Name, "data", "obj")
			if sum := strings.Fields(sh(t, "cat "+shq(p)+" | sha256sum"))[0]; sum != want {
				t.Fatalf("cold read: sha256 %s, want %s", sum, want)
			}
			waitAssembled(t, m, 1)
			files, _ := filepath.Glob(filepath.Join(m.CacheDir, "blocks", "objects", "x*[0-9a-f]")) // not x….hosts
			if len(files) != 1 {
				t.Fatalf("object files: %v", files)
			}
			var st0 = ptStats(t, m)
			var fst syscall.Stat_t
			if err := syscall.Stat(files[0], &fst); err != nil || fst.Size != int64(len(data)) || fst.Blocks*512 > int64(len(data))-(6<<20) {
				t.Errorf("object file: %d bytes taking %d (want %d, sparse over the 8 MiB of zeros): %v", fst.Size, fst.Blocks*512, len(data), err)
			}
			// Read again at once: the kernel's pages, which the cold read filled through the daemon, serve it
			// (no READ reaches the daemon); passthrough takes over from the next open.
			if sum := strings.Fields(sh(t, "cat "+shq(p)+" | sha256sum"))[0]; sum != want {
				t.Fatalf("second read: sha256 %s, want %s", sum, want)
			}
			st := ptStats(t, m)
			if d, pt := st.OpensPageCache-st0.OpensPageCache, st.OpensPassthrough-st0.OpensPassthrough; (tc.passthrough && d != 1) || (!tc.passthrough && d != 0) || pt != 0 || st.Reads != st0.Reads {
				t.Errorf("second read: %d opens kept the page cache (want %v), %d passthrough (want 0), %d FUSE READs (want 0)",
					d, map[bool]int{true: 1, false: 0}[tc.passthrough], pt, st.Reads-st0.Reads)
			}
			sh(t, "sync && echo 3 > /proc/sys/vm/drop_caches")
			for range 2 {
				if sum := strings.Fields(sh(t, "cat "+shq(p)+" | sha256sum"))[0]; sum != want {
					t.Fatalf("re-read: sha256 %s, want %s", sum, want)
				}
			}
			out := sh(t, "dd if="+shq(p)+" bs=4096 skip=1279 count=3 status=none | sha256sum")
			if f := strings.Fields(out)[0]; f != sha256hex(data[1279*4096:1282*4096]) {
				t.Errorf("dd across the end of the data into the zeros: %s", f)
			}
			// O_DIRECT with offsets the backing file would refuse: served through the daemon.
			out = sh(t, "dd if="+shq(p)+" bs=1000 skip=7 count=3 iflag=direct status=none | sha256sum")
			if f := strings.Fields(out)[0]; f != sha256hex(data[7000:10000]) {
				t.Errorf("dd iflag=direct at 7000+3000: %s", f)
			}
			st1 := ptStats(t, m)
			if st1.Cache.ObjectFileOpens-st0.Cache.ObjectFileOpens != 5 {
				t.Errorf("object file opens: %d, want 5", st1.Cache.ObjectFileOpens-st0.Cache.ObjectFileOpens)
			}
			if st1.Cache.Fetches != st0.Cache.Fetches || st1.Cache.DiskHits != st0.Cache.DiskHits {
				t.Errorf("re-reads used the block cache: fetches %d → %d, disk hits %d → %d",
					st0.Cache.Fetches, st1.Cache.Fetches, st0.Cache.DiskHits, st1.Cache.DiskHits)
			}
			reads := st1.Reads - st0.Reads
			if tc.passthrough {
				if st1.OpensPassthrough-st0.OpensPassthrough != 3 || reads != 3 {
					t.Errorf("passthrough opens %d (want 3), FUSE READs reaching the daemon %d (want 3: the O_DIRECT reads)",
						st1.OpensPassthrough-st0.OpensPassthrough, reads)
				}
			} else if st1.OpensPassthrough != 0 || reads == 0 {
				t.Errorf("--passthrough=false: passthrough opens %d (want 0), FUSE READs %d (want > 0)", st1.OpensPassthrough, reads)
			}
		})
	}
}
