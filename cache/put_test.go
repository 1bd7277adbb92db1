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

// TestAdoptMemory: a block adopted into memory only is served from memory,
// and is not in the disk tier after a reopen (it is fetched again).
func TestAdoptMemory(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, Config{Dir: dir})
	data := block(9, 4096)
	key := hashKey(data)
	if err := c.AdoptMemory(key, bytes.Clone(data)); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(context.Background(), key, len(data), failFetch(t))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after AdoptMemory: %v", err)
	}
	_ = c.Close()
	c2 := openCache(t, Config{Dir: dir})
	fetched := false
	got, err = c2.Get(context.Background(), key, len(data), func(context.Context) ([]byte, error) {
		fetched = true
		return bytes.Clone(data), nil
	})
	if err != nil || !bytes.Equal(got, data) || !fetched {
		t.Fatalf("Get after reopen: fetched %v, %v; want the block fetched again (not in the disk tier)", fetched, err)
	}
}
