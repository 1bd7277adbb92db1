package fs

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestMemReleaseAfterBurst: memory is returned once after a burst of drops
// has been quiet for a second (not in its middle, which left the rest of the
// burst in the heap); a burst that goes on is released after 5 s, and the
// drops after that one arm a release of their own however few they are;
// drops too few to matter release nothing.
func TestMemReleaseAfterBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var frees atomic.Int64
		r := &memRelease{free: func() { frees.Add(1) }}

		r.dropped(100) // too few
		time.Sleep(3 * time.Second)
		if frees.Load() != 0 {
			t.Fatal("100 dropped items released memory")
		}

		// 50 000 FORGETs in batches of 5 000, 400 ms apart (3.6 s).
		for range 10 {
			r.dropped(5000)
			time.Sleep(400 * time.Millisecond)
		}
		if frees.Load() != 0 {
			t.Fatal("memory released while the burst was still going on")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if frees.Load() != 1 {
			t.Fatalf("%d releases a second after the burst, want 1", frees.Load())
		}

		// A burst of 8 s: released at 5 s, and once more after its tail.
		for range 16 {
			r.dropped(5000)
			time.Sleep(500 * time.Millisecond)
		}
		synctest.Wait()
		if frees.Load() != 2 {
			t.Fatalf("%d releases during an 8 s burst, want the one forced at 5 s", frees.Load())
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if frees.Load() != 3 {
			t.Fatalf("%d releases after the long burst's tail, want 3", frees.Load())
		}
		r.dropped(10) // the tail was released: back to the threshold
		time.Sleep(3 * time.Second)
		if frees.Load() != 3 {
			t.Fatal("a few drops after the tail's release released memory again")
		}
	})
}
