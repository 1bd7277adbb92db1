package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// startServeQuota is startServe with alice's and bob's quota set to quota bytes.
func startServeQuota(t testing.TB, quota int64) *serveProc {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	type user struct {
		cloudUser
		Quota int64 `json:"quota"`
	}
	b, _ := json.Marshal([]user{{alice, quota}, {bob, quota}})
	if err := os.WriteFile(users, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &serveProc{Data: filepath.Join(dir, "data"), users: users, Listen: "127.0.0.1:0", http: newHTTPClient()}
	s.start(t)
	t.Cleanup(func() { s.stop() })
	return s
}

// procMem returns a field of /proc/PID/status (VmRSS, VmHWM) in bytes.
func procMem(t testing.TB, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestMountHugeTruncate: truncate -s 999999999999999 (a POSIX suite's
// ftruncate/12.t) and -s 1P fail with EFBIG, on a path and on an open
// file; the daemon's resident memory stays within 16 MiB of what it was,
// the file keeps its size, and the mount goes on working.
func TestMountHugeTruncate(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "h", nil, nil)
	srv.put(t, alice, "h/f", []byte("hello"), nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/h"})
	pid := m.cmd.Process.Pid
	p := filepath.Join(m.Dir, "f")
	if _, err := os.ReadFile(p); err != nil { // warm up: the first read sets up the account's state
		t.Fatal(err)
	}
	before := procMem(t, pid, "VmRSS")
	for _, size := range []string{"999999999999999", "1P", "3T"} {
		out, err := shErr("truncate -s " + size + " " + shq(p))
		if err == nil || !strings.Contains(out, "File too large") {
			t.Errorf("truncate -s %s: %v %q, want File too large", size, err, out)
		}
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(999999999999999); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("ftruncate of an open file: %v, want EFBIG", err)
	}
	if _, err := f.WriteAt([]byte("x"), 999999999999999); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("pwrite at 999999999999999: %v, want EFBIG", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if after := procMem(t, pid, "VmHWM"); after-before > 16<<20 {
		t.Errorf("peak RSS grew by %d MiB (from %d MiB RSS to %d MiB peak)", (after-before)>>20, before>>20, after>>20)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "hello" {
		t.Errorf("f after the refused truncates = %q, %v", got, err)
	}
	if got := srv.get(t, alice, "h/f"); string(got) != "hello" {
		t.Errorf("server copy = %q", got)
	}
}

// TestMountSparseTerabyte: a 1 TiB sparse file (ftruncate, a few bytes at
// each end) is created, read at both ends, committed by close and read back
// at both ends; the daemon's peak RSS stays within 64 MiB of its resident
// set before, since the holes' hashmap is never built block by block.
func TestMountSparseTerabyte(t *testing.T) {
	const size = int64(1) << 40
	srv := startServeQuota(t, 4<<40)
	srv.put(t, alice, "s", nil, nil)
	srv.put(t, alice, "s/warm", []byte("warm"), nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/s"})
	pid := m.cmd.Process.Pid
	if _, err := os.ReadFile(filepath.Join(m.Dir, "warm")); err != nil {
		t.Fatal(err)
	}
	idle := procMem(t, pid, "VmRSS")
	p := filepath.Join(m.Dir, "sparse.img")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	head, tail := []byte("head of a terabyte"), []byte("its tail")
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(tail, size-int64(len(tail))); err != nil {
		t.Fatal(err)
	}
	readEnds := func(f *os.File, when string) {
		t.Helper()
		buf := make([]byte, 64)
		if n, err := f.ReadAt(buf, 0); n != len(buf) || string(buf[:len(head)]) != string(head) || strings.Trim(string(buf[len(head):]), "\x00") != "" {
			t.Errorf("%s: start = %q, %v", when, buf[:n], err)
		}
		if n, err := f.ReadAt(buf, size-int64(len(buf))); n != len(buf) || !strings.HasSuffix(string(buf), string(tail)) || strings.Trim(string(buf[:len(buf)-len(tail)]), "\x00") != "" {
			t.Errorf("%s: end = %q, %v", when, buf[:n], err)
		}
		if n, err := f.ReadAt(buf[:8], size/2); n != 8 || string(buf[:8]) != "\x00\x00\x00\x00\x00\x00\x00\x00" {
			t.Errorf("%s: middle = %q, %v", when, buf[:n], err)
		}
	}
	readEnds(f, "before close")
	if err := f.Close(); err != nil {
		t.Fatalf("close (the commit): %v", err)
	}
	if f, err = os.Open(p); err != nil {
		t.Fatal(err)
	}
	readEnds(f, "after the commit")
	_ = f.Close()
	if st, err := os.Stat(p); err != nil || st.Size() != size {
		t.Errorf("stat: %v, %v", st, err)
	}
	peak := procMem(t, pid, "VmHWM")
	t.Logf("daemon RSS idle %d MiB, peak %d MiB", idle>>20, peak>>20)
	if peak-idle > 64<<20 {
		t.Errorf("peak RSS %d MiB is %d MiB over the idle %d MiB", peak>>20, (peak-idle)>>20, idle>>20)
	}
	// A second mount, which never saw the file, reads it at both ends:
	// it fetches the 262144-hash hashmap from the server.
	m2 := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/s"})
	if _, err := os.ReadFile(filepath.Join(m2.Dir, "warm")); err != nil {
		t.Fatal(err)
	}
	idle2 := procMem(t, m2.cmd.Process.Pid, "VmRSS")
	if f, err = os.Open(filepath.Join(m2.Dir, "sparse.img")); err != nil {
		t.Fatal(err)
	}
	readEnds(f, "through another mount")
	_ = f.Close()
	peak2 := procMem(t, m2.cmd.Process.Pid, "VmHWM")
	t.Logf("second mount: RSS idle %d MiB, peak %d MiB", idle2>>20, peak2>>20)
	if peak2-idle2 > 64<<20 {
		t.Errorf("second mount: peak RSS %d MiB is %d MiB over the idle %d MiB", peak2>>20, (peak2-idle2)>>20, idle2>>20)
	}
	// The server holds it: its size, and its ends by range reads.
	hdr := http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", size-int64(len(tail)), size-1)}}
	resp, body := doHTTP(t, srv.http, http.MethodGet, srv.objectURL(alice, "s/sparse.img"), alice.Token, nil, hdr)
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(tail) {
		t.Errorf("server's tail: %s %q", resp.Status, body)
	}
	hdr.Set("Range", fmt.Sprintf("bytes=0-%d", len(head)-1))
	resp, body = doHTTP(t, srv.http, http.MethodGet, srv.objectURL(alice, "s/sparse.img"), alice.Token, nil, hdr)
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(head) {
		t.Errorf("server's head: %s %q", resp.Status, body)
	}
	if cl := resp.Header.Get("Content-Range"); !strings.HasSuffix(cl, "/"+strconv.FormatInt(size, 10)) {
		t.Errorf("Content-Range %q, want a total of %d", cl, size)
	}
}
