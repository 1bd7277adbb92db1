package cache

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestBudgetKeepsRequestRoom: while dirty blocks are held, the most FUSE
// request bytes held at once recently stay room kept for requests after
// they are released: other reservations do not take it, so that the next burst of requests stays
// within the limit (charged as they came, a burst arriving at a budget
// full of firm reservations went past it by its whole size); the room
// lasts one to two windows after its peak, and is at most a third of the
// limit. Without dirty blocks none is kept (a cold read's READs evict cached
// blocks for their room, as before).
func TestBudgetKeepsRequestRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const mib = 1 << 20
		b := NewBudget(13 * mib)
		for range 3 { // a burst of 3 requests
			b.ChargeRequest(mib)
		}
		b.ReleaseRequest(3 * mib)
		if b.RequestRoom() != 0 || !b.TryReserve(13*mib) {
			t.Fatal("room kept for requests without dirty blocks")
		}
		b.Release(13 * mib)
		if !b.TryReserveDirty(mib) { // a writer's block: from now on the room is kept
			t.Fatal("reserve dirty")
		}
		if got := b.RequestRoom(); got != 3*mib {
			t.Fatalf("room kept for requests %d after a burst of 3 MiB, want %d", got, 3*mib)
		}
		if b.TryReserve(10 * mib) {
			t.Fatal("a reservation took room kept for requests")
		}
		if !b.TryReserve(9 * mib) {
			t.Fatal("a reservation beside the requests' room refused")
		}
		for range 3 { // the next burst fits in its room
			b.ChargeRequest(mib)
			if b.Used() > b.Limit() {
				t.Fatalf("budget used %d past its limit %d by requests within their room", b.Used(), b.Limit())
			}
		}
		b.ReleaseRequest(3 * mib)
		b.Release(9 * mib)
		b.ReleaseDirty(mib)
		if !b.TryReserveDirty(mib) {
			t.Fatal("reserve dirty")
		}

		time.Sleep(2*reqWindow + time.Millisecond) // no requests for two windows: no room kept
		if got := b.RequestRoom(); got != 0 {
			t.Fatalf("room kept %d two windows after the last request, want 0", got)
		}
		if !b.TryReserve(12 * mib) {
			t.Fatal("the whole budget refused once the requests' room lapsed")
		}
		b.Release(12 * mib)

		for range 8 { // more than a third of the limit: room for a third only
			b.ChargeRequest(mib)
		}
		b.ReleaseRequest(8 * mib)
		if got, want := b.RequestRoom(), int64(13*mib/reqRoomShare); got != want {
			t.Fatalf("room kept %d after 8 MiB of requests, want the cap %d", got, want)
		}
		if !b.TryReserve(12*mib - 13*mib/reqRoomShare) {
			t.Fatal("a reservation of all but the capped room refused")
		}
	})
}
