package hashmap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// DefaultBlockSize and DefaultBlockHash are the Pithos+ deployment defaults.
// Clients must read the real values from the container (X-Container-Block-Size,
// X-Container-Block-Hash) or from a hashmap reply.
const (
	DefaultBlockSize = 4 << 20
	DefaultBlockHash = "sha256"
)

// Map is an object's list of block hashes as Pithos+ reports it from
// GET ?hashmap&format=json and accepts in PUT ?hashmap.
type Map struct {
	BlockSize int64    `json:"block_size"`
	BlockHash string   `json:"block_hash"`
	Bytes     int64    `json:"bytes"`
	Hashes    []string `json:"hashes"`
}

// NewHasher returns the hash function named by a container's block hash
// ("sha256" is the only one Pithos+ deploys today).
func NewHasher(name string) (func() hash.Hash, error) {
	switch name {
	case "sha256", "":
		return sha256.New, nil
	default:
		return nil, fmt.Errorf("hashmap: unsupported block hash %q", name)
	}
}

// BlockHash returns the raw digest of one block: SHA-256 of the block with all
// trailing zero bytes removed, so an all-zero block of any length hashes to
// SHA-256("").
func BlockHash(block []byte) [sha256.Size]byte {
	return sha256.Sum256(bytes.TrimRight(block, "\x00"))
}

// BlockHashHex is BlockHash in the lowercase hex form the API uses.
func BlockHashHex(block []byte) string {
	h := BlockHash(block)
	return hex.EncodeToString(h[:])
}

// EmptyHash is the hex hash of the empty (or all-zero) block.
var EmptyHash = BlockHashHex(nil)

// NumBlocks is the number of hashes an object of size bytes has: one per
// block, and exactly one for an empty object.
func NumBlocks(size, blockSize int64) int64 {
	if size <= 0 {
		return 1
	}
	return (size + blockSize - 1) / blockSize
}

// TopHash computes the Merkle top hash (X-Object-Hash, and the ETag of a
// default deployment) of hex block hashes. One leaf is returned unchanged;
// more are padded with all-zero digests to a power of two and hashed in
// pairs until one node remains.
func TopHash(hexHashes []string) (string, error) {
	const d = sha256.Size
	switch len(hexHashes) {
	case 0:
		h := sha256.Sum256(nil)
		return hex.EncodeToString(h[:]), nil
	case 1:
		b, err := hex.DecodeString(hexHashes[0])
		if err != nil || len(b) != d {
			return "", fmt.Errorf("hashmap: invalid hash %q", hexHashes[0])
		}
		return hex.EncodeToString(b), nil
	}
	n := 2
	for n < len(hexHashes) {
		n *= 2
	}
	// One buffer for every level (n digests, the padding all zero), reduced
	// in place: a terabyte's 262144 hashes cost 8 MiB once, not a slice each.
	tree := make([]byte, n*d)
	for i, h := range hexHashes {
		if i > 0 && h == hexHashes[i-1] {
			copy(tree[i*d:(i+1)*d], tree[(i-1)*d:i*d])
			continue
		}
		if len(h) != 2*d {
			return "", fmt.Errorf("hashmap: invalid hash %q", h)
		}
		if _, err := hex.Decode(tree[i*d:(i+1)*d], []byte(h)); err != nil {
			return "", fmt.Errorf("hashmap: invalid hash %q", h)
		}
	}
	for width := n; width > 1; width /= 2 {
		for i := range width / 2 {
			sum := sha256.Sum256(tree[2*i*d : (2*i+2)*d])
			copy(tree[i*d:(i+1)*d], sum[:])
		}
	}
	return hex.EncodeToString(tree[:d]), nil
}

func topHashRaw(level [][]byte) []byte {
	switch len(level) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return level[0]
	}
	n := 2
	for n < len(level) {
		n *= 2
	}
	zero := make([]byte, sha256.Size)
	for len(level) < n {
		level = append(level, zero)
	}
	buf := make([]byte, 2*sha256.Size)
	for len(level) > 1 {
		next := make([][]byte, len(level)/2)
		for i := range next {
			copy(buf, level[2*i])
			copy(buf[sha256.Size:], level[2*i+1])
			h := sha256.Sum256(buf)
			next[i] = h[:]
		}
		level = next
	}
	return level[0]
}

// TopHash returns the Merkle top hash of the hashmap.
func (m *Map) TopHash() (string, error) { return TopHash(m.Hashes) }

// Validate checks that the hashmap is well formed: hex hashes of the right
// length and one hash per block of Bytes (an empty object may list none or
// just the empty hash).
func (m *Map) Validate() error {
	if m.Bytes < 0 {
		return errors.New("hashmap: negative object size")
	}
	if m.BlockSize <= 0 {
		return errors.New("hashmap: block size must be positive")
	}
	want := NumBlocks(m.Bytes, m.BlockSize)
	if m.Bytes == 0 {
		if len(m.Hashes) > 1 || (len(m.Hashes) == 1 && m.Hashes[0] != EmptyHash) {
			return errors.New("hashmap: an empty object has no blocks")
		}
	} else if int64(len(m.Hashes)) != want {
		return fmt.Errorf("hashmap: %d hashes for %d bytes in blocks of %d", len(m.Hashes), m.Bytes, m.BlockSize)
	}
	for _, h := range m.Hashes {
		if !IsHexHash(h) {
			return fmt.Errorf("hashmap: invalid hash %q", h)
		}
	}
	return nil
}

// IsHexHash reports whether s is a lowercase or uppercase hex SHA-256 digest.
func IsHexHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// BlockFunc is called by HashReader with each block read and its hex hash.
// The block slice is only valid during the call.
type BlockFunc func(index int, hexHash string, block []byte) error

// HashReader reads r to EOF in blocks of blockSize bytes, hashing each one,
// and returns the object's hashmap. fn, when not nil, sees every block; an
// error from it stops the read.
func HashReader(r io.Reader, blockSize int64, fn BlockFunc) (*Map, error) {
	if blockSize <= 0 {
		return nil, errors.New("hashmap: block size must be positive")
	}
	m := &Map{BlockSize: blockSize, BlockHash: DefaultBlockHash}
	buf := make([]byte, blockSize)
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			h := BlockHashHex(buf[:n])
			m.Hashes = append(m.Hashes, h)
			m.Bytes += int64(n)
			if fn != nil {
				if ferr := fn(i, h, buf[:n]); ferr != nil {
					return nil, ferr
				}
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(m.Hashes) == 0 {
		m.Hashes = []string{EmptyHash}
	}
	return m, nil
}

// HashBytes is HashReader over a byte slice.
func HashBytes(data []byte, blockSize int64) *Map {
	m, _ := HashReader(bytes.NewReader(data), blockSize, nil)
	return m
}
