package cache

import (
	"context"
	"testing"
)

const benchBlock = 4 << 20

func benchCache(b *testing.B, cfg Config) (*Cache, Key, []byte) {
	c, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	data := block(1, benchBlock)
	key := hashKey(data)
	if _, err := c.Get(context.Background(), key, benchBlock, func(context.Context) ([]byte, error) { return data, nil }); err != nil {
		b.Fatal(err)
	}
	return c, key, data
}

func noFetch(context.Context) ([]byte, error) { panic("fetch on a hit") }

// BenchmarkGetMemHit: a full 4 MiB block served from memory (no copy).
func BenchmarkGetMemHit(b *testing.B) {
	c, key, _ := benchCache(b, Config{})
	b.SetBytes(benchBlock)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Get(context.Background(), key, benchBlock, noFetch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMemHitParallel: the same hit from every P.
func BenchmarkGetMemHitParallel(b *testing.B) {
	c, key, _ := benchCache(b, Config{})
	b.SetBytes(benchBlock)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(context.Background(), key, benchBlock, noFetch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetMemHitExtend: a short last block zero-extended (one copy).
func BenchmarkGetMemHitExtend(b *testing.B) {
	c, key, _ := benchCache(b, Config{})
	b.SetBytes(benchBlock + 4096)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Get(context.Background(), key, benchBlock+4096, noFetch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetDiskHit: a 4 MiB block read from the disk tier and verified
// (memory too small to keep it).
func BenchmarkGetDiskHit(b *testing.B) {
	c, key, _ := benchCache(b, Config{Dir: b.TempDir(), MemBytes: 1 << 20})
	c.settle()
	b.SetBytes(benchBlock)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Get(context.Background(), key, benchBlock, noFetch); err != nil {
			b.Fatal(err)
		}
	}
	if st := c.Stats(); st.DiskHits == 0 || st.MemHits != 0 {
		b.Fatalf("not a disk hit: %+v", st)
	}
}
