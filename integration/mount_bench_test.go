package integration

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// benchSize is the object size of BenchmarkMount: 1 GiB, or PITHOSFS_BENCH_SIZE bytes.
func benchSize() int64 {
	if v, err := strconv.ParseInt(os.Getenv("PITHOSFS_BENCH_SIZE"), 10, 64); err == nil && v > 0 {
		return v
	}
	return 1 << 30
}

// BenchmarkMount prints, against one local server, side by side in each round:
//
//	(a) a cold sequential read (cat) of the object through the mount, against one raw GET of it (curl) and
//	    the FUSE ceiling (cat of a go-fuse file served from memory, with the mount's options); the daemon's
//	    CPU per GiB against what the same bytes cost without the mount (SHA-256 of them in-process plus
//	    curl's CPU for the raw GET), the server's CPU for both, and the daemon's peak RSS; and beside them the
//	    floor (floor_test.go): a bare Go client in the bench process that GETs the same blocks and verifies
//	    each once it has arrived (8 block GETs at once, as the mount's readahead, and one GET of the whole object),
//	    its MiB/s and CPU per GiB, and the daemon's CPU against the cheaper of the two; and the CPU bound
//	    (readBound, ceiling_test.go): what any verifying FUSE daemon, and the whole read with the server and
//	    cat, must cost at the least, measured in the same round, and the best ratio that allows on this
//	    machine's cores;
//	(b) a second read (page cache) vs cat of a local copy;
//	(p) a re-read after `echo 3 > /proc/sys/vm/drop_caches` vs cat of a local copy after the same drop, with
//	    the FUSE reads that reached the daemon and its CPU against the cold read's;
//	(c) ls -l of 10 000 objects vs one raw listing request;
//	(m) 16 writers + 16 readers for 60 s (PITHOSFS_BENCH_MIXED_SECS): the daemon's peak RSS.
//
// `make bench`. The machine is usually shared, so each round measures the references right next to the
// mount's, and PITHOSFS_BENCH_ROUNDS (default 2) rounds run, each on a fresh mount and cache. With
// PITHOSFS_BENCH_BASELINE naming another pithosfs binary (an older build), every round mounts it too,
// alternating with the current one, so before/after ratios come from one run. PITHOSFS_BENCH_EXTRA adds
// mount options (space-separated; default none: the defaults are what is measured).
// PITHOSFS_BENCH_PROFILE=DIR saves a CPU profile and an execution trace of the daemon during each cold read.
// PITHOSFS_BENCH_ONLY=a measures line (a) alone in each round (with its references), for quick before/after
// runs of the cold read; the other lines are then neither measured nor printed.
func BenchmarkMount(b *testing.B) {
	size := benchSize()
	rounds := benchRounds()
	builds := benchBuilds(b)
	extra := strings.Fields(os.Getenv("PITHOSFS_BENCH_EXTRA"))
	profDir := os.Getenv("PITHOSFS_BENCH_PROFILE")
	onlyCold := os.Getenv("PITHOSFS_BENCH_ONLY") == "a"
	srv := startServe(b)
	srv.put(b, alice, "bench", nil, nil)
	local := filepath.Join(b.TempDir(), "local")
	f, err := os.Create(local)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	uploadFile(b, srv, alice, "bench/big", local)
	if !onlyCold {
		putMany(b, srv, alice, "bench", "ls/o%05d", 10000)
		mixedObjects(b, srv, 16)
	}
	ceiling := startCeiling(b, size)

	gib := float64(size) / (1 << 30)
	mib := float64(size) / (1 << 20)
	perGiB := func(d time.Duration) float64 { return d.Seconds() / gib }
	fmt.Printf("\n== pithosfs mount benchmark (object %d MiB, block 4 MiB, options %q, %d rounds) ==\n", size>>20, extra, rounds)
	for i := 0; i < b.N; i++ {
		for r := 1; r <= rounds; r++ {
			for _, bd := range builds {
				sh(b, "sync") // nothing of the set-up or the previous mount left for writeback meanwhile
				pprofAddr := benchPprof(b, profDir)
				m := startMount(b, mountArgs{URL: srv.identityURL(), Token: alice.Token, Bin: bd.bin, Extra: extra})
				p := filepath.Join(m.Dir, alice.Name, "bench", "big")
				sh(b, "stat "+shq(p)+" > /dev/null")

				srvCPU0 := procCPU(b, srv.cmd.Process.Pid)
				raw, curlCPU := timedCmd(b, "curl", "-sfS", "-o", "/dev/null", "-H", "X-Auth-Token: "+alice.Token, srv.objectURL(alice, "bench/big"))
				srvRawCPU := procCPU(b, srv.cmd.Process.Pid) - srvCPU0
				ceilCPU0 := selfCPU(b)
				ceil, ceilCatCPU := timedCmd(b, "sh", "-c", "cat "+shq(ceiling)+" > /dev/null")
				ceilCPU := selfCPU(b) - ceilCPU0 // the bench process serving the ceiling's READs
				shaCPU := sha256CPU(b, local)
				floorPar := verifyingRead(b, srv, alice, "bench/big", floorParallel)
				floorOne := verifyingRead(b, srv, alice, "bench/big", 0)
				floorCPU := min(floorPar.cpu, floorOne.cpu)

				cpu0, srvCPU0 := procCPU(b, m.cmd.Process.Pid), procCPU(b, srv.cmd.Process.Pid)
				stopProf := profileDaemon(b, pprofAddr, profDir, fmt.Sprintf("%s-r%d", bd.label, r), max(3, int(10*raw.Seconds())))
				stopSampling := sampleInFlight(b, m)
				cold, catCPU := timedCmd(b, "sh", "-c", "cat "+shq(p)+" > /dev/null")
				inFlight := stopSampling()
				stopProf()
				cpu, srvCPU := procCPU(b, m.cmd.Process.Pid)-cpu0, procCPU(b, srv.cmd.Process.Pid)-srvCPU0
				ref := max(raw, ceil) // the lower throughput of the two
				fmt.Printf("-- round %d, %s build (%s)\n", r, bd.label, bd.bin)
				fmt.Printf("(a) cold read via mount %7.1f MiB/s | one raw GET (curl) %7.1f MiB/s | FUSE ceiling %7.1f MiB/s | ratio to the lower %.2f (goal ≥ 0.8)\n",
					mib/cold.Seconds(), mib/raw.Seconds(), mib/ceil.Seconds(), ref.Seconds()/cold.Seconds())
				fmt.Printf("    CPU s/GiB: daemon %.2f | SHA-256 %.2f + curl %.2f = %.2f | ratio %.2f (goal ≤ 1.2) | server: for the mount %.2f, for the raw GET %.2f\n",
					perGiB(cpu), perGiB(shaCPU), perGiB(curlCPU), perGiB(shaCPU+curlCPU), cpu.Seconds()/(shaCPU+curlCPU).Seconds(),
					perGiB(srvCPU), perGiB(srvRawCPU))
				fmt.Printf("    floor, a bare verifying client (no FUSE, no cache; SHA-256 of each block once it has arrived): %d block GETs at once %7.1f MiB/s, CPU %.2f s/GiB | one GET %7.1f MiB/s, CPU %.2f s/GiB | daemon ÷ the cheaper %.2f\n",
					floorParallel, mib/floorPar.wall.Seconds(), perGiB(floorPar.cpu), mib/floorOne.wall.Seconds(), perGiB(floorOne.cpu), cpu.Seconds()/floorCPU.Seconds())
				fmt.Printf("    block fetches in flight during (a), sampled every 20 ms: %s\n", inFlight)
				bound := readBound{sha: shaCPU, curl: curlCPU, fuse: ceilCPU, server: srvRawCPU, reader: ceilCatCPU}
				fmt.Printf("    %s\n", bound.describe(perGiB, cpu+srvCPU+catCPU, ref, cold))
				if bd.label == "current" {
					b.ReportMetric(mib/cold.Seconds(), "cold-MiB/s")
					b.ReportMetric(ref.Seconds()/cold.Seconds(), "cold-ratio")
					b.ReportMetric(perGiB(cpu), "daemon-CPU-s/GiB")
					b.ReportMetric(perGiB(floorCPU), "floor-CPU-s/GiB")
					b.ReportMetric(cpu.Seconds()/floorCPU.Seconds(), "daemon-vs-floor-CPU")
				}
				if onlyCold {
					fmt.Printf("    daemon peak RSS over (a): %d MiB\n", peakRSS(b, m.cmd.Process.Pid)>>20)
					saveColdState(m, profDir, fmt.Sprintf("%s-r%d", bd.label, r))
					m.unmount(b)
					continue
				}

				read0 := readStats(b, m)
				warm := timeIt(b, func() { sh(b, "cat "+shq(p)+" > /dev/null") })
				warmFromDaemon := readStats(b, m).BytesRead - read0.BytesRead
				sh(b, "cat "+shq(local)+" > /dev/null")
				localCat := timeIt(b, func() { sh(b, "cat "+shq(local)+" > /dev/null") })

				// (p): let the cache write what it holds, drop every page cache, re-read.
				waitDiskQueue(b, m)
				sh(b, "sync && echo 3 > /proc/sys/vm/drop_caches")
				localDropped := timeIt(b, func() { sh(b, "cat "+shq(local)+" > /dev/null") })
				sh(b, "sync && echo 3 > /proc/sys/vm/drop_caches")
				st0, pcpu0 := readStats(b, m), procCPU(b, m.cmd.Process.Pid)
				reread := timeIt(b, func() { sh(b, "cat "+shq(p)+" > /dev/null") })
				st1, pcpu := readStats(b, m), procCPU(b, m.cmd.Process.Pid)-pcpu0
				rss := peakRSS(b, m.cmd.Process.Pid)

				dir := filepath.Join(m.Dir, alice.Name, "bench", "ls")
				sh(b, "stat "+shq(dir)+" > /dev/null")
				before := m.stats(b)
				ls := timeIt(b, func() { sh(b, "ls -l "+shq(dir)+" > /dev/null") })
				after := m.stats(b)
				rawList := timeIt(b, func() {
					resp, body := doHTTP(b, srv.http, http.MethodGet, srv.objectURL(alice, "bench")+"?format=json&limit=10000&prefix=ls/&delimiter=/", alice.Token, nil, nil)
					var entries []json.RawMessage
					if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &entries) != nil || len(entries) != 10000 {
						b.Fatalf("raw listing: %s, %d entries", resp.Status, len(entries))
					}
				})

				mixed := mixedSecs()
				stopHeap := heapAtPeak(b, m, pprofAddr, profDir, fmt.Sprintf("%s-r%d-m", bd.label, r))
				mixedRSS, mixedW, mixedR := mixedLoad(b, m, mixed)
				stopHeap()

				fmt.Printf("    daemon peak RSS over (a), (b), (p): %d MiB (goal ≤ 160 MiB with default options)\n", rss>>20)
				fmt.Printf("(b) second read via mount %7.1f MiB/s | cat of a local copy %7.1f MiB/s | ratio %.2f; bytes the daemon served: %d\n",
					mib/warm.Seconds(), mib/localCat.Seconds(), localCat.Seconds()/warm.Seconds(), warmFromDaemon)
				fmt.Printf("(p) re-read after drop_caches %7.1f MiB/s | local copy after the same drop %7.1f MiB/s | ratio %.2f (goal ≥ 0.8)\n",
					mib/reread.Seconds(), mib/localDropped.Seconds(), localDropped.Seconds()/reread.Seconds())
				fmt.Printf("    FUSE READs reaching the daemon: %d (%d bytes); passthrough opens %d; daemon CPU %.2f s = %.1f%% of (a)'s (goal < 5%%)\n",
					st1.Reads-st0.Reads, st1.BytesRead-st0.BytesRead, st1.PassthroughOpens-st0.PassthroughOpens,
					pcpu.Seconds(), 100*pcpu.Seconds()/max(cpu.Seconds(), 1e-9))
				fmt.Printf("(m) 16 writers + 16 readers for %v: daemon peak RSS %d MiB (goal ≤ 160 MiB with default options); %d MiB written, %d MiB read\n",
					mixed, mixedRSS>>20, mixedW>>20, mixedR>>20)
				fmt.Printf("(c) ls -l of 10 000 objects: %v (%d listing requests, %d HEADs)   one raw listing request: %v\n",
					ls.Round(time.Millisecond), after.RequestsByKind["list_objects"]-before.RequestsByKind["list_objects"],
					after.Requests["HEAD"]-before.Requests["HEAD"], rawList.Round(time.Millisecond))
				if bd.label == "current" {
					b.ReportMetric(float64(rss>>20), "peak-RSS-MiB")
					b.ReportMetric(float64(mixedRSS>>20), "mixed-peak-RSS-MiB")
				}
				m.unmount(b)
			}
		}
	}
}

// readCounters is the part of stats.json the read benchmark reads.
type readCounters struct {
	Reads            int64 `json:"reads"`
	BytesRead        int64 `json:"bytes_read"`
	PassthroughOpens int64 `json:"opens_passthrough"`
	Cache            struct {
		DiskQueued        int64 `json:"disk_queued_bytes"`
		InFlight          int64 `json:"fetches_in_flight"`
		ObjectFiles       int64 `json:"object_files_assembled"`
		ObjectsAssembling int64 `json:"objects_assembling"`
	} `json:"cache"`
}

func readStats(t testing.TB, m *mountProc) readCounters {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json"))
	var st readCounters
	if err != nil || json.Unmarshal(data, &st) != nil {
		t.Fatalf("stats.json: %v", err)
	}
	return st
}

// waitDiskQueue waits (up to a minute) until the cache has written every block queued for its disk tier and
// assembled the object file of the file read whole.
func waitDiskQueue(t testing.TB, m *mountProc) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		st := readStats(t, m).Cache
		if st.DiskQueued == 0 && st.ObjectsAssembling == 0 && st.ObjectFiles > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// profileDaemon starts, when dir is set, a CPU profile and an execution trace (goroutines, syscalls and
// network waits over time: the requests in flight) of the daemon serving pprof on addr, each lasting secs
// seconds; the returned func waits for both and saves them as dir/name.{cpu,trace}.
func profileDaemon(t testing.TB, addr, dir, name string, secs int) func() {
	if dir == "" {
		return func() {}
	}
	var g errgroup.Group
	for _, ep := range []struct{ path, ext string }{{"profile", "cpu"}, {"trace", "trace"}} {
		g.Go(func() error {
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, ep.path, secs))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			out, err := os.Create(filepath.Join(dir, name+"."+ep.ext))
			if err != nil {
				return err
			}
			defer out.Close()
			_, err = io.Copy(out, resp.Body)
			return err
		})
	}
	return func() {
		if err := g.Wait(); err != nil {
			t.Logf("profile %s: %v", name, err)
		}
	}
}

// sampleInFlight samples the mount's running block fetches (stats.json) every 20 ms until the returned func
// is called, which summarises them: the mean and the share of samples with 0, 1-2, 3-4, 5-8 and more.
func sampleInFlight(t testing.TB, m *mountProc) func() string {
	stop, done := make(chan struct{}), make(chan string)
	go func() {
		var counts [5]int
		sum, n := int64(0), 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				if n == 0 {
					done <- "no samples"
					return
				}
				pct := func(i int) float64 { return 100 * float64(counts[i]) / float64(n) }
				done <- fmt.Sprintf("mean %.1f; 0: %.0f%%, 1-2: %.0f%%, 3-4: %.0f%%, 5-8: %.0f%%, >8: %.0f%% (%d samples)",
					float64(sum)/float64(n), pct(0), pct(1), pct(2), pct(3), pct(4), n)
				return
			case <-tick.C:
				data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json"))
				var st readCounters
				if err != nil || json.Unmarshal(data, &st) != nil {
					continue
				}
				v := st.Cache.InFlight
				sum += v
				n++
				switch {
				case v == 0:
					counts[0]++
				case v <= 2:
					counts[1]++
				case v <= 4:
					counts[2]++
				case v <= 8:
					counts[3]++
				default:
					counts[4]++
				}
			}
		}
	}()
	return func() string { close(stop); return <-done }
}

// freeAddr is a loopback address with a port free right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// procCPU is a process's user+system CPU time so far.
func procCPU(t testing.TB, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

func timeIt(b testing.TB, fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

// uploadFile PUTs a local file as an object, streamed.
func uploadFile(t testing.TB, srv *serveProc, u cloudUser, path, local string) {
	t.Helper()
	f, err := os.Open(local)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	req, _ := http.NewRequest(http.MethodPut, srv.objectURL(u, path), f)
	req.ContentLength = st.Size()
	req.Header.Set("X-Auth-Token", u.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s: %s", path, resp.Status)
	}
}

// peakRSS is a process's peak resident set (VmHWM) in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// saveColdState writes, with PITHOSFS_BENCH_PROFILE=DIR, the daemon's stats.json after the cold read
// and its stderr so far (run with GODEBUG=gctrace=1 for its collections) to DIR/NAME-cold-*.
func saveColdState(m *mountProc, dir, name string) {
	if dir == "" {
		return
	}
	if st, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json")); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+"-cold-stats.json"), st, 0o644)
	}
	_ = os.WriteFile(filepath.Join(dir, name+"-cold-stderr.log"), []byte(m.stderrText()), 0o644)
}
