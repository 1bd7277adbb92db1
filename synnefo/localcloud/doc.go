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
// Files are layered per API family. store.go, history.go, listing.go,
// sharing.go, blocks.go and the *_store.go files hold the records and the
// transaction steps on them (txn methods: allocate an address, add a subnet,
// snapshot a volume, register an image); the *_view.go files hold the typed
// replies, structs with JSON tags rendered from records; the handler files
// (pithos_http.go, account_http.go, container_http.go, objects_*.go,
// compute*.go, network*.go, volume*.go, image*.go, identity.go,
// projects_http.go) parse requests, run the steps in one transaction and
// encode the replies. Database buckets are created by Open, which fails
// with the error.
package localcloud
