// Package cache owns pithosfs's content-addressed block cache: blocks are
// kept by key (a Pithos block hash, or an opaque caller-built key for plain
// Swift objects) in a memory tier (an LRU under one byte Budget that
// readahead and the write path also charge) and in a disk tier under a
// directory that survives remounts; every block read from disk or fetched
// from the network is verified against its hash, one fetch runs per missing
// block however many readers wait for it, and blocks are stored with
// trailing zeros stripped and zero-extended on return (GetStripped hands
// out the stored bytes themselves; GetRef hands out a reference, and the
// buffers of blocks no one holds any more are reused for the next fetch).
// The disk tier writes with O_DIRECT where the file system allows it, off
// the read path: when a disk slower than the network is 32 MiB behind,
// further blocks are not written to it rather than holding reads back or
// pinning their memory (stats: disk_writes_skipped). The package knows
// blocks and bytes only: fetching is a function the caller passes in, so it
// has no notion of HTTP or FUSE. Readahead decides which blocks a sequential
// reader will want next and a Prefetcher fetches them in the background.
package cache
