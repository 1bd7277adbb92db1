package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pithosfs/pithosfs/cache"
	pfs "github.com/pithosfs/pithosfs/fs"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/metrics"
)

// pendingStates are the states of writeback.PendingCommit.State.
var pendingStates = []string{"dirty", "committing", "retrying", "journal", "failed"}

// registerMountMetrics adds the block cache's counters and the write path's
// (pending commits by state, commits, conflicts, failures) to met. The
// write path's are zero until the mount is stored in mnt.
func registerMountMetrics(met *metrics.Metrics, bc *cache.Cache, mnt *atomic.Pointer[pfs.Mounted]) {
	cs := func(f func(cache.Stats) int64) func() float64 {
		return func() float64 { return float64(f(bc.Stats())) }
	}
	const hits = "Block cache lookups by outcome: served from memory, from disk, or fetched from the server (miss)."
	met.CounterFunc("cache_lookups_total", hits, prometheus.Labels{"result": "mem_hit"}, cs(func(s cache.Stats) int64 { return s.MemHits }))
	met.CounterFunc("cache_lookups_total", hits, prometheus.Labels{"result": "disk_hit"}, cs(func(s cache.Stats) int64 { return s.DiskHits }))
	met.CounterFunc("cache_lookups_total", hits, prometheus.Labels{"result": "miss"}, cs(func(s cache.Stats) int64 { return s.Misses }))
	const served = "Bytes served from the block cache, by tier."
	met.CounterFunc("cache_served_bytes_total", served, prometheus.Labels{"tier": "mem"}, cs(func(s cache.Stats) int64 { return s.BytesFromMem }))
	met.CounterFunc("cache_served_bytes_total", served, prometheus.Labels{"tier": "disk"}, cs(func(s cache.Stats) int64 { return s.BytesFromDisk }))
	met.CounterFunc("cache_fetched_bytes_total", "Bytes of blocks fetched from the server into the cache.", nil,
		cs(func(s cache.Stats) int64 { return s.BytesFetched }))
	met.CounterFunc("cache_corrupt_blocks_total", "Disk cache blocks that failed verification and were refetched.", nil,
		cs(func(s cache.Stats) int64 { return s.CorruptDiskBlocks }))

	for _, st := range pendingStates {
		st := st
		met.GaugeFunc("pending_commits", "Files whose changes are not on the server yet, by state (as in .pithosfs/uploads/status).",
			prometheus.Labels{"state": st}, func() float64 {
				m := mnt.Load()
				if m == nil {
					return 0
				}
				n := 0
				for _, p := range m.Pending() {
					if p.State == st {
						n++
					}
				}
				return float64(n)
			})
	}
	wb := func(f func(s writeback.Stats) int64) func() float64 {
		return func() float64 {
			m := mnt.Load()
			if m == nil {
				return 0
			}
			return float64(f(m.WritebackStats()))
		}
	}
	met.CounterFunc("commits_total", "Files committed to the server (conflict copies included).", nil, wb(func(s writeback.Stats) int64 { return s.Commits }))
	met.CounterFunc("commit_conflicts_total", "Commits saved as NAME.conflict-<timestamp> because the object changed on the server.", nil,
		wb(func(s writeback.Stats) int64 { return s.Conflicts }))
	met.CounterFunc("commit_failures_total", "Failed commit attempts (retried in the background, kept in the journal).", nil,
		wb(func(s writeback.Stats) int64 { return s.Failures }))
	met.CounterFunc("uploaded_blocks_total", "Blocks the server asked for during commits and got.", nil,
		wb(func(s writeback.Stats) int64 { return s.BlocksUploaded }))
}
