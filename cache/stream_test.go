package cache

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

func TestStreamHash(t *testing.T) {
	mid := append(append(bytes.Repeat([]byte{7}, 1000), make([]byte, 3000)...), bytes.Repeat([]byte{9}, 500)...)
	tail := append(bytes.Repeat([]byte{7}, 1000), make([]byte, 3000)...)
	for _, tc := range []struct {
		name   string
		data   []byte
		chunks []int
	}{
		{"one read", mid, []int{len(mid)}},
		{"zeros in the middle, split inside them", mid, []int{1200, 2500, len(mid)}},
		{"trailing zeros", tail, []int{999, 1000, 1001, 2000, len(tail)}},
		{"all zeros", make([]byte, 5000), []int{100, 5000}},
		{"byte by byte", []byte{0, 1, 0, 0, 2, 0}, []int{1, 2, 3, 4, 5, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, len(tc.data)+10)
			s := newStreamHash(buf)
			for _, n := range tc.chunks {
				copy(buf[:n], tc.data[:n])
				s.progress(n)
			}
			if got, want := s.sum(buf[:len(tc.data)]), hashmap.BlockHashHex(tc.data); got != want {
				t.Errorf("sum = %q, want %q", got, want)
			}
			if s.sum(buf[:len(tc.data)-1]) != "" || s.sum(bytes.Clone(buf[:len(tc.data)])) != "" {
				t.Error("sum of bytes the stream did not see exactly")
			}
		})
	}
}

func TestGetRefVerifiesWhileStreaming(t *testing.T) {
	c := openCache(t, Config{MemBytes: 64 << 20})
	data := block(77, 4<<20)
	streamed := func(corrupt bool) FetchIntoFunc {
		return func(ctx context.Context, buf []byte) ([]byte, error) {
			progress := FetchProgress(ctx)
			if progress == nil {
				t.Fatal("no progress function for a hash key")
			}
			for n := 0; n < len(data); {
				m := min(100<<10, len(data)-n)
				copy(buf[n:n+m], data[n:n+m])
				if corrupt && n == 0 {
					buf[5] ^= 1
				}
				n += m
				progress(n)
			}
			return buf[:len(data)], nil
		}
	}
	_, err := c.GetRef(context.Background(), hashKey(data), len(data), streamed(true))
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("corrupt stream: %v, want a VerifyError", err)
	}
	ref, err := c.GetRef(context.Background(), hashKey(data), len(data), streamed(false))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ref.Bytes(), bytes.TrimRight(data, "\x00")) {
		t.Error("wrong bytes")
	}
	ref.Release()
	if s := c.Stats(); s.StreamVerified != 2 {
		t.Errorf("stream_verified = %d, want 2", s.StreamVerified)
	}
}
