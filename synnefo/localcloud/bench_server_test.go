package localcloud

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkServerGet measures, side by side in one run, a 1 GiB object GET
// from the local cloud over loopback and a GET of the same bytes from a
// plain net/http file server. Run with `make bench-server`.
func BenchmarkServerGet(b *testing.B) {
	const size = 1 << 30
	dir := b.TempDir()
	srv, err := Start(Config{Dir: filepath.Join(dir, "cloud")})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	u := srv.Cloud.Users()[0]
	objURL := srv.ObjectStoreURL() + "/" + u.UUID + "/bench/big"
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	do := func(method, url string, body io.Reader, n int64) {
		req, _ := http.NewRequest(method, url, body)
		req.Header.Set("X-Auth-Token", u.Token)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.ContentLength = n
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %s", method, url, resp.Status)
		}
	}
	// The same pseudo-random bytes go to the object store and to a file.
	file := filepath.Join(dir, "big")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	block := make([]byte, 4<<20)
	for written := 0; written < size; written += len(block) {
		for i := 0; i < len(block); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8; j++ {
				block[i+j] = byte(v >> (8 * j))
			}
		}
		f.Write(block)
	}
	f.Close()
	do("PUT", srv.ObjectStoreURL()+"/"+u.UUID+"/bench", nil, 0)
	src, _ := os.Open(file)
	do("PUT", objURL, src, size)
	src.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	fileSrv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go fileSrv.Serve(ln)
	defer fileSrv.Close()
	fileURL := "http://" + ln.Addr().String() + "/big"

	get := func(url string, token bool) float64 {
		req, _ := http.NewRequest("GET", url, nil)
		if token {
			req.Header.Set("X-Auth-Token", u.Token)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != size {
			b.Fatalf("GET %s: %d bytes, %v", url, n, err)
		}
		return float64(n) / time.Since(start).Seconds() / 1e6
	}
	// Check once that the bytes really are the same.
	if !sameBody(b, client, objURL, u.Token, fileURL) {
		b.Fatal("object and file differ")
	}
	var ours, plain float64
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate so both see the same machine noise.
		plain += get(fileURL, false)
		ours += get(objURL, true)
	}
	b.StopTimer()
	ours /= float64(b.N)
	plain /= float64(b.N)
	b.ReportMetric(ours, "serve-MB/s")
	b.ReportMetric(plain, "fileserver-MB/s")
	b.ReportMetric(ours/plain, "ratio")
	fmt.Printf("1 GiB GET over loopback: pithosfs serve %.0f MB/s, net/http file server %.0f MB/s, ratio %.2f (goal >= 0.70)\n", ours, plain, ours/plain)
}

func sameBody(b *testing.B, c *http.Client, objURL, token, fileURL string) bool {
	read := func(url string, tok bool) []byte {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Range", "bytes=536870000-536880000")
		if tok {
			req.Header.Set("X-Auth-Token", token)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return data
	}
	x, y := read(objURL, true), read(fileURL, false)
	return len(x) == 10001 && bytes.Equal(x, y)
}
