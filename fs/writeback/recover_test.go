package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// A commit that cannot reach the server stays in the journal; a new manager
// (the next mount) completes it with Recover.
func TestRecoverAfterFailedCommit(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	orig := randomBytes(t, 9*bs+5)
	e.put("r", orig)
	f := e.open("r")
	want := append([]byte(nil), orig...)
	write(t, f, []byte("hello"), 2*bs+3)
	copy(want[2*bs+3:], "hello")
	if err := f.Truncate(ctx, 6*bs+1); err != nil {
		t.Fatal(err)
	}
	want = want[:6*bs+1]
	proxy.n.Store(1 << 30) // the server is unreachable from now on
	if err := f.Commit(ctx); err == nil {
		t.Fatal("commit through a dead proxy succeeded")
	}
	_ = e.m.Close() // the daemon goes away without flushing

	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	if p := m2.Pending(); len(p) != 1 || p[0].State != "journal" || p[0].Name != "r" {
		t.Fatalf("Pending before Recover = %+v", p)
	}
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 1 || res[0].Err != nil || res[0].Name != "r" {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	if !bytes.Equal(e.get("r"), want) {
		t.Fatal("recovered content differs")
	}
	if p := m2.Pending(); len(p) != 0 {
		t.Fatalf("Pending after Recover = %+v", p)
	}
	if entries := journalEntries(t, e.dir); len(entries) != 0 {
		t.Errorf("journal not empty after Recover: %d entries", len(entries))
	}
}

// Recover of a record the server refuses (its container is gone) moves it
// under failed/ with the reason; a directory without a record (writes never
// flushed) is dropped.
func TestRecoverRefusedGoesToFailed(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	if _, err := e.admin.CreateContainer(ctx, "gone", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := e.m.Open(writeback.Base{Container: "gone", Name: "x", BlockSize: bs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, []byte("lost?"), 0)
	proxy.n.Store(1 << 30)
	if err := f.Commit(ctx); err == nil {
		t.Fatal("commit succeeded")
	}
	_ = e.m.Close()
	if err := e.admin.DeleteContainer(ctx, "gone", pithos.DeleteContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "unflushed"), 0o700); err != nil {
		t.Fatal(err)
	}
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 1 || !res[0].Failed || !errors.Is(res[0].Err, fault.ErrNotFound) {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	p := m2.Pending()
	if len(p) != 1 || p[0].State != "failed" || p[0].Container != "gone" || p[0].Error == "" {
		t.Fatalf("Pending = %+v", p)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "unflushed")); !errors.Is(err, os.ErrNotExist) {
		t.Error("directory without a record not removed")
	}
	dirs, _ := filepath.Glob(filepath.Join(e.dir, "failed", "*", "record.json"))
	if len(dirs) != 1 {
		t.Fatalf("failed/ holds records %v, want 1", dirs)
	}
	if n := heldBlocks(t, dirs[0]); n != 1 {
		t.Errorf("failed/ holds %d blocks, want 1", n)
	}
}

// Crash test: a child process writes a file and starts its commit; the
// server stalls block uploads, the child is killed with SIGKILL mid-commit,
// and Recover in a new manager completes the commit.
func TestRecoverAfterKill(t *testing.T) {
	if os.Getenv("WB_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	orig := randomBytes(t, 30*bs)
	e.put("k", orig)
	b := e.base("k")
	target, _ := url.Parse(e.srv.ObjectStoreURL())
	target.Path = ""
	rp := httputil.NewSingleHostReverseProxy(target)
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost { // block uploads hang until the child dies
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the closed connection
			select {
			case <-r.Context().Done():
			case <-time.After(15 * time.Second):
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer stall.Close()
	su, _ := url.Parse(e.srv.ObjectStoreURL())
	pu, _ := url.Parse(stall.URL)
	su.Host = pu.Host

	cmd := exec.Command(os.Args[0], "-test.run=^TestRecoverAfterKill$")
	cmd.Env = append(os.Environ(), "WB_CRASH_CHILD=1", "WB_URL="+su.String(), "WB_TOKEN="+e.user.Token,
		"WB_ACCOUNT="+e.user.UUID, "WB_DIR="+e.dir, "WB_ETAG="+b.ETag, "WB_VERSION="+strconv.FormatInt(b.Version, 10))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		// In the journal's segment: the edited blocks are small.
		return len(writeback.SegmentPending(e.dir)) == 1
	})
	time.Sleep(100 * time.Millisecond) // let the child reach the stalled uploads
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if got := e.get("k"); !bytes.Equal(got, orig) {
		t.Fatal("object changed before recovery")
	}

	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	want := append([]byte(nil), orig...)
	crashEdit(want)
	if !bytes.Equal(e.get("k"), want) {
		t.Fatal("recovered content differs")
	}
}

// crashEdit is the child's change: every third block rewritten with a pattern,
// plus an append.
func crashEdit(data []byte) []byte {
	for i := 0; i < 30; i += 3 {
		copy(data[i*bs+10:], fmt.Sprintf("block %d edited by the crashed process", i))
	}
	return data
}

func crashChild() {
	ctx := context.Background()
	c, err := pithos.New(os.Getenv("WB_URL"), os.Getenv("WB_TOKEN"), synnefo.Options{})
	if err != nil {
		panic(err)
	}
	c = c.WithAccount(os.Getenv("WB_ACCOUNT"))
	m, err := writeback.New(writeback.Config{Client: c, JournalDir: os.Getenv("WB_DIR")})
	if err != nil {
		panic(err)
	}
	hm, info, err := c.GetHashmap(ctx, "c", "k", pithos.GetOptions{})
	if err != nil {
		panic(err)
	}
	if info.ETag != os.Getenv("WB_ETAG") {
		panic("etag mismatch")
	}
	f, err := m.Open(writeback.Base{Container: "c", Name: "k", ETag: info.ETag, Version: info.Version, BlockSize: hm.BlockSize,
		Hashes: hm.Hashes, Size: hm.Bytes}, nil)
	if err != nil {
		panic(err)
	}
	buf := make([]byte, hm.Bytes)
	if _, err := f.ReadAt(ctx, buf, 0); err != nil {
		panic(err)
	}
	crashEdit(buf)
	for i := 0; i < 30; i += 3 {
		if _, err := f.WriteAt(ctx, buf[i*bs:(i+1)*bs], int64(i*bs)); err != nil {
			panic(err)
		}
	}
	_ = f.Commit(ctx) // stalls until killed
	os.Exit(3)
}

// TestFlushAllCancelled: a flush stopped at once (a second Ctrl-C at unmount) commits nothing, loses
// nothing: every file's changes are left in the journal, where the next manager's Recover completes them.
func TestFlushAllCancelled(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	orig := randomBytes(t, 5*bs)
	e.put("old", orig)
	want := map[string][]byte{"new1": randomBytes(t, 3*bs+1), "new2": randomBytes(t, 10), "old": append([]byte(nil), orig...)}
	copy(want["old"][bs+7:], "edited")
	for _, n := range []string{"new1", "new2"} {
		f := e.open(n)
		write(t, f, want[n], 0)
		f.Release()
	}
	f := e.open("old")
	write(t, f, []byte("edited"), bs+7)
	f.Release()
	e.count.take()

	// As the daemon's second Ctrl-C does (cmd/pithosfs stopOnSignal): StopCommits, then the flush's context
	// ends. Without StopCommits the background retries that the stopped commits arm (RetryMin 20 ms) would
	// commit the files on their own, as they should for a flush interrupted in any other way.
	e.m.StopCommits()
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	var done []string
	err := e.m.FlushAll(stopped, func(p writeback.FlushProgress) {
		if p.Done {
			done = append(done, p.Name)
		}
	})
	if err == nil || len(done) != 3 {
		t.Fatalf("FlushAll with an ended context = %v, finished %v; want an error and all 3 files reported", err, done)
	}
	for _, n := range []string{"new1", "new2"} {
		if _, err := e.admin.ObjectInfo(ctx, "c", n, pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("%s on the server after a stopped flush: %v", n, err)
		}
	}
	if !bytes.Equal(e.get("old"), orig) {
		t.Fatal("old changed on the server")
	}
	_ = e.m.Close()

	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	if p := m2.Pending(); len(p) != 3 {
		t.Fatalf("Pending after the stopped flush = %+v, want 3 journal records", p)
	}
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 3 {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	for n, data := range want {
		if !bytes.Equal(e.get(n), data) {
			t.Errorf("%s after Recover differs", n)
		}
	}
}

// TestFlushAllServerDown: at unmount with the server unreachable, the first commit's retries show it;
// the other files are not tried (their changes go straight to the journal), and the next manager's
// Recover completes all of them.
func TestFlushAllServerDown(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	want := map[string][]byte{}
	for i := range 4 {
		n := fmt.Sprintf("f%d", i)
		want[n] = randomBytes(t, (i+1)*bs+i)
		f := e.open(n)
		write(t, f, want[n], 0)
		f.Release()
	}
	proxy.n.Store(1 << 30) // the server is unreachable from now on
	err := e.m.FlushAll(ctx, nil)
	if err == nil {
		t.Fatal("FlushAll with the server down succeeded")
	}
	if got := strings.Count(err.Error(), "not tried, the server was unreachable"); got != 3 {
		t.Errorf("%d files reported as not tried, want 3 (all but the first):\n%v", got, err)
	}
	_ = e.m.Close()

	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 4 {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	for n, data := range want {
		if !bytes.Equal(e.get(n), data) {
			t.Errorf("%s after Recover differs", n)
		}
	}
}

// TestStopCommits: after StopCommits a commit fails at once without the server, keeping the changes
// in the journal for the next manager's Recover.
func TestStopCommits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 2*bs+3)
	f := e.open("s")
	write(t, f, data, 0)
	e.m.StopCommits()
	var ce *writeback.CommitError
	if err := f.Commit(ctx); !errors.As(err, &ce) {
		t.Fatalf("Commit after StopCommits = %v, want a CommitError", err)
	}
	if _, err := e.admin.ObjectInfo(ctx, "c", "s", pithos.GetOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("s on the server after a stopped commit: %v", err)
	}
	f.Release()
	_ = e.m.Close()
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	if res, err := m2.Recover(ctx); err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	if !bytes.Equal(e.get("s"), data) {
		t.Fatal("recovered content differs")
	}
}
