// Package hashmap owns Pithos+ block hashing: the hash of one block (SHA-256
// of the block with its trailing zero bytes stripped), the Merkle top hash of
// an object's block hashes (its X-Object-Hash and, on a default deployment,
// its ETag), and the hashmap type the API sends and accepts. It imports only
// the standard library, so the block cache, the write-back journal and the
// local cloud share it without pulling in an HTTP client; it knows nothing of
// requests, objects' names or storage.
package hashmap
