package writeback

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/pithosfs/pithosfs/cache"
)

// TestUploadReadBacksBounded: a commit's spilled blocks read back for their
// uploads are at most uploadReadBackSlots at once across the manager, each
// charged to the budget while held, and given back by the client's Release
// (a slice of the block will do) or at the commit's end.
func TestUploadReadBacksBounded(t *testing.T) {
	const blk = 64 << 10
	budget := cache.NewBudget(16 * blk)
	m := &Manager{budget: budget, uploadBacks: make(chan struct{}, uploadReadBackSlots)}
	dir := t.TempDir()
	want := make([][]byte, uploadReadBackSlots+1)
	for i := range want {
		want[i] = bytes.Repeat([]byte{byte(i + 1)}, blk-i) // shorter files read back zero-extended
		if err := refOf(dir, slotName(int64(i)), blk).put(want[i]); err != nil {
			t.Fatal(err)
		}
	}
	ctx, s := m.withUploadReadBacks(context.Background(), blk)
	if uploadReadBacksFrom(ctx) != s || uploadReadBacksFrom(context.Background()) != nil {
		t.Fatal("the commit's read-backs do not travel with its context")
	}
	var held [][]byte
	for i := range uploadReadBackSlots {
		data, err := s.read(ctx, refOf(dir, slotName(int64(i)), blk))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != blk || !bytes.Equal(data[:len(want[i])], want[i]) || bytes.ContainsFunc(data[len(want[i]):], func(r rune) bool { return r != 0 }) {
			t.Fatalf("block %d read back wrong", i)
		}
		held = append(held, data)
	}
	if got := budget.Used(); got != uploadReadBackSlots*blk {
		t.Fatalf("budget used %d with %d read-backs held, want each charged", got, uploadReadBackSlots)
	}
	// Every slot taken: one more waits (here until its context ends).
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.read(done, refOf(dir, slotName(uploadReadBackSlots), blk)); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read-back beyond the slots: %v, want to wait", err)
	}
	s.release(held[0][:blk/2]) // the client releases the bytes it was given: a prefix of the buffer
	s.release([]byte("not a read-back"))
	if got := budget.Used(); got != (uploadReadBackSlots-1)*blk || len(m.uploadBacks) != uploadReadBackSlots-1 {
		t.Fatalf("after one release: budget used %d, slots taken %d", got, len(m.uploadBacks))
	}
	if _, err := s.read(ctx, refOf(dir, slotName(uploadReadBackSlots), blk)); err != nil {
		t.Fatal(err)
	}
	s.release(held[0]) // twice: nothing more
	s.releaseAll()
	if got := budget.Used(); got != 0 || len(m.uploadBacks) != 0 {
		t.Fatalf("after the commit: budget used %d, slots taken %d", got, len(m.uploadBacks))
	}
}
