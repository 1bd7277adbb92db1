// Package ino derives the stable inode numbers of a mount from identity
// strings (an account and an object's uuid, a control node's path), so a
// node keeps its number across lookups, forgets and remounts. It knows
// strings and numbers, nothing of FUSE or the cloud.
package ino

import (
	"crypto/sha256"
	"encoding/binary"
)

// Of is a stable inode number for the identity parts: 63 bits of their
// SHA-256 (each part NUL-terminated, so ("ab","c") and ("a","bc") differ),
// never 0 or 1 (the root's), and clear of the top bit, which Tagged sets.
func Of(parts ...string) uint64 {
	// The parts, each followed by a zero byte, hashed in one go from a
	// buffer on the stack (a listing computes this for every entry).
	var buf [256]byte
	b := buf[:0]
	for _, p := range parts {
		b = append(append(b, p...), 0)
	}
	sum := sha256.Sum256(b)
	n := binary.BigEndian.Uint64(sum[:8]) &^ (1 << 63)
	if n <= 1 {
		n += 2
	}
	return n
}

// Tagged is Of in the upper half of the number space: nodes of a second
// tree (the cloud control trees) can never take a number of the first.
func Tagged(parts ...string) uint64 { return Of(parts...) | 1<<63 }
