package localcloud

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// Garbage collection of blocks. Blocks are shared by content, so a block file
// can go only when no version of any object (history included) and no volume
// references it. GC runs online, beside requests, and must never remove a
// block that a write in flight is about to reference:
//
//  1. GC opens a new epoch and from then on records every block a request
//     stores or checks for (put, has) in a touched set.
//  2. It waits until every write request that began in an earlier epoch has
//     finished: those may have stored or checked blocks before step 1, and
//     once they are done their commits are in the database (or never will be).
//  3. It reads the referenced hashes from one database snapshot taken then.
//  4. It removes each block file that is neither referenced nor touched, nor
//     younger than the grace period, checking touched and removing under the
//     same lock a request's put/has takes to record the block: a put or has
//     after the removal finds no file (a put writes it anew, a has makes the
//     hashmap PUT answer 409 with the block listed as missing, as Pithos does).
//
// The grace period keeps blocks uploaded by a block POST for a hashmap PUT
// that has not come yet. Removing a file is atomic and the database is never
// written by GC, so a crash (kill -9) mid-GC leaves every referenced block in
// place; a half-done GC only leaves garbage for the next run.

// gcState coordinates GC with write requests.
type gcState struct {
	mu      sync.Mutex
	cond    *sync.Cond
	epoch   uint64
	active  map[uint64]int      // write requests in flight, by the epoch they began in
	touched map[string]struct{} // blocks stored or checked while a GC runs; nil otherwise
	running bool
}

func newGCState() *gcState {
	g := &gcState{active: map[uint64]int{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// enterWrite registers a write request; the returned func ends it.
func (g *gcState) enterWrite() func() {
	g.mu.Lock()
	e := g.epoch
	g.active[e]++
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		if g.active[e]--; g.active[e] == 0 {
			delete(g.active, e)
		}
		g.cond.Broadcast()
		g.mu.Unlock()
	}
}

// touch records that a request relies on block hash.
func (g *gcState) touch(hash string) {
	g.mu.Lock()
	if g.touched != nil {
		g.touched[hash] = struct{}{}
	}
	g.mu.Unlock()
}

// GCStats reports one GC run.
type GCStats struct {
	Scanned    int   // block files looked at
	Referenced int   // distinct hashes referenced by the database
	Removed    int   // block files removed
	Freed      int64 // bytes of the removed files
	Kept       int   // unreferenced blocks kept (in use by a write, or younger than the grace period)
}

// errGCRunning is returned when a GC is already running.
var errGCRunning = errors.New("localcloud: a block GC is already running")

// GC removes the block files no object version or volume references and
// that are older than grace. It runs beside requests (see the comment above
// on why that is safe) and returns what it did; ctx cancels it between files.
func (c *Cloud) GC(ctx context.Context, grace time.Duration) (GCStats, error) {
	g := c.store.blocks.gc
	start := time.Now()
	g.mu.Lock()
	if g.running {
		g.mu.Unlock()
		return GCStats{}, errGCRunning
	}
	g.running, g.touched = true, map[string]struct{}{}
	old := g.epoch
	g.epoch++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running, g.touched = false, nil
		g.mu.Unlock()
	}()
	c.gcHook("wait")
	if err := g.waitWriters(ctx, old); err != nil {
		return GCStats{}, err
	}
	c.gcHook("snapshot")
	refs, err := c.store.referenced()
	if err != nil {
		return GCStats{}, err
	}
	c.gcHook("scanned")
	st := GCStats{Referenced: len(refs)}
	err = filepath.WalkDir(c.store.blocks.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if !hashmap.IsHexHash(name) {
			return nil // not a block (never written by the store)
		}
		st.Scanned++
		var key [32]byte
		hex.Decode(key[:], []byte(name))
		if _, ok := refs[key]; ok {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if info.ModTime().After(start.Add(-grace)) {
			st.Kept++
			return nil
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if _, ok := g.touched[name]; ok {
			st.Kept++
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("localcloud: gc: %w", err)
		}
		st.Removed++
		st.Freed += info.Size()
		c.gcHook("removed")
		return nil
	})
	if err != nil {
		return st, err
	}
	c.log.Info("block gc", zap.Int("scanned", st.Scanned), zap.Int("referenced", st.Referenced),
		zap.Int("removed", st.Removed), zap.Int64("freed_bytes", st.Freed), zap.Int("kept", st.Kept),
		zap.Duration("took", time.Since(start)))
	return st, nil
}

// gcHook calls the test hook, if any, at a stage of a GC run.
func (c *Cloud) gcHook(stage string) {
	if c.testGCHook != nil {
		c.testGCHook(stage)
	}
}

// waitWriters waits until no write request of epoch old or earlier is in
// flight (or ctx ends).
func (g *gcState) waitWriters(ctx context.Context, old uint64) error {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		busy := false
		for e, n := range g.active {
			if e <= old && n > 0 {
				busy = true
				break
			}
		}
		if !busy {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		g.cond.Wait()
	}
}

// referenced collects every block hash the database references: all object
// versions (history included), current objects and volumes.
func (s *store) referenced() (map[[32]byte]struct{}, error) {
	refs := map[[32]byte]struct{}{}
	err := s.view(func(t *txn) error {
		for _, name := range [][]byte{bVersions, bObjects, bVolumes} {
			b := t.tx.Bucket(name)
			if b == nil {
				continue
			}
			err := b.ForEach(func(k, v []byte) error {
				var rec struct {
					Hashes []string `json:"hashes"`
				}
				if err := json.Unmarshal(v, &rec); err != nil {
					return fmt.Errorf("localcloud: gc: record %q: %w", k, err)
				}
				for _, h := range rec.Hashes {
					var key [32]byte
					if _, err := hex.Decode(key[:], []byte(h)); err == nil {
						refs[key] = struct{}{}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return refs, err
}

// RunGC runs GC every interval until ctx ends, logging failures.
func (c *Cloud) RunGC(ctx context.Context, interval, grace time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case <-tick.C:
		}
		if _, err := c.GC(ctx, grace); err != nil && ctx.Err() == nil {
			c.log.Error("block gc failed", zap.Error(err))
		}
	}
}
