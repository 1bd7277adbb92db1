package cache

import "sync/atomic"

// Stats is a snapshot of the cache's counters, shaped for
// .pithosfs/stats.json.
type Stats struct {
	// Outcome of each Get (prefetches included): served from memory, from
	// the disk tier, or neither (it waited for a network fetch).
	MemHits  int64 `json:"mem_hits"`
	DiskHits int64 `json:"disk_hits"`
	Misses   int64 `json:"misses"`
	// Fetches is the number of fetch calls made (one per missing block
	// however many Gets waited for it); FetchErrors those that failed or
	// returned data that did not match the key.
	Fetches      int64 `json:"fetches"`
	FetchErrors  int64 `json:"fetch_errors"`
	BytesFetched int64 `json:"bytes_fetched"`
	// Logical bytes returned by Gets served from memory or disk.
	BytesFromMem  int64 `json:"bytes_from_mem"`
	BytesFromDisk int64 `json:"bytes_from_disk"`
	// Blocks evicted from each tier to respect its byte limit.
	MemEvictions  int64 `json:"mem_evictions"`
	DiskEvictions int64 `json:"disk_evictions"`
	// Blocks dropped from memory once a sequential reader had read them
	// (Drop).
	MemDrops int64 `json:"mem_drops"`
	// Disk blocks that failed verification and were discarded, and fetched
	// blocks rejected because their data did not match the key.
	CorruptDiskBlocks int64 `json:"corrupt_disk_blocks"`
	BadFetches        int64 `json:"bad_fetches"`
	DiskWriteErrors   int64 `json:"disk_write_errors"`
	DiskWritesOff     bool  `json:"disk_writes_disabled"`
	// Fetched blocks not written to the disk tier because it was
	// diskQueueBytes behind (a disk slower than the network).
	DiskWritesSkipped int64 `json:"disk_writes_skipped"`
	// Readahead: blocks whose prefetch was started, skipped for lack of
	// budget, and prefetched blocks later read from memory.
	Prefetches        int64 `json:"prefetches"`
	PrefetchesDropped int64 `json:"prefetches_dropped"`
	ReadaheadHits     int64 `json:"readahead_hits"`
	// Current occupancy.
	MemBlocks   int   `json:"mem_blocks"`
	MemBytes    int64 `json:"mem_bytes"`
	BudgetUsed  int64 `json:"budget_used"`
	BudgetLimit int64 `json:"budget_limit"`
	// BudgetRequestRoom is the room the budget keeps for FUSE request
	// buffers, those held now included (budgetreq.go).
	BudgetRequestRoom int64 `json:"budget_request_room"`
	DiskBlocks        int   `json:"disk_blocks"`
	DiskBytes         int64 `json:"disk_bytes"`
	DiskLimit         int64 `json:"disk_limit"`
	// DiskQueued is the bytes of fetched blocks waiting to be written to
	// the disk tier.
	DiskQueued int64 `json:"disk_queued_bytes"`
	// FetchesInFlight is the number of block fetches running now.
	FetchesInFlight int64 `json:"fetches_in_flight"`
	// Object files (whole objects assembled from cached blocks, read by
	// the kernel directly): assembled, opened, being assembled now.
	ObjectFiles       int64 `json:"object_files_assembled"`
	ObjectFileOpens   int64 `json:"object_file_opens"`
	ObjectsAssembling int64 `json:"objects_assembling"`
	// ObjectBlocksStreamed counts the blocks written into object files
	// while a reader got them (ObjectWriter), rather than read back
	// afterwards.
	ObjectBlocksStreamed int64 `json:"object_blocks_streamed"`
	// ObjectBlocksCopied counts the blocks copied into object files from
	// their disk-tier files (copy_file_range, no second hash).
	ObjectBlocksCopied int64 `json:"object_blocks_copied"`
	// ObjectBlocksHosted counts the fetched blocks the disk tier wrote
	// straight into the object file being written (no block file of their
	// own: the object file is their one copy on disk); HostedSpilled those
	// copied out to block files because their object file was dropped
	// unfinished.
	ObjectBlocksHosted int64 `json:"object_blocks_hosted"`
	HostedSpilled      int64 `json:"hosted_blocks_spilled"`
}

type counters struct {
	memHits, diskHits, misses                     atomic.Int64
	fetches, fetchErrors, bytesFetched            atomic.Int64
	bytesFromMem, bytesFromDisk                   atomic.Int64
	memEvictions, diskEvictions, memDrops         atomic.Int64
	corruptDisk, badFetches, diskWriteErrors      atomic.Int64
	diskWritesSkipped                             atomic.Int64
	prefetches, prefetchesDropped, readaheadHits  atomic.Int64
	objectFiles, objectFileOpens                  atomic.Int64
	objectsAssembling, objectBlocksWritten        atomic.Int64
	diskCopies, objectBlocksHosted, hostedSpilled atomic.Int64
	inFlight                                      atomic.Int64
}
