package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// killMount kills the daemon with SIGKILL and waits for it.
func (m *mountProc) kill9(t testing.TB) {
	t.Helper()
	_ = m.cmd.Process.Kill()
	<-m.done
}

// tryGet returns an object's bytes through the API, or nil when it does not exist.
func (s *serveProc) tryGet(t testing.TB, u cloudUser, path string) []byte {
	t.Helper()
	resp, body := doHTTP(t, s.http, http.MethodGet, s.objectURL(u, path), u.Token, nil, nil)
	switch resp.StatusCode {
	case http.StatusOK:
		return body
	case http.StatusNotFound:
		return nil
	}
	t.Fatalf("GET %s: %s", path, resp.Status)
	return nil
}

// pendingUploads reads .pithosfs/uploads.json.
func (m *mountProc) pendingUploads(t testing.TB) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Dir, ".pithosfs", "uploads.json"))
	if err != nil {
		t.Fatalf("uploads.json: %v", err)
	}
	var out []map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("uploads.json: %v\n%s", err, data)
	}
	return out
}

// waitForRecord waits until a journal record exists below dir (a commit has been persisted).
func waitForRecord(t testing.TB, dir string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		found := false
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Name() == "record.json" {
				found = true
			}
			return nil
		})
		if found {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// TestMountKillDuringLargeCommit: kill -9 while close() of a 96 MiB file is committing (its journal
// record written); files closed before are intact; after a remount with the same cache directory the
// pending commit is completed from the journal (or listed in .pithosfs/uploads).
func TestMountKillDuringLargeCommit(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "k", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token, CacheDir: filepath.Join(t.TempDir(), "cache")}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "k")
	small := map[string][]byte{}
	for i := range 5 {
		n := fmt.Sprintf("small%d", i)
		small[n] = randomBytes(100_000 + i)
		if err := os.WriteFile(filepath.Join(c, n), small[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := randomBytes(96 << 20)
	f, err := os.Create(filepath.Join(c, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(big); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()
	if !waitForRecord(t, filepath.Join(args.CacheDir, "journal"), 20*time.Second) {
		t.Fatal("no journal record appeared while closing")
	}
	m.kill9(t)
	closeErr := <-closed
	t.Logf("close() after kill -9: %v", closeErr)

	m = startMountAt(t, m.Dir, args)
	for n, data := range small {
		if got := srv.get(t, alice, "k/"+n); !bytes.Equal(got, data) {
			t.Errorf("%s (closed before the kill): %d bytes on the server, want %d", n, len(got), len(data))
		}
	}
	got := srv.tryGet(t, alice, "k/big")
	switch {
	case bytes.Equal(got, big):
		t.Logf("the pending commit of big was completed at the remount")
		if closeErr == nil {
			t.Logf("(close() had returned 0 before the kill)")
		}
	default:
		ups := m.pendingUploads(t)
		found := false
		for _, u := range ups {
			if u["name"] == "big" {
				found = true
			}
		}
		if !found {
			t.Fatalf("big: %d bytes on the server (want %d) and not in .pithosfs/uploads: %v", len(got), len(big), ups)
		}
		if closeErr == nil {
			t.Fatal("close() returned 0 but the data is not on the server")
		}
	}
	if data, err := os.ReadFile(filepath.Join(c, "big")); err != nil || !bytes.Equal(data, big) {
		t.Errorf("big through the new mount: %d bytes, %v", len(data), err)
	}
}

// TestMountKillDuringWriteBurst: 4 writers create, write and close files in a loop; kill -9 in the
// middle. After a remount every file whose close() returned 0 is intact on the server; a file whose
// close did not return is absent or intact, never partial.
func TestMountKillDuringWriteBurst(t *testing.T) {
	killDuringWriteBurst(t, 3<<20, nil)
}

// TestMountKillDuringAsyncCloseBurst: the same with asynchronous close (close() of a small new file returns
// once the file is in the journal, its upload runs in the background): every file whose close() returned 0
// is on the server after the remount, the ones still queued for upload at the kill completed from the
// journal.
func TestMountKillDuringAsyncCloseBurst(t *testing.T) {
	killDuringWriteBurst(t, 64<<10, []string{"--async-close-max", "1MiB"})
}

// killDuringWriteBurst runs the write burst with files of 1 to maxSize bytes and the mount options extra.
func killDuringWriteBurst(t *testing.T, maxSize int, extra []string) {
	srv := startServe(t)
	srv.put(t, alice, "k", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token, CacheDir: filepath.Join(t.TempDir(), "cache"), Extra: extra}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "k")
	type result struct {
		name  string
		data  []byte
		acked bool
	}
	var (
		mu      sync.Mutex
		results []result
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 10_000; i++ {
				n := fmt.Sprintf("w%d-%04d", w, i)
				data := randomBytes(1 + (i*7919+w*104729)%maxSize)
				err := os.WriteFile(filepath.Join(c, n), data, 0o644)
				mu.Lock()
				results = append(results, result{n, data, err == nil})
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	m.kill9(t)
	stop.Store(true)
	wg.Wait()
	startMountAt(t, m.Dir, args) // recovers the journal; its cleanup unmounts it
	acked, unacked, completed := 0, 0, 0
	for _, r := range results {
		got := srv.tryGet(t, alice, "k/"+r.name)
		switch {
		case r.acked:
			acked++
			if !bytes.Equal(got, r.data) {
				t.Errorf("%s: close() returned 0, the server has %d bytes (want %d)", r.name, len(got), len(r.data))
			}
		default:
			unacked++
			if got != nil && !bytes.Equal(got, r.data) {
				t.Errorf("%s (close interrupted): %d bytes on the server, neither absent nor complete", r.name, len(got))
			}
			if bytes.Equal(got, r.data) {
				completed++
			}
		}
	}
	if acked < 4 {
		t.Errorf("only %d files were closed before the kill: the burst did not run", acked)
	}
	t.Logf("%d files acknowledged and intact; %d interrupted (%d completed from the journal, the rest absent)", acked, unacked, completed)
	if _, err := os.Stat(filepath.Join(c, results[0].name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat through the new mount: %v", err)
	}
}

// TestMountUnmountServerDown: the server goes down while files are open with unflushed writes. SIGTERM
// starts the final flush, which cannot reach the server; a second SIGTERM stops it. The daemon exits,
// having written every pending change to the journal, and the next mount (server back) commits them.
func TestMountUnmountServerDown(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "u", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token, CacheDir: filepath.Join(t.TempDir(), "cache")}
	m := startMount(t, args)
	c := filepath.Join(m.Dir, alice.Name, "u")
	want := map[string][]byte{}
	var open []*os.File
	for i := range 3 {
		n := fmt.Sprintf("f%d", i)
		want[n] = randomBytes(1<<20*i + 1000)
		f, err := os.Create(filepath.Join(c, n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(want[n]); err != nil {
			t.Fatal(err)
		}
		open = append(open, f)
	}
	srv.stop()

	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	second := time.Now()
	for _, f := range open {
		_ = f.Close() // EIO or ENOTCONN: the server is down
	}
	select {
	case <-m.done:
		t.Logf("daemon exited %v after the second SIGTERM", time.Since(second).Round(time.Millisecond))
	case <-time.After(time.Until(second.Add(10 * time.Second))):
		t.Fatalf("daemon still running 10s after the second SIGTERM\n%s", m.stderrText())
	}
	if !strings.Contains(m.stderrText(), "stopping the commits") {
		t.Errorf("stderr does not say the flush was stopped:\n%s", m.stderrText())
	}

	srv.start(t)
	m = startMountAt(t, m.Dir, args)
	for n, data := range want {
		if got := srv.tryGet(t, alice, "u/"+n); !bytes.Equal(got, data) {
			t.Errorf("%s after the remount: %d bytes on the server, want %d", n, len(got), len(data))
		}
	}
	if ups := m.pendingUploads(t); len(ups) != 0 {
		t.Errorf("pending after the remount: %v", ups)
	}
}
