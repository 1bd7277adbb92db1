package localcloud

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// purge deletes an object and drops its whole history.
func (e *env) purge(path string) {
	e.t.Helper()
	e.must(e.do("DELETE", path, nil, ""), 204)
	until := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	e.must(e.do("DELETE", path+"?until="+until, nil, ""), 204)
}

// streamOf is n bytes of AES-CTR keystream: incompressible data that is
// made as fast as the disk takes it (the cipher is assembly, so the race
// detector does not slow it), with no zero runs a file system could skip.
func streamOf(seed byte, n int64) io.Reader {
	blk, err := aes.NewCipher(bytes.Repeat([]byte{seed}, 16))
	if err != nil {
		panic(err)
	}
	return io.LimitReader(keystream{cipher.NewCTR(blk, make([]byte, 16))}, n)
}

type keystream struct{ s cipher.Stream }

func (k keystream) Read(p []byte) (int, error) {
	clear(p)
	k.s.XORKeyStream(p, p)
	return len(p), nil
}

// Issue 16's GC check at its full size: 1 GiB uploaded, deleted and its
// history purged; one GC run takes the data directory down by at least
// 1 GiB and leaves the other object intact. The upload is one 4 MiB block
// over 1 GiB (257 distinct blocks) because a block is stored without its
// trailing zero bytes, as Pithos hashes it: with 256 the files can hold a
// few bytes under 1 GiB.
func TestGCShrinksDataDirAfterDeleteAndPurge(t *testing.T) {
	const gib, block = 1 << 30, 4 << 20
	const size = gib + block
	dir := t.TempDir()
	srv, err := Start(Config{Dir: dir, Users: []User{userA}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, srv: srv, base: srv.ObjectStoreURL(), hc: testHTTPClient()}
	e.hc.Timeout = 10 * time.Minute
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	keep := randomData(1, 3<<20)
	e.put("/{a}/c/keep", string(keep), nil)
	start := time.Now()
	e.must(e.req("PUT", "/{a}/c/big", userA.Token, map[string]string{"Content-Type": "application/octet-stream"}, streamOf(2, size)), 201)
	if n := e.size("/{a}/c/big"); n != size {
		t.Fatalf("uploaded object is %d bytes, want %d", n, size)
	}
	before := dirSize(t, dir)
	t.Logf("1 GiB uploaded in %v; data dir %d bytes", time.Since(start), before)
	if before < gib {
		t.Fatalf("data dir holds %d bytes after a 1 GiB upload", before)
	}
	e.purge("/{a}/c/big")
	start = time.Now()
	st, err := srv.Cloud.GC(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	after := dirSize(t, dir)
	t.Logf("GC in %v: data dir %d -> %d bytes (fell %d); %+v", time.Since(start), before, after, before-after, st)
	if before-after < gib || st.Freed < gib || st.Removed != size/block {
		t.Errorf("data dir fell by %d bytes, GC freed %d in %d files; want >= %d in %d", before-after, st.Freed, st.Removed, gib, size/block)
	}
	if got := e.get("/{a}/c/keep"); got != string(keep) {
		t.Errorf("kept object changed after GC")
	}
	// A second run finds nothing more.
	if st, err := srv.Cloud.GC(context.Background(), 0); err != nil || st.Removed != 0 {
		t.Errorf("second GC: %+v %v", st, err)
	}
}

// The grace period keeps recent unreferenced blocks (a block POST waiting
// for its hashmap PUT).
func TestGCGraceKeepsRecentBlocks(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.must(e.do("POST", "/{a}/c?update", map[string]string{"Content-Type": "application/octet-stream"}, "abcdefgh"), 202)
	if st, err := e.srv.Cloud.GC(context.Background(), time.Hour); err != nil || st.Removed != 0 || st.Kept != 2 {
		t.Fatalf("GC with grace: %+v %v", st, err)
	}
	if st, err := e.srv.Cloud.GC(context.Background(), 0); err != nil || st.Removed != 2 {
		t.Fatalf("GC without grace: %+v %v", st, err)
	}
}

// A write that stored its blocks before the GC began commits after the GC
// read the database: the GC waits for it, so its blocks stay.
func TestGCWaitsForWritesInFlight(t *testing.T) {
	e := newEnv(t, 4)
	c := e.srv.Cloud
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	done := c.store.blocks.gc.enterWrite()
	hashes, size, _, err := c.storeBody(strings.NewReader("in flight data"), false)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	c.testGCHook = func(stage string) {
		if stage == "wait" {
			close(waiting)
		}
	}
	gcDone := make(chan error)
	go func() { _, err := c.GC(context.Background(), 0); gcDone <- err }()
	<-waiting
	select {
	case err := <-gcDone:
		t.Fatalf("GC finished while a write was in flight: %v", err)
	case <-time.After(50 * time.Millisecond): // only to give a wrong GC the chance to run on
	}
	err = c.store.update(func(tx *txn) error {
		cr, _ := tx.container(userA.UUID, "c")
		return tx.putObject(userA.UUID, "c", "o", cr, &objectRec{version: version{Bytes: size, Hashes: hashes, Type: "text/plain"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	done()
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	if got := e.get("/{a}/c/o"); got != "in flight data" {
		t.Errorf("object after GC: %q", got)
	}
}

// A block stored or checked after the GC read the database is kept even if
// nothing referenced it then.
func TestGCKeepsBlocksTouchedDuringRun(t *testing.T) {
	e := newEnv(t, 4)
	c := e.srv.Cloud
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/old", "0123456789abcdef", nil)
	e.purge("/{a}/c/old") // its four blocks are garbage now
	c.testGCHook = func(stage string) {
		if stage != "scanned" {
			return
		}
		// An upload of the same data, and a hashmap PUT of it, after
		// the scan: GC must keep what they rely on.
		e.put("/{a}/c/new", "01234567", nil)
		hm := hashmapJSON(16, refHashes([]byte("0123456789abcdef"), 4))
		e.must(e.do("PUT", "/{a}/c/byhash?hashmap", map[string]string{"Content-Type": "text/plain"}, hm), 201)
	}
	st, err := c.GC(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 0 || st.Kept != 4 {
		t.Errorf("GC: %+v, want 4 kept, none removed", st)
	}
	if e.get("/{a}/c/new") != "01234567" || e.get("/{a}/c/byhash") != "0123456789abcdef" {
		t.Errorf("objects written during GC lost data")
	}
}

// GC beside 8 writers uploading data that shares blocks with deleted
// objects, by PUT and by hashmap PUT + block POST: every committed object
// reads back with its sha256.
func TestGCConcurrentWithUploads(t *testing.T) {
	const bs = 1024
	e := newEnv(t, bs)
	c := e.srv.Cloud
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	pool := make([][]byte, 16) // shared block contents
	for i := range pool {
		pool[i] = randomData(uint64(100+i), bs)
	}
	compose := func(r *rand.Rand) []byte {
		var b bytes.Buffer
		for n := 1 + r.IntN(6); n > 0; n-- {
			b.Write(pool[r.IntN(len(pool))])
		}
		return b.Bytes()[:b.Len()-r.IntN(bs/2)]
	}
	type committed struct {
		name string
		sum  [32]byte
	}
	var (
		mu  sync.Mutex
		all []committed
	)
	ctx, cancel := context.WithCancel(context.Background())
	gcRuns := 0
	var gcErr error
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for ctx.Err() == nil {
			if _, err := c.GC(ctx, 0); err != nil && ctx.Err() == nil {
				gcErr = err
				return
			}
			gcRuns++
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []committed
			defer func() {
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
			for i := 0; i < 25; i++ {
				data := compose(r)
				name := fmt.Sprintf("/{a}/c/w%d-%d", w, i)
				if i%2 == 0 {
					e.put(name, string(data), nil)
				} else if !e.putByHashmap(name, data, bs) {
					continue
				}
				if r.IntN(3) == 0 { // make garbage sharing blocks with live objects
					e.purge(name)
					continue
				}
				mine = append(mine, committed{name, sha256.Sum256(data)})
			}
		}(w)
	}
	wg.Wait()
	cancel()
	<-gcDone
	if gcErr != nil {
		t.Fatal(gcErr)
	}
	if _, err := c.GC(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d objects committed, %d GC runs beside them", len(all), gcRuns)
	for _, o := range all {
		if got := sha256.Sum256([]byte(e.get(o.name))); got != o.sum {
			t.Errorf("%s: sha256 differs after GC", o.name)
		}
	}
}

// putByHashmap uploads as pithos clients do: hashmap PUT, block POST of the
// missing blocks on 409, again, a few times. false if it never committed.
func (e *env) putByHashmap(path string, data []byte, bs int) bool {
	e.t.Helper()
	hm := hashmapJSON(len(data), refHashes(data, bs))
	for try := 0; try < 20; try++ {
		r := e.do("PUT", path+"?hashmap", map[string]string{"Content-Type": "application/octet-stream"}, hm)
		switch r.code {
		case 201:
			return true
		case 409:
		default:
			e.t.Fatalf("hashmap PUT %s: %s", path, r)
		}
		var missing bytes.Buffer
		for i := 0; i < len(data); i += bs {
			missing.Write(data[i:min(i+bs, len(data))])
		}
		cont := path[:strings.LastIndexByte(path, '/')]
		e.must(e.do("POST", cont+"?update", map[string]string{"Content-Type": "application/octet-stream"}, missing.String()), 202)
	}
	return false
}

// A GC killed with SIGKILL part way loses no referenced block: after a
// restart every object reads back and the next GC finishes the job.
func TestGCKilledMidwayLosesNothing(t *testing.T) {
	if dir := os.Getenv("LOCALCLOUD_GC_CHILD"); dir != "" {
		gcChild(t, dir)
		return
	}
	dir := t.TempDir()
	srv, err := Start(Config{Dir: dir, BlockSize: 1024, Users: []User{userA}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, base: srv.ObjectStoreURL(), hc: testHTTPClient()}
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	sums := map[string][32]byte{}
	for i := 0; i < 6; i++ {
		data := randomData(uint64(i), 20*1024)
		name := fmt.Sprintf("/{a}/c/o%d", i)
		e.put(name, string(data), nil)
		if i%2 == 0 {
			sums[name] = sha256.Sum256(data)
		} else {
			e.purge(name) // 20 blocks of garbage each
		}
	}
	srv.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestGCKilledMidwayLosesNothing$", "-test.v")
	cmd.Env = append(os.Environ(), "LOCALCLOUD_GC_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(out)
	removed := 0
	for removed < 10 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "REMOVED") {
			removed++
		}
	}
	cmd.Process.Kill() // SIGKILL, mid-GC
	cmd.Wait()
	if removed < 10 {
		t.Fatalf("child GC removed only %d blocks before exiting", removed)
	}

	srv, err = Start(Config{Dir: dir, BlockSize: 1024, Users: []User{userA}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	e.srv, e.base = srv, srv.ObjectStoreURL()
	check := func(when string) {
		for name, sum := range sums {
			if got := sha256.Sum256([]byte(e.get(name))); got != sum {
				t.Errorf("%s %s: sha256 differs", when, name)
			}
		}
	}
	check("after kill -9")
	st, err := srv.Cloud.GC(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed+removed != 60 {
		t.Errorf("GC after restart removed %d, killed one %d; want 60 in all", st.Removed, removed)
	}
	check("after the next GC")
}

// gcChild runs a GC that announces each removal and stalls after the
// tenth, so the parent can kill it in the middle.
func gcChild(t *testing.T, dir string) {
	c, err := Open(Config{Dir: dir, BlockSize: 1024, Users: []User{userA}})
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	c.testGCHook = func(stage string) {
		if stage != "removed" {
			return
		}
		fmt.Println("REMOVED")
		if removed++; removed == 10 {
			time.Sleep(time.Hour) // stall here until the parent's SIGKILL
		}
	}
	c.GC(context.Background(), 0)
	t.Fatal("GC finished: the parent should have killed it")
}

// RunGC (serve --gc-interval) collects on its own while the server runs,
// and stops when its context ends.
func TestRunGCCollectsPeriodically(t *testing.T) {
	e := newEnv(t, 4)
	c := e.srv.Cloud
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/keep", "keepKEEP", nil)
	e.put("/{a}/c/gone", "0123456789abcdef", nil)
	e.purge("/{a}/c/gone")
	runs := make(chan string, 16)
	c.testGCHook = func(stage string) {
		if stage == "scanned" {
			select {
			case runs <- stage:
			default:
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.RunGC(ctx, time.Millisecond, 0); close(done) }()
	<-runs // one run has read the database...
	<-runs // ...and the next began, so the first finished
	cancel()
	<-done
	st, err := c.GC(context.Background(), 0)
	if err != nil || st.Removed != 0 || st.Scanned != 2 {
		t.Errorf("GC after RunGC: %+v %v (want the 4 garbage blocks gone already, 2 live kept)", st, err)
	}
	if e.get("/{a}/c/keep") != "keepKEEP" {
		t.Errorf("live object lost")
	}
}
