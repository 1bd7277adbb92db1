package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
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

// BenchmarkMount prints, against one local server: (a) a cold sequential read through the mount vs a raw
// loop of parallel block GETs, with the daemon's peak RSS and CPU time against --cache-mem; (b) a second
// read (page cache) vs cat of a local copy; (c) ls -l of 10 000 objects vs one raw listing request.
// `make bench`.
//
// The machine is usually shared, so each round measures the raw figure right next to the mount's, and
// PITHOSFS_BENCH_ROUNDS (default 2) rounds run, each on a fresh mount and cache. With
// PITHOSFS_BENCH_BASELINE naming another pithosfs binary (an older build), every round mounts it too,
// alternating with the current one, so before/after ratios come from one run.
func BenchmarkMount(b *testing.B) {
	size := benchSize()
	rounds := 2
	if v, err := strconv.Atoi(os.Getenv("PITHOSFS_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	type build struct{ label, bin string }
	builds := []build{{"current", pithosfsBinary(b)}}
	if base := os.Getenv("PITHOSFS_BENCH_BASELINE"); base != "" {
		builds = []build{{"baseline", base}, builds[0]}
	}
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
	putMany(b, srv, alice, "bench", "ls/o%05d", 10000)

	const cacheMem = 256 << 20
	mib := float64(size) / (1 << 20)
	fmt.Printf("\n== pithosfs mount benchmark (object %d MiB, block 4 MiB, --cache-mem 256MiB, %d rounds) ==\n", size>>20, rounds)
	for i := 0; i < b.N; i++ {
		for r := 1; r <= rounds; r++ {
			for _, bd := range builds {
				m := startMount(b, mountArgs{URL: srv.identityURL(), Token: alice.Token, Bin: bd.bin, Extra: []string{"--cache-mem", "256MiB"}})
				p := filepath.Join(m.Dir, alice.Name, "bench", "big")
				sh(b, "stat "+shq(p)+" > /dev/null")

				raw := timeIt(b, func() { rawParallelRead(b, srv, alice, "bench/big", 8) })
				cpu0 := procCPU(b, m.cmd.Process.Pid)
				cold := timeIt(b, func() { sh(b, "cat "+shq(p)+" > /dev/null") })
				cpu := procCPU(b, m.cmd.Process.Pid) - cpu0
				rss := peakRSS(b, m.cmd.Process.Pid)
				read0 := bytesRead(b, m)
				warm := timeIt(b, func() { sh(b, "cat "+shq(p)+" > /dev/null") })
				warmFromDaemon := bytesRead(b, m) - read0
				sh(b, "cat "+shq(local)+" > /dev/null")
				localCat := timeIt(b, func() { sh(b, "cat "+shq(local)+" > /dev/null") })

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

				fmt.Printf("-- round %d, %s build (%s)\n", r, bd.label, bd.bin)
				fmt.Printf("(a) cold sequential read via mount: %7.1f MiB/s   raw parallel block GETs (8): %7.1f MiB/s   ratio %.2f (goal ≥ 0.9)\n",
					mib/cold.Seconds(), mib/raw.Seconds(), raw.Seconds()/cold.Seconds())
				fmt.Printf("    daemon peak RSS: %d MiB (budget %d MiB + 64 MiB goal: %v); daemon CPU during (a): %.2f s\n",
					rss>>20, cacheMem>>20, rss <= cacheMem+64<<20, cpu.Seconds())
				fmt.Printf("(b) second read via mount:          %7.1f MiB/s   cat of a local copy:        %7.1f MiB/s   ratio %.2f (goal ≥ 0.8)\n",
					mib/warm.Seconds(), mib/localCat.Seconds(), localCat.Seconds()/warm.Seconds())
				fmt.Printf("    bytes the daemon served during (b): %d (0 = all from the kernel page cache)\n", warmFromDaemon)
				fmt.Printf("(c) ls -l of 10 000 objects: %v (%d listing requests, %d HEADs)   one raw listing request: %v\n",
					ls.Round(time.Millisecond), after.RequestsByKind["list_objects"]-before.RequestsByKind["list_objects"],
					after.Requests["HEAD"]-before.Requests["HEAD"], rawList.Round(time.Millisecond))
				if bd.label == "current" {
					b.ReportMetric(mib/cold.Seconds(), "cold-MiB/s")
					b.ReportMetric(mib/raw.Seconds(), "raw-MiB/s")
					b.ReportMetric(float64(rss>>20), "peak-RSS-MiB")
				}
				m.unmount(b)
			}
		}
	}
}

// bytesRead is the number of bytes the mount's daemon has answered FUSE reads with (stats.json).
func bytesRead(t testing.TB, m *mountProc) int64 {
	data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json"))
	var st struct {
		BytesRead int64 `json:"bytes_read"`
	}
	if err != nil || json.Unmarshal(data, &st) != nil {
		t.Fatalf("stats.json: %v", err)
	}
	return st.BytesRead
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

// rawParallelRead reads an object the way a plain client would at best: its hashmap, then every block by
// range GET, conc at a time, into io.Discard.
func rawParallelRead(t testing.TB, srv *serveProc, u cloudUser, path string, conc int) {
	t.Helper()
	resp, body := doHTTP(t, srv.http, http.MethodGet, srv.objectURL(u, path)+"?format=json&hashmap", u.Token, nil, nil)
	var hm struct {
		BlockSize int64    `json:"block_size"`
		Bytes     int64    `json:"bytes"`
		Hashes    []string `json:"hashes"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &hm) != nil {
		t.Fatalf("hashmap: %s", resp.Status)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(conc)
	for i := range hm.Hashes {
		off := int64(i) * hm.BlockSize
		end := min(off+hm.BlockSize, hm.Bytes) - 1
		g.Go(func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.objectURL(u, path), nil)
			req.Header.Set("X-Auth-Token", u.Token)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, end))
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
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
