package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// Key names one block in the cache.
//
// A hash key (HashKey) is a Pithos block hash: the block's data is verified
// against it (SHA-256 of the data with trailing zeros stripped) whenever it
// is read from disk or fetched. An opaque key (OpaqueKey) is any string the
// caller builds, such as "swift:/account/container/object@<etag>#<index>" for
// a plain Swift object without hashmaps; it is never interpreted as a hash,
// and its disk copy is protected by a checksum the cache writes itself.
type Key struct {
	id   string
	hash bool
}

// HashKey returns the key of a Pithos block with the given hex hash. Upper
// case is accepted and normalised.
func HashKey(hexHash string) Key {
	return Key{id: strings.ToLower(hexHash), hash: true}
}

// OpaqueKey returns a key that identifies a block by a caller-built string.
// The string must change whenever the block's content may change (include
// the object's ETag or version).
func OpaqueKey(id string) Key {
	return Key{id: id}
}

// Verifiable reports whether the key is a block hash the data is checked
// against.
func (k Key) Verifiable() bool { return k.hash }

// ID is the hex hash of a hash key or the caller's string of an opaque key.
func (k Key) ID() string { return k.id }

// String is a printable form that distinguishes the two kinds of key.
func (k Key) String() string {
	if k.hash {
		return "hash:" + k.id
	}
	return "opaque:" + k.id
}

// ErrInvalidKey is returned for a zero Key or a hash key that is not a hex
// SHA-256 digest.
var ErrInvalidKey = errors.New("cache: invalid key")

func (k Key) validate() error {
	if k.id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if k.hash && !hashmap.IsHexHash(k.id) {
		return fmt.Errorf("%w: %q is not a hex block hash", ErrInvalidKey, k.id)
	}
	return nil
}

// memID is the key's identity in the memory tier; the prefix keeps an
// opaque string from colliding with a hash.
func (k Key) memID() string {
	if k.hash {
		return "h" + k.id
	}
	return "o" + k.id
}

// opaquePrefix begins an opaque key's file name in the disk tier ("o"
// before session 14, when the files' trailer was a SHA-256).
const opaquePrefix = 'c'

// fileName is the key's file name in the disk tier: the hash itself, or "c"
// followed by the SHA-256 of the opaque string (so any string is safe as a
// file name). The first two hex digits of the hash name the shard directory.
func (k Key) fileName() (shard, name string) {
	if k.hash {
		return k.id[:2], k.id
	}
	sum := sha256.Sum256([]byte(k.id))
	h := hex.EncodeToString(sum[:])
	return h[:2], string(opaquePrefix) + h
}

// VerifyError reports block data that does not match its hash key.
type VerifyError struct {
	Key  Key
	Got  string // hash of the data received
	From string // "fetch", "disk" or "put"
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("cache: block %s from %s has hash %s", e.Key.id, e.From, e.Got)
}

// verify checks data (stripped or not) against a hash key; opaque keys
// always pass.
func verify(k Key, data []byte, from string) error {
	if !k.hash {
		return nil
	}
	if got := hashmap.BlockHashHex(data); got != k.id {
		return &VerifyError{Key: k, Got: got, From: from}
	}
	return nil
}
