package integration

// The shared harness of the end-to-end tests: the servers they need (started once per test binary,
// stopped by TestMain), plain HTTP helpers and a runner for third-party command-line clients.
//
// Other test files in this package use requireSwift, swiftAuth, doHTTP, newHTTPClient and runClient;
// they must not define their own TestMain (add teardown to the harness instead).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/internal/testswift"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := shared.close(); err != nil {
		fmt.Fprintln(os.Stderr, "integration harness:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// swiftUser is one tempauth user ("account:user") and its key.
type swiftUser struct {
	Name, Key string
}

// swiftEnv says where a real OpenStack Swift (v1.0 auth) is and which users it has.
type swiftEnv struct {
	AuthURL string    // e.g. http://127.0.0.1:8081/auth/v1.0
	Admin   swiftUser // test:tester, .admin of account AUTH_test
	Admin2  swiftUser // test2:tester2, .admin of account AUTH_test2
	Plain   swiftUser // test:tester3, a non-admin user of AUTH_test (for ACL tests)
}

// servers are the processes shared by every test of the binary.
type servers struct {
	mu        sync.Mutex
	swift     *swiftEnv
	swiftErr  error
	stopSwift func() error // set when this binary started Swift itself
}

// shared is the one harness instance of the test binary; TestMain closes it.
var shared servers

func (s *servers) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopSwift == nil {
		return nil
	}
	err := s.stopSwift()
	s.stopSwift = nil
	return err
}

// requireSwift returns a running Swift: the one of SWIFT_AUTH_URL (make test and CI export it), else one
// kept running in swift-aio.sh's default directory, else one this binary starts in a temporary directory on
// free ports and TestMain stops (internal/testswift). It fails the test, never skips, when there is no Swift
// to be had.
func requireSwift(t testing.TB) swiftEnv {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.swift == nil && shared.swiftErr == nil {
		shared.swift, shared.swiftErr = shared.findSwift()
	}
	if shared.swiftErr != nil {
		t.Fatalf("no OpenStack Swift for this test: %v\n"+
			"Set SWIFT_AUTH_URL (and SWIFT_USER/SWIFT_KEY…) to a running one, or install the Debian packages so the "+
			"harness can start one: scripts/prereqs.sh test (make test does all of it)", shared.swiftErr)
	}
	return *shared.swift
}

// findSwift finds or starts Swift. Called with s.mu held.
func (s *servers) findSwift() (*swiftEnv, error) {
	script, err := testswift.ScriptPath()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vars, stop, err := testswift.Find(ctx, script)
	if err != nil {
		return nil, err
	}
	s.stopSwift = stop
	return swiftFromEnv(func(k string) string { return vars[k] }), nil
}

// swiftFromEnv reads SWIFT_AUTH_URL, SWIFT_USER, SWIFT_KEY, SWIFT_USER2, SWIFT_KEY2, SWIFT_USER3, SWIFT_KEY3;
// the users default to those scripts/swift-aio.sh configures.
func swiftFromEnv(get func(string) string) *swiftEnv {
	or := func(k, def string) string {
		if v := get(k); v != "" {
			return v
		}
		return def
	}
	return &swiftEnv{
		AuthURL: get("SWIFT_AUTH_URL"),
		Admin:   swiftUser{or("SWIFT_USER", "test:tester"), or("SWIFT_KEY", "testing")},
		Admin2:  swiftUser{or("SWIFT_USER2", "test2:tester2"), or("SWIFT_KEY2", "testing2")},
		Plain:   swiftUser{or("SWIFT_USER3", "test:tester3"), or("SWIFT_KEY3", "testing3")},
	}
}

// repoFile finds rel (slash-separated) under the module root, the first parent of the working directory
// that holds go.mod.
func repoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(rel)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// newHTTPClient is a client for test servers. Idle connections are dropped well before the 60 s after
// which the Swift proxy closes them.
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{IdleConnTimeout: 20 * time.Second, MaxIdleConnsPerHost: 8},
	}
}

// swiftAuth does a v1.0 auth (X-Auth-User/X-Auth-Key) and returns the token and storage URL.
func swiftAuth(t testing.TB, c *http.Client, authURL string, u swiftUser) (token, storageURL string) {
	t.Helper()
	resp, body := doHTTP(t, c, http.MethodGet, authURL, "", nil, http.Header{
		"X-Auth-User": {u.Name},
		"X-Auth-Key":  {u.Key},
	})
	if resp.StatusCode/100 != 2 {
		t.Fatalf("v1.0 auth of %s at %s: %s %s", u.Name, authURL, resp.Status, body)
	}
	token, storageURL = resp.Header.Get("X-Auth-Token"), resp.Header.Get("X-Storage-Url")
	if token == "" || storageURL == "" {
		t.Fatalf("v1.0 auth of %s at %s: no X-Auth-Token or X-Storage-Url in %v", u.Name, authURL, resp.Header)
	}
	return token, storageURL
}

// doHTTP sends one request (token in X-Auth-Token when not empty) and returns the response with its whole
// body read. Transport errors fail the test; HTTP statuses are the caller's to check.
func doHTTP(t testing.TB, c *http.Client, method, url, token string, body []byte, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, data
}

// randomName is prefix plus 12 random hex digits, for containers and objects that must not collide.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// randomBytes is n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// clientResult is what a command-line client printed and how it ended.
type clientResult struct {
	Stdout, Stderr string
	Err            error
}

func (r clientResult) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
}

// runClient runs a third-party command-line program (e.g. the Debian `swift` CLI) in dir with a clean
// environment for it: the caller's OS_*/ST_* variables, which those clients read, are removed, and HOME
// is a fresh directory so no user configuration applies. It fails the test when the program is missing.
func runClient(t testing.TB, dir, name string, args ...string) clientResult {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: %v (the Debian package python3-swiftclient provides `swift`)", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	env := []string{"HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "OS_") || strings.HasPrefix(k, "ST_") || strings.HasPrefix(k, "SWIFTCLIENT_") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	return clientResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}
