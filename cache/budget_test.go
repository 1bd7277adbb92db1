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

// TestChargeEvictsThenOvercommits: Charge counts bytes the caller already holds. It evicts cached blocks
// for the room first; when firm reservations leave none it takes the bytes anyway, without waiting, and
// until they are released the other reservations find that much less room (they shrink instead of
// adding to it).
func TestChargeEvictsThenOvercommits(t *testing.T) {
	const blk = poolBlockSize
	c := openCache(t, Config{MemBytes: 4 * blk})
	b := c.Budget()
	cached := plainBlock(make([]byte, blk-entryOverhead))
	if !c.mem.add("a", cached, false) {
		t.Fatal("caching a block failed")
	}
	cached.release()
	if !b.TryReserve(3 * blk) { // firm: a load's, dirty blocks'
		t.Fatal("reserve")
	}
	b.Charge(blk / 4) // room only by evicting the cached block
	if n, _ := c.mem.usage(); n != 0 {
		t.Fatalf("%d cached blocks left after the charge, want 0 (evicted for its room)", n)
	}
	if got := b.Used(); got != 3*blk+blk/4 {
		t.Fatalf("Used() = %d, want %d", got, 3*blk+blk/4)
	}
	b.Charge(blk) // nothing to evict: taken beyond the limit
	if got, want := b.Used(), int64(4*blk+blk/4); got != want {
		t.Fatalf("Used() = %d after charging past the limit, want %d", got, want)
	}
	if b.TryReserve(blk / 2) {
		t.Fatal("a reservation found room while charged buffers held the budget past its limit")
	}
	b.Release(blk + blk/4)
	if !b.TryReserve(blk / 2) {
		t.Fatal("a reservation was refused after the charges were released")
	}
	b.Release(3*blk + blk/2)
	if b.Used() != 0 {
		t.Fatalf("Used() = %d after releasing everything", b.Used())
	}
}

// TestOverBudgetLoadCharged: a reader's load that finds the budget all firm reservations goes ahead (it
// does not wait) and is charged past the limit while its reader holds the block, so that the next
// reservations find that much less room; the memory tier does not keep it; the reader's release gives
// the charge back. Session 8 left such loads uncharged.
func TestOverBudgetLoadCharged(t *testing.T) {
	const blk = poolBlockSize
	c := openCache(t, Config{MemBytes: 4 * (blk + entryOverhead)})
	b := c.Budget()
	firm := b.Limit()
	if !b.TryReserve(firm) {
		t.Fatal("could not fill the budget")
	}
	defer b.Release(firm)
	data := block(61, blk)
	var buf uintptr
	r := getRef(t, c, data, &buf)
	if got, want := b.Used(), firm+blk+entryOverhead; got != want {
		t.Errorf("budget used while the reader holds the block = %d, want %d (its load charged past the limit)", got, want)
	}
	if c.mem.contains(hashKey(data).memID()) {
		t.Error("the memory tier kept a block loaded past the limit")
	}
	r.Release()
	if got := b.Used(); got != firm {
		t.Errorf("budget used after the release = %d, want %d", got, firm)
	}
}
