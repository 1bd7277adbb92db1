package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

func TestSmallWriteIntoLargeFile(t *testing.T) {
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 256*bs+100) // 257 blocks
	e.put("big", data)
	f := e.open("big")
	defer f.Release()
	e.count.take()

	for _, off := range []int64{100 * bs, 200*bs + 1000} { // aligned block, then straddling no boundary but partial
		p := randomBytes(t, bs)
		if off%bs != 0 {
			p = p[:bs-1000]
		}
		write(t, f, p, off)
		copy(data[off:], p)
		if err := f.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		posts, puts, body := e.count.take()
		t.Logf("write of %d bytes at %d: %d block POSTs (%d bytes), %d hashmap PUTs", len(p), off, posts, body, puts)
		if posts > 1 || puts > 2 || body > bs {
			t.Errorf("write at %d: %d block uploads (%d bytes), %d hashmap PUTs; want ≤ 1 block and ≤ 2 PUTs", off, posts, body, puts)
		}
	}
	if got := e.get("big"); !bytes.Equal(got, data) {
		t.Fatal("server content differs")
	}
	if f.Dirty() {
		t.Error("file still dirty after commit")
	}
	if b := f.Base(); b.Size != int64(len(data)) || b.ETag == "" {
		t.Errorf("base after commit: size %d etag %q", b.Size, b.ETag)
	}
	if entries := journalEntries(t, e.dir); len(entries) != 0 {
		t.Errorf("journal not empty after commit: %d entries", len(entries))
	}
}

func TestCopyOfExistingContentUploadsNoBlock(t *testing.T) {
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 20*bs+7)
	e.put("orig", data)
	f := e.open("copy")
	defer f.Release()
	e.count.take()
	for off := 0; off < len(data); off += 3000 { // odd-sized writes like cp's
		write(t, f, data[off:min(off+3000, len(data))], int64(off))
	}
	if err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts, puts, _ := e.count.take()
	t.Logf("copy of existing content: %d block POSTs, %d hashmap PUTs", posts, puts)
	if posts != 0 || puts != 1 {
		t.Errorf("%d block uploads, %d hashmap PUTs; want 0 and 1", posts, puts)
	}
	if !bytes.Equal(e.get("copy"), data) {
		t.Fatal("copy differs")
	}
}

func TestAppendUploadsAtMostTwoBlocks(t *testing.T) {
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 64*bs+1234)
	e.put("log", data)
	f := e.open("log")
	defer f.Release()
	e.count.take()
	p := randomBytes(t, bs) // fills the partial last block and spills into a new one
	write(t, f, p, f.Size())
	data = append(data, p...)
	if err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts, puts, _ := e.count.take()
	t.Logf("append of %d bytes: %d block POSTs, %d hashmap PUTs", len(p), posts, puts)
	if posts > 2 || puts > 2 {
		t.Errorf("append: %d block uploads, %d PUTs; want ≤ 2 and ≤ 2", posts, puts)
	}
	if !bytes.Equal(e.get("log"), data) {
		t.Fatal("content differs")
	}
}

func TestTruncateAndSparse(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 10*bs+500)
	e.put("t", data)
	f := e.open("t")
	defer f.Release()
	model := append([]byte(nil), data...)
	resize := func(n int64) {
		if err := f.Truncate(ctx, n); err != nil {
			t.Fatal(err)
		}
		if n < int64(len(model)) {
			model = model[:n]
		} else {
			model = append(model, make([]byte, n-int64(len(model)))...)
		}
	}
	check := func(step string) {
		t.Helper()
		if f.Size() != int64(len(model)) {
			t.Fatalf("%s: size %d, want %d", step, f.Size(), len(model))
		}
		if !bytes.Equal(readAll(t, f), model) {
			t.Fatalf("%s: content differs", step)
		}
	}
	resize(3*bs + 10) // shrink mid-block
	check("shrink")
	resize(12 * bs) // grow: old bytes must not come back
	check("grow")
	p := []byte("far away")
	write(t, f, p, 40*bs+3) // sparse write past EOF
	model = append(model, make([]byte, 40*bs+3-len(model))...)
	model = append(model, p...)
	check("sparse")
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("t"), model) {
		t.Fatal("server content differs after commit")
	}
	resize(0)
	check("truncate to 0")
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get("t"); len(got) != 0 {
		t.Fatalf("server has %d bytes, want 0", len(got))
	}
	resize(5)
	check("grow from 0")
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("t"), model) {
		t.Fatal("server content differs after grow from 0")
	}
}

func TestNewFileEmptyAndReads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	f := e.open("empty")
	if !f.Dirty() {
		t.Error("a new file must be dirty until created")
	}
	if n, err := f.ReadAt(ctx, make([]byte, 10), 0); n != 0 || err != io.EOF {
		t.Errorf("ReadAt of empty = %d, %v", n, err)
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	if e.m.Lookup("c", "empty") != nil {
		t.Error("clean released file still registered")
	}
	if got := e.get("empty"); len(got) != 0 {
		t.Fatalf("%d bytes", len(got))
	}
	// Creating over an object that appeared meanwhile is a conflict.
	g := e.open("raced")
	e.put("raced", []byte("theirs"))
	write(t, g, []byte("mine"), 0)
	var ce *writeback.ConflictError
	if err := g.Commit(ctx); !errors.As(err, &ce) {
		t.Fatalf("Commit = %v, want ConflictError", err)
	}
	if string(e.get("raced")) != "theirs" || string(e.get(ce.ConflictName)) != "mine" {
		t.Fatal("conflict contents wrong")
	}
}

func TestConcurrentHandles(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 16*bs)
	e.put("shared", data)
	f1, f2 := e.open("shared"), e.open("shared")
	if f1 != f2 {
		t.Fatal("two opens of one name must share the File")
	}
	var wg sync.WaitGroup
	for w := range 8 {
		f := f1
		if w%2 == 1 {
			f = f2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				off := int64(w*2*bs + k*100)
				p := bytes.Repeat([]byte{byte(w + 1)}, 100)
				if _, err := f.WriteAt(ctx, p, off); err != nil {
					t.Error(err)
					return
				}
				if k%7 == 3 {
					if err := f.Commit(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for w := range 8 {
		copy(data[w*2*bs:], bytes.Repeat([]byte{byte(w + 1)}, 2000))
	}
	if !bytes.Equal(readAll(t, f2), data) {
		t.Fatal("handle content differs")
	}
	if err := f1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f1.Release()
	f2.Release()
	if !bytes.Equal(e.get("shared"), data) {
		t.Fatal("server content differs")
	}
}

func TestConflictKeepsBothVersions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	orig := randomBytes(t, 5*bs)
	e.put("doc", orig)
	f := e.open("doc")
	defer f.Release()
	theirs := randomBytes(t, 3*bs)
	e.put("doc", theirs) // someone else saves meanwhile
	mine := append([]byte(nil), orig...)
	copy(mine[bs:], "my edit")
	write(t, f, []byte("my edit"), bs)
	err := f.Commit(ctx)
	var ce *writeback.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Commit = %v, want ConflictError", err)
	}
	if !strings.HasPrefix(ce.ConflictName, "doc.conflict-") {
		t.Fatalf("conflict name %q", ce.ConflictName)
	}
	if !bytes.Equal(e.get("doc"), theirs) {
		t.Error("original overwritten")
	}
	if !bytes.Equal(e.get(ce.ConflictName), mine) {
		t.Error("conflict copy differs from the user's version")
	}
	if b := f.Base(); b.Name != ce.ConflictName || e.m.Lookup("c", ce.ConflictName) != f || e.m.Lookup("c", "doc") != nil {
		t.Errorf("after conflict the file stands for %q", b.Name)
	}
	if s := e.m.Stats(); s.Conflicts != 1 {
		t.Errorf("stats %+v", s)
	}
	// Further writes through the open handle go to the conflict copy.
	write(t, f, []byte("more"), 0)
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	copy(mine, "more")
	if !bytes.Equal(e.get(ce.ConflictName), mine) || !bytes.Equal(e.get("doc"), theirs) {
		t.Error("second commit after conflict went wrong")
	}
}

func TestQuotaKeepsDataInJournal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{quota: 8 * bs})
	f := e.open("huge")
	data := randomBytes(t, 20*bs)
	write(t, f, data, 0)
	err := f.Commit(ctx)
	var qe *writeback.QuotaError
	if !errors.As(err, &qe) {
		t.Fatalf("Commit = %v, want QuotaError", err)
	}
	if !f.Dirty() || !bytes.Equal(readAll(t, f), data) {
		t.Fatal("data lost from the file after a quota error")
	}
	pend := e.m.Pending()
	if len(pend) != 1 || pend[0].Name != "huge" || pend[0].Error == "" || pend[0].Blocks != 20 {
		t.Fatalf("Pending = %+v", pend)
	}
	// The journal holds the record and every block.
	recs := journalRecords(t, e.dir)
	if len(recs) != 1 {
		t.Fatalf("records: %v", recs)
	}
	if n := heldBlocks(t, recs[0]); n != 20 {
		t.Fatalf("%d journal blocks, want 20", n)
	}
	// Freeing space lets the next commit through.
	f.Release()
	_ = e.m.Close()
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 1 || !res[0].Failed {
		t.Fatalf("Recover under quota = %+v, %v", res, err)
	}
	if p := m2.Pending(); len(p) != 1 || p[0].State != "failed" || !strings.Contains(p[0].Error, "413") {
		t.Fatalf("Pending after failed recovery = %+v", p)
	}
}

func TestRetriesFlakyServer(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	data := randomBytes(t, 12*bs)
	f := e.open("flaky")
	defer f.Release()
	write(t, f, data, 0)
	proxy.n.Store(3)
	if err := f.Commit(ctx); err != nil {
		t.Fatalf("Commit through a flaky proxy: %v", err)
	}
	if proxy.failed.Load() != 3 {
		t.Errorf("proxy failed %d requests, want 3", proxy.failed.Load())
	}
	if !bytes.Equal(e.get("flaky"), data) {
		t.Fatal("content differs")
	}
}

func TestBackgroundRetryAfterOutage(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	data := randomBytes(t, 3*bs)
	f := e.open("later")
	write(t, f, data, 0)
	proxy.n.Store(12) // longer than the HTTP layer's retries
	err := f.Commit(ctx)
	var ce *writeback.CommitError
	if !errors.As(err, &ce) || ce.Permanent {
		t.Fatalf("Commit = %v, want a transient CommitError", err)
	}
	f.Release() // still registered: it has pending data
	if e.m.Lookup("c", "later") == nil {
		t.Fatal("file with pending data unregistered")
	}
	waitFor(t, func() bool { return e.m.Lookup("c", "later") == nil })
	if !bytes.Equal(e.get("later"), data) {
		t.Fatal("content differs after background retry")
	}
	if entries := journalEntries(t, e.dir); len(entries) != 0 {
		t.Errorf("journal not empty: %d", len(entries))
	}
}

func TestCancelledContextDoesNotAbortCommit(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.open("intr")
	defer f.Release()
	data := randomBytes(t, 4*bs)
	write(t, f, data, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a FUSE interrupt
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("intr"), data) {
		t.Fatal("content differs")
	}
}

func TestSpillsToJournalWhenBudgetShort(t *testing.T) {
	ctx := context.Background()
	c, err := cache.Open(cache.Config{MemBytes: 3 * bs})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := newEnv(t, envOptions{cache: c})
	f := e.open("spill")
	defer f.Release()
	data := randomBytes(t, 10*bs+17)
	write(t, f, data, 0)
	write(t, f, []byte("patch"), 7*bs-2) // into spilled blocks, across a boundary
	copy(data[7*bs-2:], "patch")
	if s := e.m.Stats(); s.Spilled < 7 {
		t.Errorf("spilled %d blocks, want ≥ 7", s.Spilled)
	}
	if used := c.Budget().Used(); used > 3*bs {
		t.Errorf("budget used %d > limit", used)
	}
	if !bytes.Equal(readAll(t, f), data) {
		t.Fatal("content differs before commit")
	}
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.get("spill"), data) {
		t.Fatal("content differs after commit")
	}
	if used := c.Budget().Used(); used > 3*bs {
		t.Errorf("budget used %d after commit", used)
	}
}

func TestCommittedBlocksEnterCache(t *testing.T) {
	c, err := cache.Open(cache.Config{MemBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := newEnv(t, envOptions{cache: c})
	f := e.open("cached")
	defer f.Release()
	data := randomBytes(t, 2*bs)
	write(t, f, data, 0)
	if err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if !c.Contains(cache.HashKey(hashmap.BlockHashHex(data[i*bs : (i+1)*bs]))) {
			t.Errorf("block %d not in cache", i)
		}
	}
}

func TestFlushAllReportsProgress(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	want := map[string][]byte{}
	for _, n := range []string{"a", "b", "c"} {
		f := e.open(n)
		want[n] = randomBytes(t, 3*bs)
		write(t, f, want[n], 0)
		f.Release()
	}
	if len(e.m.Pending()) != 3 {
		t.Fatalf("Pending = %+v", e.m.Pending())
	}
	var done, blocks int
	err := e.m.FlushAll(ctx, func(p writeback.FlushProgress) {
		if p.Done {
			done++
		} else if p.BlocksUploaded > 0 {
			blocks++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if done != 3 || blocks != 9 {
		t.Errorf("progress: %d done, %d block reports; want 3 and 9", done, blocks)
	}
	for n, d := range want {
		if !bytes.Equal(e.get(n), d) {
			t.Errorf("%s differs", n)
		}
	}
	if p := e.m.Pending(); len(p) != 0 {
		t.Errorf("Pending after FlushAll = %+v", p)
	}
}
