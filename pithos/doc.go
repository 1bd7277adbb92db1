// Package pithos speaks HTTP to a Pithos+ (or plain OpenStack Swift) object
// store: accounts, containers and objects, and the Pithos+ extensions built on
// block hashmaps (hashmap reads and writes, block uploads of only what the
// server lacks, server-side copy and move, sharing, versions). It also owns the
// hashmap and Merkle top-hash computation, shared with the local cloud server.
// It knows nothing of FUSE and keeps no cache.
package pithos
