// Package localcloud is the local Synnefo-compatible cloud served by
// `pithosfs serve` and started in-process by tests and by the embedded mount:
// Astakos identity (tokens, service catalog, user catalogs), the Pithos+ object
// store (accounts, containers, objects, block hashmaps, sharing, versions,
// quota) and, beside them, compute, network, volume and image services. It
// follows ../shared/spec, read off Synnefo's server code, so real clients work
// against it. State persists under one directory: blocks as content-addressed
// files named by hash, everything else (names, metadata, versions) in one
// bbolt database, so a request either commits whole or not at all and no
// container or object name ever becomes a filesystem path.
//
// Files are layered per API family, store → domain → HTTP. store.go,
// history.go, listing.go, sharing.go, blocks.go and the *_store.go files
// hold the records and the transaction steps on them (txn methods: allocate
// an address, add a subnet, snapshot a volume, register an image). The
// domain takes typed input (decoded by a handler; a Cyclades step takes a
// caller, not the request) and returns the typed replies of the *_view.go
// files, structs with JSON tags in JSON key order (no map[string]any), or a
// *fault. The handler files (pithos_http.go, account_http.go,
// container_http.go, objects_*.go, compute*.go, network*.go, volume*.go,
// image*.go, identity.go, projects_*.go, commissions_http.go) decode
// requests, run the domain in one transaction, encode the replies and
// render faults (faults.go). Database buckets are created by Open, which
// fails with the error.
package localcloud
