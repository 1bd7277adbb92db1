package writeback_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// TestCommitRefusedForGoodGoesToFailed: a commit the server refuses with a
// 4xx no retry can fix (400 "Object name too large") goes to failed/ at
// once with the server's reason: Pending shows it failed, not retrying,
// nothing retries it, its data reads back, and the file is clean again.
func TestCommitRefusedForGoodGoesToFailed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	long := strings.Repeat("n", 1100) // Pithos: object names up to 1024 bytes
	data := randomBytes(t, 2*bs+5)
	f, err := e.m.Open(writeback.Base{Container: "c", Name: long, BlockSize: bs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, data, 0)
	err = f.Commit(ctx)
	var ce *writeback.CommitError
	if !errors.As(err, &ce) || !ce.Permanent {
		t.Fatalf("Commit = %v, want a permanent CommitError", err)
	}
	if f.Dirty() {
		t.Error("the file is still dirty after its commit went to failed/")
	}
	f.Release()
	p := e.m.Pending()
	if len(p) != 1 || p[0].State != "failed" || !strings.Contains(p[0].Error, "Object name too large") {
		t.Fatalf("Pending = %+v, want one failed entry with the server's reason", p)
	}
	failed := e.m.Failed()
	if len(failed) != 1 || failed[0].Name != long || !strings.Contains(failed[0].Reason, "Object name too large") {
		t.Fatalf("Failed = %+v", failed)
	}
	r, err := e.m.FailedReader(ctx, failed[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("failed data: %d bytes, %v; want the %d written", len(got), err, len(data))
	}
	failures := e.m.Stats().Failures
	e.count.take()
	// Nothing retries it (RetryMin is 20 ms in this env): no request at all.
	_ = e.m.Close()
	if posts, puts, _ := e.count.take(); posts+puts != 0 || e.m.Stats().Failures != failures {
		t.Errorf("after the refusal: %d POSTs, %d PUTs, %d failures; want none more", posts, puts, e.m.Stats().Failures-failures)
	}
}

// TestCommitQuotaNotMovedToFailed: 413 (quota) is not a refusal for
// good: the commit stays pending and is retried, as before.
func TestCommitQuotaNotMovedToFailed(t *testing.T) {
	e := newEnv(t, envOptions{quota: bs})
	f := e.open("big")
	write(t, f, randomBytes(t, 3*bs), 0)
	if err := f.Commit(context.Background()); err == nil {
		t.Fatal("commit over the quota succeeded")
	}
	f.Release()
	if p := e.m.Pending(); len(p) != 1 || p[0].State != "retrying" {
		t.Fatalf("Pending = %+v, want one retrying", p)
	}
	if n := len(e.m.Failed()); n != 0 {
		t.Fatalf("%d failed entries, want 0", n)
	}
}
