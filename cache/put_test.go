package cache

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// TestAdopt: an adopted block is served from memory and, after a reopen,
// from the disk tier, with its trailing zeros stripped as Put strips them;
// a closed cache refuses it.
func TestAdopt(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, Config{Dir: dir})
	data := append(block(7, 700), make([]byte, 300)...)
	key := hashKey(data)
	if err := c.Adopt(key, bytes.Clone(data)); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(context.Background(), key, len(data), failFetch(t))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after Adopt: %v", err)
	}
	_ = c.Close()
	if err := c.Adopt(key, bytes.Clone(data)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Adopt on a closed cache = %v, want ErrClosed", err)
	}
	c2 := openCache(t, Config{Dir: dir})
	if got, err := c2.Get(context.Background(), key, len(data), failFetch(t)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after reopen: %v", err)
	}
}
