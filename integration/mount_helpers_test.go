package integration

// Helpers of the mount tests: the pithosfs binary, a `pithosfs serve` subprocess, a `pithosfs mount`
// subprocess that is always unmounted at cleanup, object uploads over HTTP, and the mount's stats.json.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var pithosfsBin struct {
	once sync.Once
	path string
	err  error
}

// pithosfsBinary builds cmd/pithosfs once per test binary (PITHOSFS_BIN overrides it).
func pithosfsBinary(t testing.TB) string {
	t.Helper()
	pithosfsBin.once.Do(func() {
		if p := os.Getenv("PITHOSFS_BIN"); p != "" {
			pithosfsBin.path = p
			return
		}
		root, err := repoFile("")
		if err != nil {
			pithosfsBin.err = err
			return
		}
		dir, err := os.MkdirTemp("", "pithosfs-bin-")
		if err != nil {
			pithosfsBin.err = err
			return
		}
		out := filepath.Join(dir, "pithosfs")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/pithosfs")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			pithosfsBin.err = fmt.Errorf("go build ./cmd/pithosfs: %v\n%s", err, b)
			return
		}
		pithosfsBin.path = out
	})
	if pithosfsBin.err != nil {
		t.Fatal(pithosfsBin.err)
	}
	return pithosfsBin.path
}

// cloudUser is one account of a test cloud.
type cloudUser struct {
	Name  string `json:"name"`
	UUID  string `json:"uuid"`
	Token string `json:"token"`
}

var (
	alice = cloudUser{"alice@example.org", "a11ce000-0000-4000-8000-000000000001", "token-alice"}
	bob   = cloudUser{"bob@example.org", "b0b00000-0000-4000-8000-000000000002", "token-bob"}
)

// serveProc is a running `pithosfs serve`.
type serveProc struct {
	URL, Data, Listen string
	cmd               *exec.Cmd
	users             string
	http              *http.Client
}

// startServe runs `pithosfs serve` on a free loopback port with alice and bob, stopped at cleanup.
func startServe(t testing.TB) *serveProc {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	b, _ := json.Marshal([]cloudUser{alice, bob})
	if err := os.WriteFile(users, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &serveProc{Data: filepath.Join(dir, "data"), users: users, Listen: "127.0.0.1:0", http: newHTTPClient()}
	s.start(t)
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *serveProc) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(pithosfsBinary(t), "--log-level", "warn", "serve", "--listen", s.Listen, "--data", s.Data, "--users", s.users)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if i := strings.Index(sc.Text(), " on http://"); i >= 0 && !sent {
				urlc <- strings.TrimSpace(sc.Text()[i+4:])
				sent = true
			}
		}
	}()
	select {
	case u := <-urlc:
		s.URL = u
		s.Listen = strings.TrimPrefix(u, "http://")
	case <-time.After(30 * time.Second):
		s.stop()
		t.Fatal("pithosfs serve did not print its URL in 30s")
	}
}

func (s *serveProc) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

func (s *serveProc) identityURL() string { return s.URL + "/astakos/identity/v2.0" }

func (s *serveProc) objectURL(u cloudUser, path string) string {
	return s.URL + "/pithos/object-store/v1/" + u.UUID + "/" + path
}

// put stores data as path ("container/object" or "container") of u's account.
func (s *serveProc) put(t testing.TB, u cloudUser, path string, data []byte, hdr http.Header) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	if hdr.Get("Content-Type") == "" && strings.Contains(path, "/") {
		hdr.Set("Content-Type", "application/octet-stream")
	}
	if data == nil {
		data = []byte{}
	}
	resp, body := doHTTP(t, s.http, http.MethodPut, s.objectURL(u, path), u.Token, data, hdr)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s: %s %s", path, resp.Status, body)
	}
}

// mountProc is a running `pithosfs mount`.
type mountProc struct {
	Dir      string // the mountpoint
	CacheDir string
	cmd      *exec.Cmd
	stderr   *bytes.Buffer
	done     chan struct{}
}

// mountArgs are the settings of startMount.
type mountArgs struct {
	URL, Token, User string
	Remote           string
	CacheDir         string // "" = a fresh one
	Extra            []string
	Bin              string // "" = pithosfsBinary (BenchmarkMount compares a baseline build)
}

// startMount runs `pithosfs mount` in a subprocess and waits until the mountpoint is mounted. Cleanup
// unmounts it in any case (SIGTERM, then fusermount3 -u, then -uz).
func startMount(t testing.TB, a mountArgs) *mountProc {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return startMountAt(t, dir, a)
}

// startMountAt is startMount on an existing mountpoint.
func startMountAt(t testing.TB, dir string, a mountArgs) *mountProc {
	t.Helper()
	m := &mountProc{Dir: dir, CacheDir: a.CacheDir, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	if m.CacheDir == "" {
		m.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	args := []string{"--log-level", "warn", "mount", "--url", a.URL, "--token", a.Token, "--cache-dir", m.CacheDir}
	if a.User != "" {
		args = append(args, "--user", a.User)
	}
	args = append(args, a.Extra...)
	if a.Remote != "" {
		args = append(args, a.Remote)
	}
	args = append(args, m.Dir)
	bin := a.Bin
	if bin == "" {
		bin = pithosfsBinary(t)
	}
	m.cmd = exec.Command(bin, args...)
	m.cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	m.cmd.Stderr = &syncWriter{w: m.stderr}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() { m.unmount(t) })
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(m.Dir) || !strings.Contains(m.stderrText(), "pithosfs: mounted ") {
		select {
		case <-m.done:
			t.Fatalf("pithosfs mount exited before mounting: %v\n%s", m.cmd.ProcessState, m.stderrText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not mounted after 30s\n%s", m.Dir, m.stderrText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return m
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (m *mountProc) stderrText() string {
	if sw, ok := m.cmd.Stderr.(*syncWriter); ok {
		sw.mu.Lock()
		defer sw.mu.Unlock()
	}
	return m.stderr.String()
}

// unmount stops the daemon with SIGTERM (a clean unmount) and makes sure nothing stays mounted.
func (m *mountProc) unmount(t testing.TB) {
	select {
	case <-m.done:
	default:
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(20 * time.Second):
			t.Errorf("pithosfs mount did not exit 20s after SIGTERM\n%s", m.stderrText())
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	}
	if isMounted(m.Dir) {
		t.Errorf("%s still mounted after the daemon exited; forcing", m.Dir)
		if exec.Command("fusermount3", "-u", m.Dir).Run() != nil {
			_ = exec.Command("fusermount3", "-u", "-z", m.Dir).Run()
		}
	}
}

// isMounted reports whether dir is a mountpoint (from /proc/self/mountinfo).
func isMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && unescapeMount(f[4]) == dir {
			return true
		}
	}
	return false
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// mountStats is the part of .pithosfs/stats.json the tests read.
type mountStats struct {
	Requests       map[string]int64 `json:"requests"`
	RequestsByKind map[string]int64 `json:"requests_by_kind"`
	BytesDown      int64            `json:"bytes_down"`
	OpensKeepCache int64            `json:"opens_keep_cache"`
	Getxattrs      int64            `json:"getxattrs"`
	// WritesInFlightMax is the most WRITE requests the daemon handled at once.
	WritesInFlightMax int64 `json:"writes_in_flight_max"`
	Cache             struct {
		MemHits           int64 `json:"mem_hits"`
		DiskHits          int64 `json:"disk_hits"`
		Fetches           int64 `json:"fetches"`
		BytesFetched      int64 `json:"bytes_fetched"`
		CorruptDiskBlocks int64 `json:"corrupt_disk_blocks"`
		ReadaheadHits     int64 `json:"readahead_hits"`
		Prefetches        int64 `json:"prefetches"`
		DiskWritesSkipped int64 `json:"disk_writes_skipped"`
	} `json:"cache"`
}

func (m *mountProc) stats(t testing.TB) mountStats {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "stats.json"))
	if err != nil {
		t.Fatalf("reading stats.json: %v", err)
	}
	var s mountStats
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("stats.json: %v\n%s", err, data)
	}
	return s
}

// sh runs a shell command line (bash -c) with a timeout and returns its stdout; a failure fails the test.
func sh(t testing.TB, script string) string {
	t.Helper()
	out, err := shErr(script)
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return out
}

// shErr runs a shell command line and returns its combined output and error.
func shErr(script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -o pipefail; "+script)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// shq quotes s for the shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
