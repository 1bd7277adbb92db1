package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// mixedSecs is how long BenchmarkMount's mixed load runs: 60 s, or PITHOSFS_BENCH_MIXED_SECS.
func mixedSecs() time.Duration {
	if v, err := strconv.Atoi(os.Getenv("PITHOSFS_BENCH_MIXED_SECS")); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return time.Minute
}

// mixedObjects uploads the n objects the mixed load's readers read (32 MiB each).
func mixedObjects(b *testing.B, srv *serveProc, n int) {
	dir := b.TempDir()
	for i := range n {
		uploadFile(b, srv, alice, fmt.Sprintf("bench/mixed/r%02d", i), randomFile(b, dir, fmt.Sprintf("r%02d", i), 32<<20))
	}
}

// mixedLoad runs 16 writers (each copying a new 16 MiB file into the mount, then removing it, again and
// again) and 16 readers (each reading its own 32 MiB object with O_DIRECT, again and again) for d, and
// returns the daemon's peak RSS meanwhile and the bytes written and read.
func mixedLoad(b *testing.B, m *mountProc, d time.Duration) (rss, written, read int64) {
	src := randomFile(b, b.TempDir(), "w", 16<<20)
	dir := filepath.Join(m.Dir, alice.Name, "bench", "mixed")
	resetPeakRSS(b, m.cmd.Process.Pid)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	run := func(script string, n int64, total *int64) {
		defer wg.Done()
		for time.Now().Before(deadline) {
			if out, err := shErr(script); err != nil {
				mu.Lock()
				failed = fmt.Errorf("%s: %v %s", script, err, out)
				mu.Unlock()
				return
			}
			mu.Lock()
			*total += n
			mu.Unlock()
		}
	}
	for i := range 16 {
		wg.Add(2)
		w := shq(filepath.Join(dir, fmt.Sprintf("w%02d", i)))
		go run("cp "+shq(src)+" "+w+" && rm "+w, 16<<20, &written)
		go run("dd if="+shq(filepath.Join(dir, fmt.Sprintf("r%02d", i)))+" of=/dev/null bs=1M iflag=direct status=none", 32<<20, &read)
	}
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return peakRSS(b, m.cmd.Process.Pid), written, read
}
