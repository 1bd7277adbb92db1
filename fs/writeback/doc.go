// Package writeback owns the write path of pithosfs below FUSE: the dirty
// state of each file being written (blocks changed since the version it was
// opened at, kept in memory under the shared cache.Budget and spilled to a
// journal directory on disk when the budget is short), reads that see those
// unflushed writes, and commits that turn them into a new object version —
// on Pithos+ by hashing only the dirty blocks, PUTting the full hashmap with
// If-Match on the opened ETag and uploading exactly the blocks the server
// lacks; on plain Swift by a streamed whole-object upload. Every commit is
// journalled (dirty blocks plus a small record, written atomically) before it
// starts, so a commit that fails is retried in the background and one cut
// short by a crash is completed by Recover at the next mount; a concurrent
// change on the server is resolved by saving the user's version beside the
// original as NAME.conflict-<timestamp>. Package fs uses it for its file
// nodes; writeback itself knows nothing of FUSE.
package writeback
