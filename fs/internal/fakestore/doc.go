// Package fakestore is an in-memory object store with Pithos+ semantics, for
// unit tests of fs and fs/writeback without HTTP or FUSE: its *Store
// satisfies fs.Store (and so writeback.Store and history.Store).
//
// It keeps what the mount relies on: objects as hashmaps over a shared
// content-addressed block store (pithos/hashmap's block hash and Merkle top
// hash, which is also the ETag), If-Match / If-None-Match preconditions,
// PUT ?hashmap answering the blocks it lacks, delimiter listings with
// subdirs and markers, copy and move (with a delimiter, a subtree), delete,
// containers, sharing and publishing, and Pithos+ versions (every write is a
// version; deleted names keep theirs). Its errors are synnefo/fault's
// domain errors, the ones the real client's errors match with errors.Is
// (fault.ErrNotFound, fault.ErrPrecondition, fault.ErrNotModified,
// fault.ErrNotEmpty, pithos.ErrNoHistory, *pithos.MissingBlocksError…),
// wrapped with the request; it knows no HTTP status, as fs must not.
//
// Every call goes through Faults (faults.go), which can fail the Nth call of
// a method, or the calls a predicate picks, with any error: the spirit of
// mountpoint-s3's failure_client.
//
// Not modelled: plain Swift (no hashmaps, segments, archive containers),
// account groups and permission checks between accounts (every account may
// read and write every other), quotas (inject fault.ErrQuota instead),
// listings "until" a time, the meta/shared/public listing filters, and
// If-Modified-Since. Only tests import it.
package fakestore
