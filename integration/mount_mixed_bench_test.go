package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// BenchmarkMountMixed runs only BenchmarkMount's line (m), 16 writers + 16 readers for
// PITHOSFS_BENCH_MIXED_SECS (60 s by default), on a fresh mount and cache per round, with the same
// knobs: PITHOSFS_BENCH_ROUNDS (default 2), PITHOSFS_BENCH_BASELINE (a build alternated with the current
// one in every round), PITHOSFS_BENCH_EXTRA. It prints the daemon's peak RSS and CPU. With
// PITHOSFS_BENCH_PROFILE=DIR it also samples the daemon's RSS every 250 ms and saves a heap profile
// (inuse_space, with the runtime's MemStats) each time the RSS reaches a new high, so the last one saved
// shows what was live at the peak.
func BenchmarkMountMixed(b *testing.B) {
	rounds := benchRounds()
	builds := benchBuilds(b)
	extra := strings.Fields(os.Getenv("PITHOSFS_BENCH_EXTRA"))
	profDir := os.Getenv("PITHOSFS_BENCH_PROFILE")
	srv := startServe(b)
	srv.put(b, alice, "bench", nil, nil)
	mixedObjects(b, srv, 16)
	mixed := mixedSecs()
	fmt.Printf("\n== pithosfs mixed load (16 writers + 16 readers for %v, options %q, %d rounds) ==\n", mixed, extra, rounds)
	for i := 0; i < b.N; i++ {
		for r := 1; r <= rounds; r++ {
			for _, bd := range builds {
				pprofAddr := benchPprof(b, profDir)
				m := startMount(b, mountArgs{URL: srv.identityURL(), Token: alice.Token, Bin: bd.bin, Extra: extra})
				stopHeap := heapAtPeak(b, m, pprofAddr, profDir, fmt.Sprintf("%s-r%d", bd.label, r))
				cpu0 := procCPU(b, m.cmd.Process.Pid)
				rss, w, rd := mixedLoad(b, m, mixed)
				cpu := procCPU(b, m.cmd.Process.Pid) - cpu0
				stopHeap()
				if profDir != "" {
					// the daemon's stderr: GODEBUG=gctrace=1 in the environment puts the collector's trace there
					_ = os.WriteFile(filepath.Join(profDir, fmt.Sprintf("%s-r%d-stderr.log", bd.label, r)), []byte(m.stderrText()), 0o644)
				}
				fmt.Printf("-- round %d, %s build (%s)\n(m) daemon peak RSS %d MiB (goal ≤ 160); CPU %.1f s; %d MiB written, %d MiB read\n",
					r, bd.label, bd.bin, rss>>20, cpu.Seconds(), w>>20, rd>>20)
				if bd.label == "current" {
					b.ReportMetric(float64(rss>>20), "mixed-peak-RSS-MiB")
				}
				m.unmount(b)
			}
		}
	}
}

// heapAtPeak samples the daemon's RSS every 250 ms until the returned func is called, and saves its heap
// profile (DIR/NAME-peak.heap, and the text form with MemStats in NAME-peak.txt) whenever the RSS passes its
// highest so far by 2 MiB. It does nothing without a profile directory.
func heapAtPeak(t testing.TB, m *mountProc, addr, dir, name string) func() {
	if dir == "" {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	// a timeline of the daemon's memory, one line a tick
	tl, _ := os.Create(filepath.Join(dir, name+"-timeline.txt"))
	go func() {
		defer close(done)
		if tl != nil {
			defer tl.Close()
		}
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		var high int64
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			rss := procRSS(m.cmd.Process.Pid)
			if tl != nil {
				fmt.Fprintf(tl, "%s %s\n", time.Now().Format("15:04:05.00"), procMemLine(m.cmd.Process.Pid))
			}
			if rss < high+2<<20 {
				continue
			}
			high = rss
			for _, q := range []struct{ query, ext string }{{"", "heap"}, {"?debug=1", "txt"}} {
				resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/heap%s", addr, q.query))
				if err != nil {
					t.Logf("heap profile: %v", err)
					continue
				}
				data, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					continue
				}
				header := fmt.Sprintf("# RSS %d MiB at %s\n# %s\n", rss>>20, time.Now().Format(time.TimeOnly), procMemLine(m.cmd.Process.Pid))
				if q.ext == "txt" {
					data = append([]byte(header), data...)
				}
				_ = os.WriteFile(filepath.Join(dir, name+"-peak."+q.ext), data, 0o644)
			}
			if st, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json")); err == nil {
				_ = os.WriteFile(filepath.Join(dir, name+"-peak-stats.json"), st, 0o644)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		// the whole run's allocations (alloc_space), to set beside the bytes moved
		if resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/heap", addr)); err == nil {
			if data, err := io.ReadAll(resp.Body); err == nil {
				_ = os.WriteFile(filepath.Join(dir, name+"-end.heap"), data, 0o644)
			}
			resp.Body.Close()
		}
	}
}

// procMemLine is the memory lines of a process's /proc/PID/status (VmHWM, VmRSS, RssAnon, RssFile,
// RssShmem) on one line: what of the RSS is the heap and what the mapped binary.
func procMemLine(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	var parts []string
	for _, line := range strings.Split(string(data), "\n") {
		for _, k := range []string{"VmHWM:", "VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"} {
			if strings.HasPrefix(line, k) {
				parts = append(parts, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// procRSS is a process's resident set size now (VmRSS), or 0.
func procRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
