package integration

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMountWrite measures the write path (`make bench-mount`, or -bench BenchmarkMountWrite), on
// `pithosfs serve` and on the real Swift (the shared one, or one the harness starts).
//
// On serve, counted efficiency first: (a) a 4 KiB write into a 1 GiB file then close() uploads ≤ 1 block
// + 1 hashmap; (b) cp of a file whose content already exists in the account uploads no block; (c)
// appending 1 MiB to a 1 GiB file uploads ≤ 2 blocks. Then on both servers, PITHOSFS_BENCH_ROUNDS (default
// 2) rounds of (d): a new 1 GiB file written through the mount (dd bs=1M, close() included: until on the
// server) against one raw single PUT of other bytes of the same size by curl -T, side by side, with what
// each costs in CPU: the daemon's (utime+stime from /proc/PID/stat before and after) against SHA-256 of
// the bytes in-process plus curl's own CPU for the raw PUT; the server's CPU for the mount's write against
// its CPU for the raw PUT (on Swift, the CPU of every Swift server process found on this machine: a shared
// Swift's figure includes what others ask of it meanwhile); the daemon's peak RSS during the write; and,
// on serve, the CPU bound: SHA-256 + curl + what go-fuse costs to take the same writes in this process
// with the daemon doing nothing (the write ceiling, ceiling_test.go), about the least any daemon that
// hashes and uploads the bytes through FUSE can cost (curl's share also reads its file), with the
// daemon's CPU against it. On Swift the mount hashes nothing, so no bound is printed.
// PITHOSFS_BENCH_SIZE scales the 1 GiB. With PITHOSFS_BENCH_BASELINE naming another pithosfs binary (an
// older build), every round of (d) mounts it too, alternating with the current one, each on a fresh mount
// with its own raw PUT beside it, so before/after ratios come from one run. PITHOSFS_BENCH_PROFILE=DIR
// saves a CPU profile and an execution trace of the daemon during each (d) write.
func BenchmarkMountWrite(b *testing.B) {
	b.Run("serve", benchWriteServe)
	b.Run("swift", benchWriteSwift)
}

func benchWriteServe(b *testing.B) {
	size := benchSize()
	srv := startServe(b)
	srv.put(b, alice, "wb", nil, nil)
	dir := b.TempDir()
	local := randomFile(b, dir, "existing", size)
	uploadFile(b, srv, alice, "wb/big", local)

	fmt.Printf("\n== pithosfs mount write benchmark, pithosfs serve (file %d MiB, block 4 MiB, default options) ==\n", size>>20)
	for i := 0; i < b.N; i++ {
		m := startMount(b, mountArgs{URL: srv.identityURL(), Token: alice.Token})
		c := filepath.Join(m.Dir, alice.Name, "wb")
		big := filepath.Join(c, "big")
		sh(b, "stat "+shq(big)+" >/dev/null")
		// Commits are hashmap PUTs (or one data PUT for a small new file); the early uploads' probes,
		// which ask which blocks the server lacks, are counted apart.
		uploads := func(before, after mountStats) (blocks, commits int64) {
			d := func(k string) int64 { return after.RequestsByKind[k] - before.RequestsByKind[k] }
			return d("post_container"), d("put_hashmap") + d("put_object")
		}
		probes := func(before, after mountStats) int64 {
			return after.RequestsByKind["probe_blocks"] - before.RequestsByKind["probe_blocks"]
		}

		s0 := m.stats(b)
		sh(b, "head -c 4096 /dev/urandom | dd of="+shq(big)+" bs=4096 seek=12345 conv=notrunc status=none")
		blocks, puts := uploads(s0, m.stats(b))
		fmt.Printf("(a) 4 KiB write into the %d MiB file + close: %d block upload(s), %d commit PUT(s)   (goal ≤ 1 + 1: %v)\n",
			size>>20, blocks, puts, blocks <= 1 && puts <= 1)

		s0 = m.stats(b)
		sh(b, "cp "+shq(local)+" "+shq(filepath.Join(c, "copy")))
		s1 := m.stats(b)
		blocks, puts = uploads(s0, s1)
		fmt.Printf("(b) cp of a %d MiB file already in the account: %d block upload(s), %d commit PUT(s), %d probe(s)   (goal 0 blocks: %v)\n",
			size>>20, blocks, puts, probes(s0, s1), blocks == 0)

		s0 = m.stats(b)
		sh(b, "head -c 1048576 /dev/urandom >> "+shq(big))
		blocks, puts = uploads(s0, m.stats(b))
		fmt.Printf("(c) append 1 MiB to the %d MiB file: %d block upload(s), %d commit PUT(s)   (goal ≤ 2 blocks: %v)\n",
			size>>20, blocks, puts, blocks <= 2)

		m.unmount(b)
		srvPID := srv.cmd.Process.Pid
		w := writeBench{b: b, size: size, serverCPU: func() time.Duration { return procCPU(b, srvPID) },
			mount: func(bin string) (*mountProc, string) {
				m := startMount(b, mountArgs{URL: srv.identityURL(), Token: alice.Token, Bin: bin})
				c := filepath.Join(m.Dir, alice.Name, "wb")
				sh(b, "stat "+shq(c)+" >/dev/null")
				return m, c
			},
			rawURL: func(name string) string { return srv.objectURL(alice, "wb/"+name) }, token: alice.Token,
			fresh:   [2]string{randomFile(b, dir, "new1", size), randomFile(b, dir, "new2", size)},
			ceiling: startCeiling(b, size)}
		w.rounds(func(before, after mountStats) string {
			blocks, puts := uploads(before, after)
			return fmt.Sprintf("%d blocks, %d commit PUTs, %d probes", blocks, puts, probes(before, after))
		})
	}
}

func benchWriteSwift(b *testing.B) {
	size := benchSize()
	env := requireSwift(b)
	hc := newHTTPClient()
	token, storage := swiftAuth(b, hc, env.AuthURL, env.Admin)
	container := randomName("pfswbench")
	if resp, body := doHTTP(b, hc, http.MethodPut, storage+"/"+container, token, nil, nil); resp.StatusCode/100 != 2 {
		b.Fatalf("PUT container: %s %s", resp.Status, body)
	}
	b.Cleanup(func() {
		resp, body := doHTTP(b, hc, http.MethodGet, storage+"/"+container+"?limit=10000", token, nil, nil)
		if resp.StatusCode/100 == 2 {
			for _, n := range strings.Fields(string(body)) {
				doHTTP(b, hc, http.MethodDelete, storage+"/"+container+"/"+n, token, nil, nil)
			}
		}
		doHTTP(b, hc, http.MethodDelete, storage+"/"+container, token, nil, nil)
	})
	acct := storage[strings.LastIndex(storage, "/")+1:]
	dir := b.TempDir()
	fmt.Printf("\n== pithosfs mount write benchmark, Swift at %s (file %d MiB, default options) ==\n", env.AuthURL, size>>20)
	for i := 0; i < b.N; i++ {
		w := writeBench{b: b, size: size, token: token, serverCPU: func() time.Duration { return swiftCPU(b) },
			mount: func(bin string) (*mountProc, string) {
				m := startMount(b, mountArgs{URL: env.AuthURL, User: env.Admin.Name, Token: env.Admin.Key, Bin: bin})
				c := filepath.Join(m.Dir, acct, container)
				sh(b, "ls "+shq(c)+" >/dev/null")
				return m, c
			},
			rawURL: func(name string) string { return storage + "/" + container + "/" + name },
			fresh:  [2]string{randomFile(b, dir, "new1", size), randomFile(b, dir, "new2", size)}}
		w.rounds(func(before, after mountStats) string {
			return fmt.Sprintf("%d object PUTs", after.RequestsByKind["put_object"]-before.RequestsByKind["put_object"])
		})
	}
}

// swiftCPU is the CPU time so far of the Swift server processes on this machine (proxy, object, container
// and account servers: every process whose command line runs one).
func swiftCPU(t testing.TB) time.Duration {
	var total time.Duration
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(cmd), "swift-") || !strings.Contains(string(cmd), "-server") {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
			utime, _ := strconv.ParseInt(f[11], 10, 64)
			stime, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(utime+stime) * time.Second / 100
		}
	}
	return total
}

// writeBench is (d) of BenchmarkMountWrite against one server.
type writeBench struct {
	b         *testing.B
	size      int64
	mount     func(bin string) (m *mountProc, dir string) // a fresh mount of build bin and the container's directory in it
	serverCPU func() time.Duration                        // the server's CPU time so far
	rawURL    func(name string) string
	token     string
	fresh     [2]string // local files of size bytes: one for the mount, one for the raw PUT
	// ceiling is startCeiling's file, beside its write sink; set when the mount hashes what it
	// writes (Pithos+), for the CPU bound.
	ceiling string
}

// benchBuild is one pithosfs binary a benchmark measures.
type benchBuild struct{ label, bin string }

// benchBuilds are the builds a benchmark alternates in every round: the current one, after
// PITHOSFS_BENCH_BASELINE's when set.
func benchBuilds(t testing.TB) []benchBuild {
	builds := []benchBuild{{"current", pithosfsBinary(t)}}
	if base := os.Getenv("PITHOSFS_BENCH_BASELINE"); base != "" {
		builds = []benchBuild{{"baseline", base}, builds[0]}
	}
	return builds
}

// benchPprof gives the next mount a pprof address (PITHOSFS_PPROF) when profiles are wanted (profDir
// set) and returns it ("" when not).
func benchPprof(b *testing.B, profDir string) string {
	if profDir == "" {
		return ""
	}
	addr := freeAddr(b)
	b.Setenv("PITHOSFS_PPROF", addr)
	return addr
}

// benchRounds is PITHOSFS_BENCH_ROUNDS, 2 by default.
func benchRounds() int {
	if v, err := strconv.Atoi(os.Getenv("PITHOSFS_BENCH_ROUNDS")); err == nil && v > 0 {
		return v
	}
	return 2
}

// rounds runs the rounds of (d), each build on a fresh mount; requests describes the mount's requests
// between two stats.
func (w *writeBench) rounds(requests func(before, after mountStats) string) {
	b := w.b
	n := benchRounds()
	builds := benchBuilds(b)
	for r := 1; r <= n; r++ {
		for k, bd := range builds {
			label := ""
			if len(builds) > 1 {
				label = " " + bd.label
			}
			// New bytes every time (one word per block changed): a server that deduplicates
			// must store every block again.
			seq := uint64(r*len(builds) + k)
			for j, f := range w.fresh {
				stamp(b, f, seq<<8|uint64(j))
			}
			// Write out what the set-up and the previous round left dirty (gigabytes of files and
			// blocks), so that the kernel's writeback does not run beside this round's writes.
			sh(b, "sync")
			w.round(fmt.Sprintf("%d%s", r, label), fmt.Sprintf("%d-%d", r, k), bd, requests)
		}
	}
}

// round is one (d) measurement of build bd: a raw PUT, then the mount's write, side by side.
func (w *writeBench) round(label, name string, bd benchBuild, requests func(before, after mountStats) string) {
	b, mib, gib := w.b, float64(w.size)/(1<<20), float64(w.size)/(1<<30)
	profDir := os.Getenv("PITHOSFS_BENCH_PROFILE")
	pprofAddr := benchPprof(b, profDir)
	m, dir := w.mount(bd.bin)
	defer m.unmount(b)
	pid := m.cmd.Process.Pid
	hashCPU := sha256CPU(b, w.fresh[0])
	var sinkCPU time.Duration
	if w.ceiling != "" {
		_, sinkCPU = writeCeiling(b, w.ceiling, w.fresh[0])
	}

	srv0 := w.serverCPU()
	raw, curlCPU := timedCmd(b, "curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "-T", w.fresh[1],
		"-H", "X-Auth-Token: "+w.token, "-H", "Content-Type: application/octet-stream", w.rawURL("raw-"+name))
	srvRaw := w.serverCPU() - srv0

	resetPeakRSS(b, pid)
	s0 := m.stats(b)
	d0, srv0 := procCPU(b, pid), w.serverCPU()
	stopProf := profileDaemon(b, pprofAddr, profDir, "write-"+strings.ReplaceAll(label, " ", "-"), max(3, int(2*raw.Seconds())+2))
	mount, ddCPU := timedCmd(b, "dd", "if="+w.fresh[0], "of="+filepath.Join(dir, "new-"+name), "bs=1M", "status=none")
	daemon, srvMount := procCPU(b, pid)-d0, w.serverCPU()-srv0
	stopProf()
	s1 := m.stats(b)
	rss := peakRSS(b, pid)

	perGiB := func(d time.Duration) float64 { return d.Seconds() / gib }
	ref := perGiB(hashCPU + curlCPU)
	fmt.Printf("(d) round %s: new %d MiB file via mount (dd bs=1M, close included): %7.1f MiB/s   raw single PUT (curl -T): %7.1f MiB/s   ratio %.2f (goal ≥ 0.8)   [%s]\n",
		label, w.size>>20, mib/mount.Seconds(), mib/raw.Seconds(), raw.Seconds()/mount.Seconds(), requests(s0, s1))
	fmt.Printf("    CPU s/GiB: daemon %.2f vs SHA-256 in-process %.2f + curl %.2f = %.2f: %.2f× (goal ≤ 1.5); dd %.2f\n",
		perGiB(daemon), perGiB(hashCPU), perGiB(curlCPU), ref, perGiB(daemon)/ref, perGiB(ddCPU))
	if w.ceiling != "" {
		// About, not at, the least: curl's CPU also reads its file, which a daemon sending from memory
		// does not.
		least := perGiB(hashCPU + curlCPU + sinkCPU)
		fmt.Printf("    CPU bound: a FUSE daemon that hashes and uploads the bytes costs about SHA-256 %.2f + curl %.2f + the FUSE write ceiling's server %.2f = %.2f s/GiB (%.2f× the goal's reference); the daemon is %.2f× that\n",
			perGiB(hashCPU), perGiB(curlCPU), perGiB(sinkCPU), least, least/ref, perGiB(daemon)/least)
	}
	fmt.Printf("    server CPU s/GiB: mount write %.2f vs raw PUT %.2f: %.2f× (goal ≤ 1.2)\n",
		perGiB(srvMount), perGiB(srvRaw), srvMount.Seconds()/srvRaw.Seconds())
	fmt.Printf("    daemon peak RSS during the write: %d MiB\n", rss>>20)
	if bd.label == "current" { // the benchmark's metrics are the build under test's
		b.ReportMetric(mib/mount.Seconds(), "write-MiB/s")
		b.ReportMetric(mib/raw.Seconds(), "raw-PUT-MiB/s")
		b.ReportMetric(perGiB(daemon), "daemon-CPU-s/GiB")
		b.ReportMetric(float64(rss>>20), "peak-RSS-MiB")
	}
}

// randomFile creates dir/name with size random bytes.
func randomFile(t testing.TB, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return p
}

// stamp writes v at the start of every 4 MiB block of the file, so that its blocks are new to the server.
func stamp(t testing.TB, path string, v uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	var word [8]byte
	binary.LittleEndian.PutUint64(word[:], v)
	for off := int64(0); off+8 <= st.Size(); off += 4 << 20 {
		if _, err := f.WriteAt(word[:], off); err != nil {
			t.Fatal(err)
		}
	}
}

// sha256CPU is the CPU time (of the hashing thread alone, reads excluded) SHA-256 takes over the file's
// bytes in 4 MiB pieces, as the daemon hashes blocks.
func sha256CPU(t testing.TB, path string) time.Duration {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4<<20)
	var total time.Duration
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			c0 := threadCPU(t)
			sum := sha256.Sum256(buf[:n])
			total += threadCPU(t) - c0
			_ = sum
		}
		if err != nil {
			break
		}
	}
	return total
}

// threadCPU is the calling OS thread's user+system CPU time.
func threadCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timedCmd runs a command and returns its wall time and its CPU time (its children's included).
func timedCmd(t testing.TB, name string, args ...string) (wall, cpu time.Duration) {
	t.Helper()
	cmd := exec.Command(name, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// resetPeakRSS starts a new peak-RSS (VmHWM) measurement for a process of this user.
func resetPeakRSS(t testing.TB, pid int) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Logf("resetting the peak RSS of %d: %v (the figure covers the process's life)", pid, err)
	}
}
