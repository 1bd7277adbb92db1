package cache_test

import (
	"context"
	"fmt"
	"os"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// A file handle's read path: map the read to blocks, tell the readahead
// state, prefetch what it hands out, and Get the block being read.
func Example() {
	dir, _ := os.MkdirTemp("", "cache-example")
	defer os.RemoveAll(dir)
	c, err := cache.Open(cache.Config{Dir: dir, MemBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	// The object: three 4-byte blocks, the last one short.
	const blockSize = 4
	object := []byte("abcdefghij")
	hm := hashmap.HashBytes(object, blockSize)
	blockLen := func(i int64) int { return int(min(blockSize, int64(len(object))-i*blockSize)) }
	fetch := func(i int64) cache.FetchFunc {
		return func(ctx context.Context) ([]byte, error) { // a range GET in real life
			return object[i*blockSize : i*blockSize+int64(blockLen(i))], nil
		}
	}

	ra := cache.NewReadahead(8)
	pf := c.NewPrefetcher(context.Background())
	defer pf.Close() // on release of the file handle
	n := int64(len(hm.Hashes))
	for i := range n { // reads arriving in order
		from, to := ra.Access(i, n)
		for j := from; j < to; j++ {
			pf.Prefetch(cache.HashKey(hm.Hashes[j]), blockLen(j), fetch(j))
		}
		b, err := c.Get(context.Background(), cache.HashKey(hm.Hashes[i]), blockLen(i), fetch(i))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s", b)
	}
	fmt.Println()
	// Output: abcdefghij
}
