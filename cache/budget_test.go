package cache

import "testing"

// TestDirtyLimit: dirty blocks hold at most three quarters of a cache's
// budget, evicting cached blocks to get there but never the last quarter,
// which reads keep; a budget of its own (NewBudget) has no such limit.
func TestDirtyLimit(t *testing.T) {
	const blk = poolBlockSize
	c := openCache(t, Config{MemBytes: 8 * blk})
	b := c.Budget()
	for i := range 8 { // the memory tier full of cached blocks, held by nobody else
		cached := plainBlock(make([]byte, blk-entryOverhead))
		if !c.mem.add(string(rune('a'+i)), cached, false) {
			t.Fatalf("caching block %d failed", i)
		}
		cached.release()
	}
	for i := range 6 {
		if !b.TryReserveDirty(blk) {
			t.Fatalf("dirty block %d of 6 refused", i)
		}
	}
	if b.TryReserveDirty(blk) {
		t.Fatal("a 7th dirty block of 8 was reserved")
	}
	if got := b.Dirty(); got != 6*blk {
		t.Fatalf("Dirty() = %d, want %d", got, 6*blk)
	}
	if n, _ := c.mem.usage(); n != 2 {
		t.Fatalf("%d cached blocks left, want 2 (the quarter dirty blocks may not take)", n)
	}
	if !b.TryReserve(blk) {
		t.Fatal("a read's reservation was refused beside 6 dirty blocks")
	}
	b.Release(blk)
	b.ReleaseDirty(blk)
	if !b.TryReserveDirty(blk) {
		t.Fatal("a dirty block refused after one was released")
	}
	b.ReleaseDirty(6 * blk)
	if b.Dirty() != 0 || b.Used() > 2*blk {
		t.Fatalf("after releasing: dirty %d, used %d", b.Dirty(), b.Used())
	}

	own := NewBudget(2 * blk)
	for i := range 2 {
		if !own.TryReserveDirty(blk) {
			t.Fatalf("a budget of its own refused dirty block %d of 2", i+1)
		}
	}
	own.ReleaseDirty(2 * blk)
}
