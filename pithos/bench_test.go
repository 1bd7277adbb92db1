package pithos_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// genData is a deterministic pseudo-random io.ReaderAt of a given size: no disk, no big buffers.
type genData struct {
	seed uint64
	size int64
}

const genChunk = 64 << 10

func (g genData) ReadAt(p []byte, off int64) (int, error) {
	if off >= g.size {
		return 0, io.EOF
	}
	n := 0
	buf := make([]byte, genChunk)
	for n < len(p) && off < g.size {
		chunk := off / genChunk
		var key [32]byte
		binary.LittleEndian.PutUint64(key[:], g.seed)
		binary.LittleEndian.PutUint64(key[8:], uint64(chunk))
		_, _ = rand.NewChaCha8(key).Read(buf)
		in := off - chunk*genChunk
		c := copy(p[n:], buf[in:min(int64(genChunk), g.size-chunk*genChunk)])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (g genData) Size() int64 { return g.size }

// discardAt accepts writes and counts them.
type discardAt struct {
	mu sync.Mutex
	n  int64
}

func (d *discardAt) WriteAt(p []byte, _ int64) (int, error) {
	d.mu.Lock()
	d.n += int64(len(p))
	d.mu.Unlock()
	return len(p), nil
}

// loop is the minimal hand-rolled net/http client doing the same block requests as pithos.
type loop struct {
	hc                *http.Client
	base, token, acct string
	conc              int
}

func (l *loop) req(ctx context.Context, method, path string, body []byte, hdr map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return nil, err
	}
	r.Header.Set("X-Auth-Token", l.token)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return l.hc.Do(r)
}

func (l *loop) upload(ctx context.Context, cont, name string, src genData, bs int64) error {
	first := map[string]int64{}
	hm, err := hashmap.HashReader(io.NewSectionReader(src, 0, src.size), bs, func(i int, h string, _ []byte) error {
		if _, ok := first[h]; !ok {
			first[h] = int64(i)
		}
		return nil
	})
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"bytes": hm.Bytes, "hashes": hm.Hashes})
	path := "/" + l.acct + "/" + cont + "/" + name + "?format=json&hashmap="
	put := func() (int, []string, error) {
		resp, err := l.req(ctx, "PUT", path, body, map[string]string{"Content-Type": "application/octet-stream"})
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var missing []string
		if resp.StatusCode == 409 {
			err = json.NewDecoder(resp.Body).Decode(&missing)
		}
		return resp.StatusCode, missing, err
	}
	status, missing, err := put()
	if err != nil || status == 201 {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.conc)
	for _, h := range missing {
		g.Go(func() error {
			off := first[h] * bs
			buf := make([]byte, min(bs, src.size-off))
			if _, err := src.ReadAt(buf, off); err != nil && err != io.EOF {
				return err
			}
			resp, err := l.req(gctx, "POST", "/"+l.acct+"/"+cont+"?format=json&update=", buf, map[string]string{"Content-Type": "application/octet-stream"})
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 202 {
				return fmt.Errorf("block POST: %s", resp.Status)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if status, _, err = put(); err != nil || status != 201 {
		return fmt.Errorf("second PUT %d: %v", status, err)
	}
	return nil
}

func (l *loop) download(ctx context.Context, cont, name string, w io.WriterAt) error {
	path := "/" + l.acct + "/" + cont + "/" + name
	resp, err := l.req(ctx, "GET", path+"?format=json&hashmap=", nil, nil)
	if err != nil {
		return err
	}
	var hm pithos.Hashmap
	err = json.NewDecoder(resp.Body).Decode(&hm)
	resp.Body.Close()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.conc)
	seen := map[string]bool{}
	for i, h := range hm.Hashes {
		if seen[h] {
			continue
		}
		seen[h] = true
		g.Go(func() error {
			off := int64(i) * hm.BlockSize
			end := min(off+hm.BlockSize, hm.Bytes) - 1
			resp, err := l.req(gctx, "GET", path+"?format=json", nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, end)})
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			_, err = w.WriteAt(data, off)
			return err
		})
	}
	return g.Wait()
}

// BenchmarkTransfer uploads and downloads PITHOS_BENCH_BYTES (default 1 GiB) through the pithos client
// and through a hand-rolled net/http loop doing the same parallel block requests, against the local
// cloud, in one process; it reports both throughputs and their ratio, and checks that re-uploading the
// same data sends at most 1 MiB of request bodies.
func BenchmarkTransfer(b *testing.B) {
	size := int64(1 << 30)
	if s := os.Getenv("PITHOS_BENCH_BYTES"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	const bs = 4 << 20
	srv := localcloudtest.NewConfig(b, localcloudtest.Config{BlockSize: bs})
	u := srv.User()
	ct := &countingTransport{}
	hc, _ := synnefo.NewHTTPClient(synnefo.Options{})
	ct.next = hc.Transport
	c, err := pithos.New(srv.ObjectStoreURL(), u.Token, synnefo.Options{HTTPClient: &http.Client{Transport: ct}})
	if err != nil {
		b.Fatal(err)
	}
	c = c.WithAccount(u.UUID)
	ctx := context.Background()
	if _, err := c.CreateContainer(ctx, "bench", pithos.CreateContainerOptions{}); err != nil {
		b.Fatal(err)
	}
	lhc, _ := synnefo.NewHTTPClient(synnefo.Options{})
	lp := &loop{hc: lhc, base: srv.ObjectStoreURL(), token: u.Token, acct: u.UUID, conc: c.Config().Concurrency}
	mbps := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	var loopUp, loopDown, cliUp, cliDown time.Duration
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("o%d", i)
		runLoop := func() {
			t0 := time.Now()
			if err := lp.upload(ctx, "bench", "loop-"+name, genData{seed: uint64(2*i + 1), size: size}, bs); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := lp.download(ctx, "bench", "loop-"+name, &discardAt{}); err != nil {
				b.Fatal(err)
			}
			loopUp, loopDown = loopUp+t1.Sub(t0), loopDown+time.Since(t1)
		}
		runClient := func() {
			t0 := time.Now()
			if _, err := c.UploadObject(ctx, "bench", "cli-"+name, io.NewSectionReader(genData{seed: uint64(2*i + 2), size: size}, 0, size), pithos.UploadOptions{}); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			sink := &discardAt{}
			if _, _, err := c.DownloadObject(ctx, "bench", "cli-"+name, sink, pithos.DownloadOptions{}); err != nil {
				b.Fatal(err)
			}
			cliUp, cliDown = cliUp+t1.Sub(t0), cliDown+time.Since(t1)
			if sink.n != size {
				b.Fatalf("downloaded %d bytes", sink.n)
			}
		}
		// Alternate who goes first, so neither always meets a colder or fuller server.
		if i%2 == 0 {
			runClient()
			runLoop()
		} else {
			runLoop()
			runClient()
		}
		ct.reset()
		if _, err := c.UploadObject(ctx, "bench", "again-"+name, io.NewSectionReader(genData{seed: uint64(2*i + 2), size: size}, 0, size), pithos.UploadOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, _, _, body := ct.reset(); body > 1<<20 {
			b.Fatalf("re-upload sent %d request body bytes", body)
		} else {
			b.ReportMetric(float64(body), "reupload-body-bytes")
		}
	}
	n := time.Duration(b.N)
	b.ReportMetric(mbps(cliUp/n), "client-up-MB/s")
	b.ReportMetric(mbps(loopUp/n), "loop-up-MB/s")
	b.ReportMetric(mbps(cliDown/n), "client-down-MB/s")
	b.ReportMetric(mbps(loopDown/n), "loop-down-MB/s")
	b.ReportMetric(float64(loopUp)/float64(cliUp), "up-ratio")
	b.ReportMetric(float64(loopDown)/float64(cliDown), "down-ratio")
}
