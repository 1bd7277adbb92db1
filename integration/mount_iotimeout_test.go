package integration

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMountIOTimeoutOutage: the server hangs (SIGSTOP: connections are
// accepted, nothing answers) for longer than --io-timeout while a file is
// written; close() returns EIO within the timeout plus slack instead of
// waiting for the server, uploads.json shows the file retrying, and once
// the server runs again the background retry commits it: the server has
// every byte.
func TestMountIOTimeoutOutage(t *testing.T) {
	const timeout = 3 * time.Second
	srv := startServe(t)
	srv.put(t, alice, "o", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/o", Extra: []string{"--io-timeout", timeout.String()}})
	p := filepath.Join(m.Dir, "during-outage.bin")
	data := randomBytes(6<<20 + 321)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	proc := srv.cmd.Process
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	resume := func() {
		if stopped {
			_ = proc.Signal(syscall.SIGCONT)
			stopped = false
		}
	}
	t.Cleanup(resume)
	outage := time.Now()
	if _, err := f.Write(data[1<<20:]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = f.Close()
	took := time.Since(start)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("close() during the outage: %v, want EIO", err)
	}
	t.Logf("close() during the outage: %v after %v", err, took.Round(10*time.Millisecond))
	if took > timeout+5*time.Second {
		t.Errorf("close() took %v, want at most the --io-timeout %v plus 5s", took, timeout)
	}
	ups := m.pendingUploads(t)
	if len(ups) != 1 || ups[0]["name"] != "during-outage.bin" || (ups[0]["state"] != "retrying" && ups[0]["state"] != "committing") {
		t.Errorf("uploads.json during the outage = %v", ups)
	}
	for time.Since(outage) < 2*timeout { // an outage longer than the timeout
		time.Sleep(100 * time.Millisecond)
	}
	resume()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if got := srv.tryGet(t, alice, "o/during-outage.bin"); got != nil {
			if !bytes.Equal(got, data) {
				t.Fatalf("server copy: %d bytes, not the %d written", len(got), len(data))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not on the server 60s after the outage ended; uploads.json = %v", m.pendingUploads(t))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ups := m.pendingUploads(t); len(ups) != 0 {
		t.Errorf("uploads.json after the retry = %v", ups)
	}
}
