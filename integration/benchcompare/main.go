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
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// tool mounts one container of the store; extra are more mount options.
type tool struct {
	name  string
	mount func(container, dir, cache string, extra []string) (*daemon, error)
}

func tools(c config, s *store) []tool {
	return []tool{
		{"pithosfs", func(container, dir, cache string, extra []string) (*daemon, error) {
			args := append([]string{"--log-level", "warn", "mount"}, s.mountArgs...)
			args = append(append(args, extra...), "--cache-dir", cache, "/"+container, dir)
			return startDaemon(c.bin, args, []string{"HOME=" + cache}, dir)
		}},
		{"rclone", func(container, dir, cache string, extra []string) (*daemon, error) {
			args := append([]string{"mount", "bench:" + container, dir, "--vfs-cache-mode", "writes",
				"--cache-dir", cache, "--config", "/dev/null"}, extra...)
			return startDaemon("rclone", args, s.rcloneEnv, dir)
		}},
	}
}

// figure is one operation through one fresh mount: its time, the daemon's
// CPU (user+system) over it, and the daemon's peak RSS.
type figure struct {
	took, cpu time.Duration
	rss       int64
}

// result is one tool's figures.
type result struct {
	read, write, ls, cp figure
	// rawGet is one raw GET of the large object just before this tool's cold
	// read (after the same sync): its reference, side by side.
	rawGet time.Duration
	notes  []string
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

// bench is one run: the store, its containers and the local files.
type bench struct {
	c                  config
	s                  *store
	size               int64
	big, lsC, wrC, smC string
	src, small         string
	rawPut, rawLst     time.Duration
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
	tag := strconv.FormatInt(time.Now().Unix(), 36)
	b := &bench{c: c, s: s, size: c.sizeMiB << 20, big: "bc-big-" + tag, lsC: "bc-ls-" + tag, wrC: "bc-wr-" + tag,
		smC: "bc-small-" + tag, src: filepath.Join(c.work, "src.bin"), small: filepath.Join(c.work, "small")}
	if err := b.prepare(); err != nil {
		return err
	}
	results := map[string]result{}
	var names []string
	for _, t := range tools(c, s) {
		names = append(names, t.name)
		r, err := b.measure(t)
		if err != nil {
			return err
		}
		results[t.name] = r
	}
	// cp -r once more through pithosfs with --async-close-max (close()
	// returns before the upload), and the same files PUT one at a time.
	asyncCp, err := b.cp(tools(c, s)[0], "pithosfs-async", []string{"--async-close-max", "1MiB"})
	if err != nil {
		return err
	}
	rawCp, err := timeit(func() error { return putDir(s, b.smC+"/raw", b.small) })
	if err != nil {
		return err
	}
	b.report(results["pithosfs"], results["rclone"], asyncCp, rawCp)
	for _, n := range names {
		for _, note := range results[n].notes {
			fmt.Printf("\nNote: %s\n", note)
		}
	}
	return nil
}

// prepare makes the containers and the local files, and measures the raw
// figures: one streamed PUT of the large object, one listing request of the
// many-object container (the raw GET is measured before each tool's read).
func (b *bench) prepare() error {
	s := b.s
	for _, ct := range []string{b.big, b.lsC, b.wrC, b.smC} {
		if err := s.must(http.MethodPut, ct, nil, 0, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "target %s: %s\n", b.c.target, s.storageURL)
	if err := randomFile(b.src, b.size); err != nil {
		return err
	}
	syscall.Sync() // as before each operation through a mount (through)
	f, err := os.Open(b.src)
	if err != nil {
		return err
	}
	b.rawPut, err = timeit(func() error {
		return s.must(http.MethodPut, b.big+"/big.bin", f, b.size, map[string]string{"Content-Type": "application/octet-stream"})
	})
	f.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "raw: PUT %.0f MiB/s; creating %d objects…\n", mbps(b.size, b.rawPut), b.c.lsCount)
	if err := fill(s, b.lsC, b.c.lsCount); err != nil {
		return err
	}
	if b.rawLst, err = timeit(func() error { return s.must(http.MethodGet, b.lsC+"?format=json&limit=10000", nil, 0, nil) }); err != nil {
		return err
	}
	if err := os.MkdirAll(b.small, 0o755); err != nil {
		return err
	}
	for i := 0; i < b.c.smallCount; i++ {
		if err := randomFile(filepath.Join(b.small, fmt.Sprintf("f%05d", i)), int64(b.c.smallSize)); err != nil {
			return err
		}
	}
	return nil
}

// through mounts container with t in a fresh directory and cache, runs op
// on the mount and returns its figure.
func (b *bench) through(t tool, container, what string, extra []string, op func(dir string) error) (figure, error) {
	dir := filepath.Join(b.c.work, t.name+"-"+what)
	cache := filepath.Join(b.c.work, t.name+"-"+what+"-cache")
	for _, d := range []string{dir, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return figure{}, err
		}
	}
	d, err := t.mount(container, dir, cache, extra)
	if err != nil {
		return figure{}, err
	}
	defer d.stop()
	cpu0 := d.cpu()
	// Nothing left dirty by what came before (a source file just written, the previous tool's
	// blocks): the kernel's writeback would otherwise run beside the operation measured.
	syscall.Sync()
	took, err := timeit(func() error { return op(dir) })
	return figure{took: took, cpu: d.cpu() - cpu0, rss: d.peakRSS()}, err
}

// measure runs every operation through t.
func (b *bench) measure(t tool) (result, error) {
	var r result
	var err error
	fmt.Fprintf(os.Stderr, "%s: cold read…\n", t.name)
	syscall.Sync() // as through does before the read
	if r.rawGet, err = timeit(func() error { return b.s.must(http.MethodGet, b.big+"/big.bin", nil, 0, nil) }); err != nil {
		return r, err
	}
	if r.read, err = b.through(t, b.big, "read", nil, func(dir string) error {
		f, err := os.Open(dir + "/big.bin")
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
		if n != b.size {
			return fmt.Errorf("read %d of %d bytes: %v", n, b.size, err)
		}
		if err != nil { // every byte arrived, but the read failed at the end
			r.notes = append(r.notes, fmt.Sprintf("%s: the read returned every byte, then failed: %v", t.name, err))
		}
		return nil
	}); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "%s: write…\n", t.name)
	if err := randomFile(b.src, b.size); err != nil { // fresh bytes: nothing to deduplicate
		return r, err
	}
	name := t.name + ".bin"
	if r.write, err = b.through(t, b.wrC, "write", nil, func(dir string) error {
		if err := sh(fmt.Sprintf("dd if=%s of=%s/%s bs=1M status=none", b.src, dir, name)); err != nil {
			return err
		}
		return waitFor(30*time.Minute, func() bool { return b.s.size(b.wrC+"/"+name) == b.size })
	}); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "%s: ls -l…\n", t.name)
	if r.ls, err = b.through(t, b.lsC, "ls", nil, func(dir string) error { return sh("ls -l " + dir + " > /dev/null") }); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "%s: cp -r…\n", t.name)
	r.cp, err = b.cp(t, t.name, nil)
	return r, err
}

// cp times cp -r of the small files into the small-file container as
// name/ through t (with extra mount options), until all are on the server.
func (b *bench) cp(t tool, name string, extra []string) (figure, error) {
	return b.through(t, b.smC, name+"-cp", extra, func(dir string) error {
		if err := sh(fmt.Sprintf("cp -r %s %s/%s", b.small, dir, name)); err != nil {
			return err
		}
		return waitFor(30*time.Minute, func() bool {
			got, err := b.s.count(b.smC, name+"/")
			return err == nil && got >= b.c.smallCount
		})
	})
}

// report prints the table: each operation's raw figure, both tools' and
// their ratios, then each tool's daemon CPU and peak RSS for it.
func (b *bench) report(p, rc result, asyncCp figure, rawCp time.Duration) {
	c, size := b.c, b.size
	fmt.Printf("\n### %s (%s), large file %d MiB, ls -l of %d objects, cp -r of %d × %d B\n\n", c.target, b.s.storageURL, c.sizeMiB, c.lsCount, c.smallCount, c.smallSize)
	fmt.Printf("| operation | raw HTTP | pithosfs | rclone mount | pithosfs / raw | rclone / raw | pithosfs vs rclone | daemon CPU s: pithosfs, rclone | peak RSS MiB: pithosfs, rclone |\n|---|---|---|---|---|---|---|---|---|\n")
	res := func(pf, rf figure) string {
		return fmt.Sprintf("%.2f, %.2f | %d, %d", pf.cpu.Seconds(), rf.cpu.Seconds(), pf.rss>>20, rf.rss>>20)
	}
	// Each tool's read against the raw GET made just before it.
	fmt.Printf("| cold sequential read | %.0f, %.0f MiB/s (1 GET before each) | %.0f MiB/s | %.0f MiB/s | %.2f× | %.2f× | %.2f× faster | %s |\n",
		mbps(size, p.rawGet), mbps(size, rc.rawGet), mbps(size, p.read.took), mbps(size, rc.read.took), p.rawGet.Seconds()/p.read.took.Seconds(),
		rc.rawGet.Seconds()/rc.read.took.Seconds(), rc.read.took.Seconds()/p.read.took.Seconds(), res(p.read, rc.read))
	fmt.Printf("| write until on the server | %.0f MiB/s (1 PUT) | %.0f MiB/s | %.0f MiB/s | %.2f× | %.2f× | %.2f× faster | %s |\n",
		mbps(size, b.rawPut), mbps(size, p.write.took), mbps(size, rc.write.took), b.rawPut.Seconds()/p.write.took.Seconds(),
		b.rawPut.Seconds()/rc.write.took.Seconds(), rc.write.took.Seconds()/p.write.took.Seconds(), res(p.write, rc.write))
	fmt.Printf("| `ls -l` of %d objects | %s (1 listing) | %s | %s | %.2f× the listing | %.2f× the listing | %.1f× faster | %s |\n",
		c.lsCount, b.rawLst.Round(time.Millisecond), p.ls.took.Round(time.Millisecond), rc.ls.took.Round(time.Millisecond),
		p.ls.took.Seconds()/b.rawLst.Seconds(), rc.ls.took.Seconds()/b.rawLst.Seconds(), rc.ls.took.Seconds()/p.ls.took.Seconds(), res(p.ls, rc.ls))
	fmt.Printf("| `cp -r` of %d small files (until on the server) | %s (PUTs one at a time) | %s | %s | %.2f× | %.2f× | %.1f× faster | %s |\n",
		c.smallCount, rawCp.Round(time.Millisecond), p.cp.took.Round(time.Millisecond), rc.cp.took.Round(time.Millisecond),
		rawCp.Seconds()/p.cp.took.Seconds(), rawCp.Seconds()/rc.cp.took.Seconds(), rc.cp.took.Seconds()/p.cp.took.Seconds(), res(p.cp, rc.cp))
	fmt.Printf("| the same, pithosfs with `--async-close-max 1MiB` | %s | %s | %s | %.2f× | %.2f× | %.1f× faster | %s |\n",
		rawCp.Round(time.Millisecond), asyncCp.took.Round(time.Millisecond), rc.cp.took.Round(time.Millisecond),
		rawCp.Seconds()/asyncCp.took.Seconds(), rawCp.Seconds()/rc.cp.took.Seconds(), rc.cp.took.Seconds()/asyncCp.took.Seconds(), res(asyncCp, rc.cp))
}
