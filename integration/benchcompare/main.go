// Command benchcompare measures pithosfs next to `rclone mount` (Swift
// backend, --vfs-cache-mode writes) on one object store, against the raw
// HTTP figure of each operation: cold sequential read and write (until the
// object is on the server) of one large file, `ls -l` of a directory of many
// objects, `cp -r` of many small files (also through pithosfs with
// --async-close-max, and as raw PUTs one at a time), and the peak RSS of
// each daemon.
// scripts/bench-compare.sh runs it against a real Swift and against
// `pithosfs serve`; see docs/comparison.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	bin, target         string
	authURL, user, key  string // Swift v1.0 auth (target swift)
	sizeMiB             int64
	lsCount, smallCount int
	smallSize           int
	work                string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "pithosfs", "bin/pithosfs", "pithosfs binary")
	flag.StringVar(&c.target, "target", "serve", "serve (start pithosfs serve) or swift (use -auth-url/-user/-key)")
	flag.StringVar(&c.authURL, "auth-url", os.Getenv("SWIFT_AUTH_URL"), "Swift v1.0 auth URL")
	flag.StringVar(&c.user, "user", os.Getenv("SWIFT_USER"), "Swift user (account:user)")
	flag.StringVar(&c.key, "key", os.Getenv("SWIFT_KEY"), "Swift key")
	flag.Int64Var(&c.sizeMiB, "size-mib", 1024, "size of the large file, MiB")
	flag.IntVar(&c.lsCount, "ls-count", 10000, "objects in the listed directory")
	flag.IntVar(&c.smallCount, "small-count", 2000, "small files copied with cp -r")
	flag.IntVar(&c.smallSize, "small-size", 4096, "size of each small file, bytes")
	flag.StringVar(&c.work, "work", "", "scratch directory (default: a new one under $TMPDIR)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(1)
	}
}

// store is the object store under test, spoken to directly.
type store struct {
	storageURL, token string
	hc                *http.Client
	// pithosfs mount arguments and rclone's backend configuration.
	mountArgs []string
	rcloneEnv []string
	stop      func()
}

func (s *store) do(method, path string, body io.Reader, size int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(method, s.storageURL+"/"+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	req.Header.Set("X-Auth-Token", s.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return s.hc.Do(req)
}

func (s *store) must(method, path string, body io.Reader, size int64, hdr map[string]string) error {
	resp, err := s.do(method, path, body, size, hdr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return nil
}

func (s *store) size(path string) int64 {
	resp, err := s.do(http.MethodHead, path, nil, 0, nil)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return -1
	}
	return resp.ContentLength
}

// count lists a container (all pages) and returns how many objects it
// has below prefix.
func (s *store) count(container, prefix string) (int, error) {
	n, marker := 0, ""
	for {
		resp, err := s.do(http.MethodGet, container+"?format=json&limit=10000&prefix="+url.QueryEscape(prefix)+"&marker="+url.QueryEscape(marker), nil, 0, nil)
		if err != nil {
			return 0, err
		}
		var page []struct {
			Name string `json:"name"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		n += len(page)
		if len(page) < 10000 {
			return n, nil
		}
		marker = page[len(page)-1].Name
	}
}

func openStore(c config) (*store, error) {
	s := &store{hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	switch c.target {
	case "swift":
		req, _ := http.NewRequest(http.MethodGet, c.authURL, nil)
		req.Header.Set("X-Auth-User", c.user)
		req.Header.Set("X-Auth-Key", c.key)
		resp, err := s.hc.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		s.storageURL, s.token = resp.Header.Get("X-Storage-Url"), resp.Header.Get("X-Auth-Token")
		if s.storageURL == "" {
			return nil, fmt.Errorf("swift auth at %s: %s", c.authURL, resp.Status)
		}
		s.mountArgs = []string{"--url", c.authURL, "--user", c.user, "--token", c.key}
		s.rcloneEnv = []string{"RCLONE_CONFIG_BENCH_TYPE=swift", "RCLONE_CONFIG_BENCH_AUTH=" + c.authURL,
			"RCLONE_CONFIG_BENCH_USER=" + c.user, "RCLONE_CONFIG_BENCH_KEY=" + c.key}
		s.stop = func() {}
		return s, nil
	case "serve":
		dir := filepath.Join(c.work, "serve")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		const uuid, token = "be0c0000-0000-4000-8000-000000000001", "bench-token-0001"
		users := filepath.Join(dir, "users.json")
		if err := os.WriteFile(users, []byte(`[{"name":"bench@example.org","uuid":"`+uuid+`","token":"`+token+`"}]`), 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command(c.bin, "--log-level", "warn", "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--users", users)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		urlc := make(chan string, 1)
		go func() {
			buf := make([]byte, 4096)
			var acc []byte
			for {
				n, err := out.Read(buf)
				acc = append(acc, buf[:n]...)
				if i := bytes.Index(acc, []byte(" on http://")); i >= 0 {
					if j := bytes.IndexByte(acc[i:], '\n'); j > 0 {
						urlc <- string(acc[i+4 : i+j])
						_, _ = io.Copy(io.Discard, out)
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		var base string
		select {
		case base = <-urlc:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return nil, errors.New("pithosfs serve did not start")
		}
		s.storageURL, s.token = base+"/pithos/object-store/v1/"+uuid, token
		s.mountArgs = []string{"--url", base + "/astakos/identity/v2.0", "--token", token}
		s.rcloneEnv = []string{"RCLONE_CONFIG_BENCH_TYPE=swift", "RCLONE_CONFIG_BENCH_STORAGE_URL=" + s.storageURL,
			"RCLONE_CONFIG_BENCH_AUTH_TOKEN=" + token}
		s.stop = func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
		return s, nil
	}
	return nil, fmt.Errorf("unknown target %q", c.target)
}

// randomFile writes size pseudo-random bytes (a fresh seed each call, so no
// two files share blocks) to path.
func randomFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{byte(time.Now().UnixNano()), byte(time.Now().UnixNano() >> 8), byte(rand.Uint32())})
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// daemon is a running mount.
type daemon struct {
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	log  *bytes.Buffer
}

func mounted(dir string) bool {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

func startDaemon(name string, args, env []string, dir string) (*daemon, error) {
	d := &daemon{cmd: exec.Command(name, args...), dir: dir, done: make(chan struct{}), log: &bytes.Buffer{}}
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for !mounted(dir) {
		select {
		case <-d.done:
			return nil, fmt.Errorf("%s exited before mounting:\n%s", name, d.log.String())
		default:
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("%s: not mounted after 60s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d, nil
}

// peakRSS is the daemon's VmHWM, in bytes.
func (d *daemon) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(120 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	if mounted(d.dir) {
		_ = exec.Command("fusermount3", "-u", "-z", d.dir).Run()
	}
}

// tool mounts one container of the store.
type tool struct {
	name  string
	mount func(container, dir, cache string) (*daemon, error)
}

func tools(c config, s *store) []tool {
	return []tool{
		{"pithosfs", func(container, dir, cache string) (*daemon, error) {
			args := append([]string{"--log-level", "warn", "mount"}, s.mountArgs...)
			args = append(args, "--cache-dir", cache, "/"+container, dir)
			return startDaemon(c.bin, args, []string{"HOME=" + cache}, dir)
		}},
		{"rclone", func(container, dir, cache string) (*daemon, error) {
			return startDaemon("rclone", []string{"mount", "bench:" + container, dir, "--vfs-cache-mode", "writes",
				"--cache-dir", cache, "--config", "/dev/null"}, s.rcloneEnv, dir)
		}},
	}
}

// result is one tool's figures.
type result struct {
	readMBs, writeMBs float64
	ls, cp            time.Duration
	rss               int64
	notes             []string
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

func timeit(f func() error) (time.Duration, error) {
	t := time.Now()
	err := f()
	return time.Since(t), err
}

func sh(script string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "-c", script).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", script, err, out)
	}
	return nil
}

// waitFor polls until ok or the timeout.
func waitFor(within time.Duration, ok func() bool) error {
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func run(c config) error {
	if c.work == "" {
		d, err := os.MkdirTemp("", "bench-compare-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.work = d
	}
	s, err := openStore(c)
	if err != nil {
		return err
	}
	defer s.stop()
	size := c.sizeMiB << 20
	tag := strconv.FormatInt(time.Now().Unix(), 36)
	big, lsC, wrC, smC := "bc-big-"+tag, "bc-ls-"+tag, "bc-wr-"+tag, "bc-small-"+tag
	for _, ct := range []string{big, lsC, wrC, smC} {
		if err := s.must(http.MethodPut, ct, nil, 0, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "target %s: %s\n", c.target, s.storageURL)

	// Raw HTTP: one streamed PUT and one GET of the large object, one
	// listing request of the many-object container.
	src := filepath.Join(c.work, "src.bin")
	if err := randomFile(src, size); err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	rawPut, err := timeit(func() error {
		return s.must(http.MethodPut, big+"/big.bin", f, size, map[string]string{"Content-Type": "application/octet-stream"})
	})
	f.Close()
	if err != nil {
		return err
	}
	rawGet, err := timeit(func() error { return s.must(http.MethodGet, big+"/big.bin", nil, 0, nil) })
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "raw: PUT %.0f MiB/s, GET %.0f MiB/s; creating %d objects…\n", mbps(size, rawPut), mbps(size, rawGet), c.lsCount)
	if err := fill(s, lsC, c.lsCount); err != nil {
		return err
	}
	rawList, err := timeit(func() error {
		return s.must(http.MethodGet, lsC+"?format=json&limit=10000", nil, 0, nil)
	})
	if err != nil {
		return err
	}
	small := filepath.Join(c.work, "small")
	if err := os.MkdirAll(small, 0o755); err != nil {
		return err
	}
	for i := 0; i < c.smallCount; i++ {
		if err := randomFile(filepath.Join(small, fmt.Sprintf("f%05d", i)), int64(c.smallSize)); err != nil {
			return err
		}
	}

	results := map[string]result{}
	var names []string
	for _, t := range tools(c, s) {
		names = append(names, t.name)
		var r result
		m := func(container, what string) (*daemon, string, error) {
			dir := filepath.Join(c.work, t.name+"-"+what)
			cache := filepath.Join(c.work, t.name+"-"+what+"-cache")
			for _, d := range []string{dir, cache} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return nil, "", err
				}
			}
			d, err := t.mount(container, dir, cache)
			return d, dir, err
		}
		track := func(d *daemon) {
			r.rss = max(r.rss, d.peakRSS())
			d.stop()
		}
		fmt.Fprintf(os.Stderr, "%s: cold read…\n", t.name)
		d, dir, err := m(big, "read")
		if err != nil {
			return err
		}
		var readErr error
		took, err := timeit(func() error {
			f, err := os.Open(dir + "/big.bin")
			if err != nil {
				return err
			}
			defer f.Close()
			n, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
			if n != size {
				return fmt.Errorf("read %d of %d bytes: %v", n, size, err)
			}
			readErr = err // every byte arrived, but the read failed at the end
			return nil
		})
		if err != nil {
			return err
		}
		if readErr != nil {
			r.notes = append(r.notes, fmt.Sprintf("%s: the read returned every byte, then failed: %v", t.name, readErr))
		}
		r.readMBs = mbps(size, took)
		track(d)

		fmt.Fprintf(os.Stderr, "%s: write…\n", t.name)
		if err := randomFile(src, size); err != nil { // fresh bytes: nothing to deduplicate
			return err
		}
		d, dir, err = m(wrC, "write")
		if err != nil {
			return err
		}
		name := t.name + ".bin"
		took, err = timeit(func() error {
			if err := sh(fmt.Sprintf("dd if=%s of=%s/%s bs=1M status=none", src, dir, name)); err != nil {
				return err
			}
			return waitFor(30*time.Minute, func() bool { return s.size(wrC+"/"+name) == size })
		})
		if err != nil {
			return err
		}
		r.writeMBs = mbps(size, took)
		track(d)

		fmt.Fprintf(os.Stderr, "%s: ls -l…\n", t.name)
		d, dir, err = m(lsC, "ls")
		if err != nil {
			return err
		}
		if r.ls, err = timeit(func() error { return sh("ls -l " + dir + " > /dev/null") }); err != nil {
			return err
		}
		track(d)

		fmt.Fprintf(os.Stderr, "%s: cp -r…\n", t.name)
		d, dir, err = m(smC, "cp")
		if err != nil {
			return err
		}
		if r.cp, err = timeit(func() error {
			if err := sh(fmt.Sprintf("cp -r %s %s/%s", small, dir, t.name)); err != nil {
				return err
			}
			return waitFor(30*time.Minute, func() bool {
				n, err := s.count(smC, t.name+"/")
				return err == nil && n >= c.smallCount
			})
		}); err != nil {
			return err
		}
		track(d)
		results[t.name] = r
	}
	// cp -r once more through pithosfs with --async-close-max (close()
	// returns before the upload), and the same files PUT one at a time.
	asyncCp, err := cpThrough(c, s, smC, "pithosfs-async", small, []string{"--async-close-max", "1MiB"})
	if err != nil {
		return err
	}
	rawCp, err := timeit(func() error { return putDir(s, smC+"/raw", small) })
	if err != nil {
		return err
	}
	p, rc := results["pithosfs"], results["rclone"]
	fmt.Printf("\n### %s (%s), large file %d MiB, ls -l of %d objects, cp -r of %d × %d B\n\n", c.target, s.storageURL, c.sizeMiB, c.lsCount, c.smallCount, c.smallSize)
	fmt.Printf("| operation | raw HTTP | pithosfs | rclone mount | pithosfs / raw | rclone / raw | pithosfs vs rclone |\n|---|---|---|---|---|---|---|\n")
	fmt.Printf("| cold sequential read | %.0f MiB/s (1 GET) | %.0f MiB/s | %.0f MiB/s | %.2f× | %.2f× | %.2f× faster |\n",
		mbps(size, rawGet), p.readMBs, rc.readMBs, p.readMBs/mbps(size, rawGet), rc.readMBs/mbps(size, rawGet), p.readMBs/rc.readMBs)
	fmt.Printf("| write until on the server | %.0f MiB/s (1 PUT) | %.0f MiB/s | %.0f MiB/s | %.2f× | %.2f× | %.2f× faster |\n",
		mbps(size, rawPut), p.writeMBs, rc.writeMBs, p.writeMBs/mbps(size, rawPut), rc.writeMBs/mbps(size, rawPut), p.writeMBs/rc.writeMBs)
	fmt.Printf("| `ls -l` of %d objects | %s (1 listing) | %s | %s | %.2f× the listing | %.2f× the listing | %.1f× faster |\n",
		c.lsCount, rawList.Round(time.Millisecond), p.ls.Round(time.Millisecond), rc.ls.Round(time.Millisecond),
		p.ls.Seconds()/rawList.Seconds(), rc.ls.Seconds()/rawList.Seconds(), rc.ls.Seconds()/p.ls.Seconds())
	fmt.Printf("| `cp -r` of %d small files (until on the server) | %s (PUTs one at a time) | %s | %s | %.2f× | %.2f× | %.1f× faster |\n",
		c.smallCount, rawCp.Round(time.Millisecond), p.cp.Round(time.Millisecond), rc.cp.Round(time.Millisecond),
		rawCp.Seconds()/p.cp.Seconds(), rawCp.Seconds()/rc.cp.Seconds(), rc.cp.Seconds()/p.cp.Seconds())
	fmt.Printf("| the same, pithosfs with `--async-close-max 1MiB` | %s | %s | %s | %.2f× | %.2f× | %.1f× faster |\n",
		rawCp.Round(time.Millisecond), asyncCp.Round(time.Millisecond), rc.cp.Round(time.Millisecond),
		rawCp.Seconds()/asyncCp.Seconds(), rawCp.Seconds()/rc.cp.Seconds(), rc.cp.Seconds()/asyncCp.Seconds())
	fmt.Printf("| daemon peak RSS (max over the runs) | — | %d MiB | %d MiB | — | — | %.2f× rclone's |\n", p.rss>>20, rc.rss>>20, float64(p.rss)/float64(rc.rss))
	for _, n := range names {
		for _, note := range results[n].notes {
			fmt.Printf("\nNote: %s\n", note)
		}
	}
	return nil
}

// fill creates n small objects in container, 32 at a time.
func fill(s *store, container string, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			body := []byte(fmt.Sprintf("object %d\n", i))
			if err := s.must(http.MethodPut, fmt.Sprintf("%s/o%05d.txt", container, i), bytes.NewReader(body), int64(len(body)),
				map[string]string{"Content-Type": "text/plain"}); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}(i)
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// cpThrough mounts container with pithosfs (and extra options) and times
// cp -r of src into it as name/, until every file is on the server.
func cpThrough(c config, s *store, container, name, src string, extra []string) (time.Duration, error) {
	dir, cache := filepath.Join(c.work, name+"-cp"), filepath.Join(c.work, name+"-cp-cache")
	for _, d := range []string{dir, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	args := append([]string{"--log-level", "warn", "mount"}, s.mountArgs...)
	args = append(append(args, extra...), "--cache-dir", cache, "/"+container, dir)
	d, err := startDaemon(c.bin, args, []string{"HOME=" + cache}, dir)
	if err != nil {
		return 0, err
	}
	defer d.stop()
	n, err := countFiles(src)
	if err != nil {
		return 0, err
	}
	return timeit(func() error {
		if err := sh(fmt.Sprintf("cp -r %s %s/%s", src, dir, name)); err != nil {
			return err
		}
		return waitFor(30*time.Minute, func() bool {
			got, err := s.count(container, name+"/")
			return err == nil && got >= n
		})
	})
}

func countFiles(dir string) (int, error) {
	es, err := os.ReadDir(dir)
	return len(es), err
}

// putDir PUTs every file of dir as prefix/NAME, one after the other on one
// connection: the raw cost of the files' uploads without parallelism.
func putDir(s *store, prefix, dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := s.must(http.MethodPut, prefix+"/"+e.Name(), bytes.NewReader(data), int64(len(data)),
			map[string]string{"Content-Type": "application/octet-stream"}); err != nil {
			return err
		}
	}
	return nil
}
