package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
)

// A commit refused at recovery (over quota) is listed by Failed, and
// FailedReader returns exactly the version that was refused: its dirty
// blocks from the journal, unchanged blocks from the base version on the
// server, zeros for an all-zero base block, past the truncation point and in
// the hole of a sparse write. DiscardFailed then removes it from the journal.
func TestFailedReaderContent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{quota: 12 * bs})
	orig := randomBytes(t, 9*bs+5)
	clear(orig[4*bs : 5*bs]) // a base block of zeros: its hash is EmptyHash
	e.put("doc", orig)

	f := e.open("doc")
	want := append([]byte(nil), orig...)
	write(t, f, []byte("hello"), 2*bs+3)
	copy(want[2*bs+3:], "hello")
	if err := f.Truncate(ctx, 6*bs+1); err != nil {
		t.Fatal(err)
	}
	want = want[:6*bs+1]
	tail := randomBytes(t, bs+7)
	write(t, f, tail, 15*bs)
	want = append(want, make([]byte, 15*bs-len(want))...)
	want = append(want, tail...)
	var qe *writeback.QuotaError
	if err := f.Commit(ctx); !errors.As(err, &qe) {
		t.Fatalf("Commit = %v, want a QuotaError", err)
	}
	f.Release()
	_ = e.m.Close()

	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	if res, err := m2.Recover(ctx); err != nil || len(res) != 1 || !res[0].Failed {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	failed := m2.Failed()
	if len(failed) != 1 {
		t.Fatalf("Failed = %+v", failed)
	}
	fc := failed[0]
	if fc.Container != "c" || fc.Name != "doc" || fc.Size != int64(len(want)) || !fc.Readable ||
		!strings.Contains(fc.Reason, "413") || fc.Since.IsZero() {
		t.Fatalf("Failed = %+v", fc)
	}
	r, err := m2.FailedReader(ctx, fc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(want)) {
		t.Fatalf("Size = %d, want %d", r.Size(), len(want))
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("content differs from the refused version (%d bytes, want %d)", len(got), len(want))
	}
	// Reads at odd offsets and lengths, across block boundaries.
	for _, c := range []struct{ off, n int64 }{{0, 1}, {2*bs - 3, 10}, {4*bs - 1, bs + 2}, {6*bs - 2, 5}, {9*bs + 1, 3 * bs}, {15*bs + 5, 100}} {
		buf := make([]byte, c.n)
		n, err := r.ReadAt(buf, c.off)
		end := min(c.off+c.n, int64(len(want)))
		if int64(n) != end-c.off || (err != nil && (err != io.EOF || end == c.off+c.n)) {
			t.Errorf("ReadAt(%d, %d) = %d, %v", c.off, c.n, n, err)
		}
		if !bytes.Equal(buf[:n], want[c.off:end]) {
			t.Errorf("ReadAt(%d, %d): content differs", c.off, c.n)
		}
	}
	if n, err := r.ReadAt(make([]byte, 4), r.Size()); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end = %d, %v", n, err)
	}

	if err := m2.DiscardFailed(fc.ID); err != nil {
		t.Fatal(err)
	}
	if p := m2.Pending(); len(p) != 0 {
		t.Errorf("Pending after DiscardFailed = %+v", p)
	}
	if f := m2.Failed(); len(f) != 0 {
		t.Errorf("Failed after DiscardFailed = %+v", f)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "failed", fc.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still holds the discarded commit: %v", err)
	}
	if err := m2.DiscardFailed(fc.ID); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("second DiscardFailed = %v, want ErrNotExist", err)
	}
}

// A new file refused at recovery (its container deleted while the mount was
// down) reads back entirely from the journal: no base version is needed.
func TestFailedReaderNewFileContainerGone(t *testing.T) {
	ctx := context.Background()
	e, proxy := newFlakyEnv(t)
	f := e.open("new")
	data := randomBytes(t, 3*bs+11)
	write(t, f, data, 0)
	proxy.n.Store(1 << 30) // the server is unreachable from now on
	if err := f.Commit(ctx); err == nil {
		t.Fatal("commit through a dead proxy succeeded")
	}
	_ = e.m.Close()
	if err := e.admin.DeleteContainer(ctx, "c", pithos.DeleteContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	if res, err := m2.Recover(ctx); err != nil || len(res) != 1 || !res[0].Failed {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	failed := m2.Failed()
	if len(failed) != 1 || failed[0].Name != "new" {
		t.Fatalf("Failed = %+v", failed)
	}
	r, err := m2.FailedReader(ctx, failed[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("content differs (%d bytes, want %d): %v", len(got), len(data), err)
	}
}

// A failed/ entry whose record is unreadable is listed with its reason and
// no data; ids that are not plain names are refused.
func TestFailedUnreadableAndBadIDs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	dir := filepath.Join(e.dir, "failed", "broken")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "reason.txt"), []byte("record garbled\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := e.m.Failed()
	if len(failed) != 1 || failed[0].ID != "broken" || failed[0].Readable || failed[0].Reason != "record garbled" {
		t.Fatalf("Failed = %+v", failed)
	}
	if _, err := e.m.FailedReader(ctx, "broken"); err == nil {
		t.Error("FailedReader of an unreadable record succeeded")
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b"} {
		if _, err := e.m.FailedReader(ctx, id); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("FailedReader(%q) = %v, want ErrNotExist", id, err)
		}
		if err := e.m.DiscardFailed(id); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("DiscardFailed(%q) = %v, want ErrNotExist", id, err)
		}
	}
	if err := e.m.DiscardFailed("broken"); err != nil {
		t.Fatal(err)
	}
	if len(e.m.Failed()) != 0 {
		t.Error("broken entry not discarded")
	}
}
