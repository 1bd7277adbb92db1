package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMountRequestCapNoDeadlock mounts with a memory budget so small that go-fuse may hold one request
// buffer at a time (--cache-mem 8MiB: fs.RequestBytes gives it one slot), then runs 16 writers (1 MiB
// writes through the page cache, a truncate, names long enough that LOOKUP and CREATE keep their buffers)
// beside 8 readers (buffered and O_DIRECT). With one slot every request stalls while a WRITE or SETATTR is
// handled, so a handler that waited for another FUSE request would hang the mount: everything must finish
// in time, each file must be on the server as written, and no two WRITEs may have been handled at once.
func TestMountRequestCapNoDeadlock(t *testing.T) {
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
		t.Fatalf("16 writers and 8 readers did not finish in 4 minutes with one request slot: a handler waits for another request")
	}
	if len(failed) > 0 {
		t.Fatalf("%d failures, first: %s\ndaemon log:\n%s", len(failed), failed[0], m.stderrText())
	}
	for name, data := range want {
		if got := srv.get(t, alice, "c/"+name); !bytes.Equal(got, data) {
			t.Errorf("%s on the server: %d bytes, want %d as written", name[len(long):], len(got), len(data))
		}
	}
	st := m.stats(t)
	if st.WritesInFlightMax != 1 {
		t.Errorf("at most %d WRITEs handled at once, want 1 (one request slot)", st.WritesInFlightMax)
	}
}
