package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"unsafe"
)

// streamHash verifies a fetched block while its bytes stream in, rather
// than in a second pass over the 4 MiB once the fetch is done: the fetch
// reports how much of the buffer it has filled (FetchProgress), and the
// new bytes are hashed while they are still in the CPU's cache. A Pithos+
// block hash covers the block without its trailing zeros, so a run of
// zeros is held back until a non-zero byte follows it.
type streamHash struct {
	buf []byte
	h   hash.Hash
	fed int // buf[:fed] is hashed
	got int // buf[:got] has arrived
}

type progressKey struct{}

// FetchProgress returns the function a FetchIntoFunc calls with the number
// of bytes of its buffer filled so far, after each read from the network
// (nil when the cache does not want to know).
func FetchProgress(ctx context.Context) func(n int) {
	f, _ := ctx.Value(progressKey{}).(func(int))
	return f
}

func newStreamHash(buf []byte) *streamHash { return &streamHash{buf: buf, h: sha256.New()} }

func (s *streamHash) progress(n int) {
	if n <= s.got || n > len(s.buf) {
		return
	}
	s.got = n
	if k := len(bytes.TrimRight(s.buf[s.fed:n], "\x00")); k > 0 {
		s.h.Write(s.buf[s.fed : s.fed+k])
		s.fed += k
	}
}

// sum returns the hex hash of data if data is exactly the bytes the stream
// saw arrive (the start of buf, as long as got), else "".
func (s *streamHash) sum(data []byte) string {
	if s == nil || len(data) != s.got || s.got == 0 || unsafe.SliceData(data) != unsafe.SliceData(s.buf) {
		return ""
	}
	return hex.EncodeToString(s.h.Sum(nil))
}
