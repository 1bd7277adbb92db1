package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// The floor of line (a) of BenchmarkMount: what any client that verifies the blocks it reads must pay on
// this machine. The reference (SHA-256 of the bytes in-process, on bytes already in the CPU's
// cache, plus curl's CPU for one raw GET) is a sum of two costs no client pays together: curl does not hash,
// and SHA-256 over bytes just copied out of a socket runs at about half its in-process speed here
// (docs/comparison.md, session 7). verifyingRead is that client, bare: in the bench process, no FUSE, no
// cache, no disk; it GETs the object's blocks from the same server as the mount does (one ranged GET per
// block, `parallel` at once, with If-Match), reads each block whole as the cache does (every read asks for
// the rest of the block, so the kernel hands over all it holds) and then hashes it, checking every block
// against the hashmap. Hashing each 256 KiB piece as it arrived instead cost this client and the daemon
// more CPU (session 12).

// floorParallel is how many block GETs the floor's block-by-block client runs at once: the mount's
// readahead window (cache.DefaultReadaheadBlocks, cache.DefaultPrefetchConcurrency).
const floorParallel = 8

// floorResult is one verifying read: its wall time and the bench process's CPU over it.
type floorResult struct {
	wall, cpu time.Duration
}

// verifyingRead reads path of u block by block, parallel blocks at once, verifying each against the
// object's hashmap; parallel ≤ 0 reads the whole object in one GET, verifying each block as its last byte
// arrives. It fails t on any error or mismatch.
func verifyingRead(t testing.TB, srv *serveProc, u cloudUser, path string, parallel int) floorResult {
	t.Helper()
	url := srv.objectURL(u, path)
	resp, body := doHTTP(t, srv.http, http.MethodGet, url+"?hashmap&format=json", u.Token, nil, nil)
	var hm hashmap.Map
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &hm) != nil || len(hm.Hashes) == 0 {
		t.Fatalf("hashmap of %s: %s %.200s", path, resp.Status, body)
	}
	etag := resp.Header.Get("ETag")
	// A client of its own, as a mount has: connections set up by this read.
	tr := &http.Transport{MaxIdleConnsPerHost: max(parallel, 1), DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	cpu0, start := processCPU(t), time.Now()
	if parallel <= 0 {
		if err := getVerified(c, url, u.Token, etag, 0, hm.Bytes, hm.BlockSize, hm.Hashes, make([]byte, hm.BlockSize)); err != nil {
			t.Fatal(err)
		}
	} else {
		verifyBlocks(t, c, url, u.Token, etag, &hm, parallel)
	}
	return floorResult{wall: time.Since(start), cpu: processCPU(t) - cpu0}
}

// verifyBlocks GETs every block of hm, parallel at once, each worker into its own reused buffer.
func verifyBlocks(t testing.TB, c *http.Client, url, token, etag string, hm *hashmap.Map, parallel int) {
	next := make(chan int)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, hm.BlockSize)
			for i := range next {
				off := int64(i) * hm.BlockSize
				n := min(hm.BlockSize, hm.Bytes-off)
				if err := getVerified(c, url, token, etag, off, n, hm.BlockSize, hm.Hashes[i:i+1], buf); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range hm.Hashes {
			select {
			case next <- i:
			case err := <-errs:
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// getVerified GETs n bytes from off (a multiple of bs) and checks each block of bs bytes against hashes,
// reading each block whole before hashing it.
func getVerified(c *http.Client, url, token, etag string, off, n, bs int64, hashes []string, buf []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("If-Match", etag)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent && !(resp.StatusCode == http.StatusOK && off == 0) {
		return fmt.Errorf("GET %s range %d+%d: %s", url, off, n, resp.Status)
	}
	for i, want := range hashes {
		blen := min(bs, n-int64(i)*bs)
		got, err := io.ReadFull(resp.Body, buf[:blen])
		if err != nil {
			return fmt.Errorf("GET %s: block %d: %d of %d bytes: %w", url, i, got, blen, err)
		}
		if sum := hashmap.BlockHashHex(buf[:blen]); sum != want {
			return fmt.Errorf("GET %s: block %d hashes to %s, hashmap says %s", url, i, sum, want)
		}
	}
	return nil
}

// processCPU is the bench process's user+system CPU time so far.
func processCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestVerifyingReadChecks: the floor's client verifies what it reads (a block ending in zeros hashes without
// them; a wrong byte or a short body fails), so its figures are those of a client that does the work.
func TestVerifyingReadChecks(t *testing.T) {
	const bs = 1 << 20
	obj := make([]byte, 3*bs-1000)
	for i := range obj[:bs] {
		obj[i] = byte(i*7 + 1)
	}
	copy(obj[2*bs:], "tail") // block 1 is all zeros, block 2 ends in zeros
	hm := hashmap.HashBytes(obj, bs)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "obj", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	c := srv.Client()
	read := func() error {
		for i := range hm.Hashes {
			off := int64(i) * bs
			if err := getVerified(c, srv.URL, "", "", off, min(bs, int64(len(obj))-off), bs, hm.Hashes[i:i+1], make([]byte, bs)); err != nil {
				return err
			}
		}
		return getVerified(c, srv.URL, "", "", 0, int64(len(obj)), bs, hm.Hashes, make([]byte, bs))
	}
	body = obj
	if err := read(); err != nil {
		t.Fatalf("the object as hashed: %v", err)
	}
	body = bytes.Clone(obj)
	body[2*bs+1] ^= 1
	if err := read(); err == nil {
		t.Fatal("a changed byte in block 2 went unnoticed")
	}
	body = obj[:len(obj)-1]
	if err := read(); err == nil {
		t.Fatal("a short body went unnoticed")
	}
}
