package integration

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// BenchmarkMountWrite prints the write path's counted efficiency and throughput against one local
// server (`make bench-mount`, or -bench BenchmarkMountWrite): (a) a 4 KiB write into a 1 GiB file then
// close() uploads ≤ 1 block + 1 hashmap; (b) cp of a file whose content already exists in the account
// uploads no block; (c) appending 1 MiB to a 1 GiB file uploads ≤ 2 blocks; (d) a new 1 GiB sequential
// write through the mount (close included) vs a raw loop of parallel block POSTs plus one hashmap PUT in
// the same run (goal ≥ 0.8×), with the daemon's peak RSS. PITHOSFS_BENCH_SIZE scales the 1 GiB.
func BenchmarkMountWrite(b *testing.B) {
	size := benchSize()
	mib := float64(size) / (1 << 20)
	srv := startServe(b)
	srv.put(b, alice, "wb", nil, nil)
	dir := b.TempDir()
	randFile := func(name string) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyN(f, rand.Reader, size); err != nil {
			b.Fatal(err)
		}
		f.Close()
		return p
	}
	local := randFile("existing")
	uploadFile(b, srv, alice, "wb/big", local)
	fresh1, fresh2 := randFile("new1"), randFile("new2")

	const cacheMem = 256 << 20
	fmt.Printf("\n== pithosfs mount write benchmark (file %d MiB, block 4 MiB, --cache-mem 256MiB) ==\n", size>>20)
	for i := 0; i < b.N; i++ {
		m := startMount(b, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--cache-mem", "256MiB"}})
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

		raw := timeIt(b, func() { rawParallelWrite(b, srv, alice, "wb", "raw", fresh2, 8) })
		s0 = m.stats(b)
		mount := timeIt(b, func() { sh(b, "dd if="+shq(fresh1)+" of="+shq(filepath.Join(c, "new"))+" bs=1M status=none") })
		s1 = m.stats(b)
		blocks, puts = uploads(s0, s1)
		rss := peakRSS(b, m.cmd.Process.Pid)
		fmt.Printf("(d) new sequential write via mount (dd bs=1M, close included): %7.1f MiB/s (%d blocks, %d commit PUTs, %d probes)   raw parallel block POSTs (8) + hashmap PUT: %7.1f MiB/s   ratio %.2f (goal ≥ 0.8)\n",
			mib/mount.Seconds(), blocks, puts, probes(s0, s1), mib/raw.Seconds(), raw.Seconds()/mount.Seconds())
		fmt.Printf("    daemon peak RSS: %d MiB (--cache-mem %d MiB)\n", rss>>20, cacheMem>>20)
		b.ReportMetric(mib/mount.Seconds(), "write-MiB/s")
		b.ReportMetric(mib/raw.Seconds(), "raw-write-MiB/s")
		b.ReportMetric(float64(rss>>20), "peak-RSS-MiB")
		m.unmount(b)
	}
}

// rawParallelWrite uploads a local file the way a plain client would at best: every 4 MiB block by
// POST to the container, conc at a time, then one hashmap PUT.
func rawParallelWrite(t testing.TB, srv *serveProc, u cloudUser, container, name, local string, conc int) {
	t.Helper()
	const bs = 4 << 20
	f, err := os.Open(local)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	n := int((st.Size() + bs - 1) / bs)
	hashes := make([]string, n)
	var g errgroup.Group
	g.SetLimit(conc)
	for i := range n {
		g.Go(func() error {
			buf := make([]byte, min(bs, st.Size()-int64(i)*bs))
			if _, err := f.ReadAt(buf, int64(i)*bs); err != nil && err != io.EOF {
				return err
			}
			hdr := http.Header{"Content-Type": {"application/octet-stream"}}
			resp, body := doHTTP(t, srv.http, http.MethodPost, srv.objectURL(u, container)+"?update&format=json", u.Token, buf, hdr)
			var hs []string
			if resp.StatusCode/100 != 2 || json.Unmarshal(body, &hs) != nil || len(hs) != 1 {
				return fmt.Errorf("block POST: %s %s", resp.Status, body)
			}
			hashes[i] = hs[0]
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"bytes": st.Size(), "hashes": hashes})
	start := time.Now()
	resp, rb := doHTTP(t, srv.http, http.MethodPut, srv.objectURL(u, container+"/"+name)+"?hashmap&format=json", u.Token, body,
		http.Header{"Content-Type": {"application/octet-stream"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("hashmap PUT: %s %s (%v)", resp.Status, rb, time.Since(start))
	}
}
