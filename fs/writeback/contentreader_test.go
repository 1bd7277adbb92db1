package writeback

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// A streamed (Swift) upload reads the content in small pieces: each block
// must come from its source once, not once per piece.
func TestContentReaderReadsEachBlockOnce(t *testing.T) {
	const bs, size = 64 << 10, 300 << 10
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i * 7)
	}
	calls := map[int64]int{}
	r := &contentReader{ctx: context.Background(), bs: bs, size: size, src: func(_ context.Context, i int64) ([]byte, error) {
		calls[i]++
		return want[i*bs : min((i+1)*bs, size)], nil
	}}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, err %v; equal %v", len(got), err, bytes.Equal(got, want))
	}
	for i, n := range calls {
		if n != 1 {
			t.Errorf("block %d read %d times from its source", i, n)
		}
	}
	if len(calls) != 5 {
		t.Errorf("%d blocks read, want 5", len(calls))
	}
}
