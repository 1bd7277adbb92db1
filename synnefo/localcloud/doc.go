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
package localcloud
