package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMountTinyBudgetManyWriters mounts with a memory budget of 8 MiB (two blocks), then runs 16 writers
// (1 MiB writes through the page cache, a truncate, long names) beside 8 readers (buffered and O_DIRECT):
// everything must finish in time and each file must be on the server as written. (Written for a cap on
// go-fuse's request buffers, since removed: fs/reqmem.go. It found a journal bug, writeback's
// TestJournalGCKeepsIssuedNames.)
func TestMountTinyBudgetManyWriters(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	objs := make([][]byte, 8)
	for i := range objs {
		objs[i] = randomBytes(6<<20 + i*4096)
		srv.put(t, alice, fmt.Sprintf("c/r%d", i), objs[i], nil)
	}
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--cache-mem", "8MiB"}})
	dir := filepath.Join(m.Dir, alice.Name, "c")
	long := strings.Repeat("n", 150) // LOOKUP/CREATE inputs over go-fuse's 128-byte inline buffer

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
		want   = map[string][]byte{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failed = append(failed, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s-w%02d", long, w)
			data := randomBytes(5<<20 + w*1000)
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				fail("create %d: %v", w, err)
				return
			}
			for off := 0; off < len(data); off += 1 << 20 {
				if _, err := f.Write(data[off:min(off+1<<20, len(data))]); err != nil {
					fail("write %d: %v", w, err)
				}
			}
			cut := int64(len(data) - 300000)
			if err := f.Truncate(cut); err != nil { // SETATTR: a 128-byte input, kept with its buffer
				fail("truncate %d: %v", w, err)
			}
			if err := f.Close(); err != nil {
				fail("close %d: %v", w, err)
			}
			mu.Lock()
			want[name] = data[:cut]
			mu.Unlock()
		}()
	}
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := filepath.Join(dir, fmt.Sprintf("r%d", r))
			for range 2 {
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, objs[r]) {
					fail("read r%d: %d bytes, %v", r, len(got), err)
				}
				out, err := shErr("dd if=" + shq(p) + " of=/dev/null bs=1M iflag=direct status=none")
				if err != nil {
					fail("dd r%d: %v %s", r, err, out)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(4 * time.Minute):
		// Dump the daemon's goroutines to its log, then end it so the blocked callers get ENOTCONN.
		_ = m.cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(2 * time.Second)
		_ = m.cmd.Process.Kill()
		<-done
		t.Fatalf("16 writers and 8 readers did not finish in 4 minutes on an 8 MiB budget")
	}
	if len(failed) > 0 {
		t.Fatalf("%d failures, first: %s\ndaemon log:\n%s", len(failed), failed[0], m.stderrText())
	}
	for name, data := range want {
		if got := srv.get(t, alice, "c/"+name); !bytes.Equal(got, data) {
			t.Errorf("%s on the server: %d bytes, want %d as written", name[len(long):], len(got), len(data))
		}
	}
}

// TestMountStalledServerAnswers stops the server (SIGSTOP) while 8 writers stream into the mount, so that
// their WRITEs wait for uploads that do not progress, and reads the mount's own stats.json, which needs no
// server: it must be answered at once, not behind the writers. (With go-fuse's request buffers capped at 4,
// it waited 3.5–30 s.)
func TestMountStalledServerAnswers(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	dir := filepath.Join(m.Dir, alice.Name, "c")
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	zeros := make([]byte, 1<<20)
	for w := range 8 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("w%d", w)))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer f.Close()
			for i := 0; i < 512 && !stop.Load(); i++ {
				if _, err := f.Write(zeros); err != nil {
					t.Errorf("write w%d: %v", w, err)
					return
				}
			}
		}()
	}
	proc := srv.cmd.Process
	time.Sleep(time.Second) // the writers under way
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = proc.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	time.Sleep(2 * time.Second) // the writers' rounds stalled
	stats := filepath.Join(m.Dir, ".pithosfs", "stats.json")
	for try := range 3 {
		start := time.Now()
		done := make(chan error, 1)
		go func() { _, err := os.ReadFile(stats); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("reading stats.json with the server stopped: %v", err)
			}
		case <-time.After(10 * time.Second):
			stop.Store(true)
			resume()
			t.Fatalf("read %d of stats.json not answered in 10 s with the server stopped and 8 writers waiting", try)
		}
		t.Logf("stats.json read in %v", time.Since(start))
	}
	stop.Store(true)
	resume()
	wg.Wait()
}
