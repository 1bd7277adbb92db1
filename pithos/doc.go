// Package pithos speaks HTTP to a Pithos+ (or plain OpenStack Swift) object
// store: accounts, containers and objects, and the Pithos+ extensions built on
// block hashmaps (hashmap reads and writes, block uploads of only what the
// server lacks, server-side copy and move, sharing, versions), using package hashmap for the
// block and Merkle hashes. It turns HTTP statuses into the domain errors
// callers test with errors.Is/As (errors.go): status codes stay inside it.
// It knows nothing of FUSE and keeps no cache.
package pithos
