package writeback_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// BenchmarkWrite measures a new 64 MiB file written in 1 MiB writes (the
// FUSE MaxWrite) and committed, against the local cloud with 4 MiB blocks and
// a 32 MiB budget (so half the blocks spill), and, for comparison in the same
// run, pithos.UploadObject of the same bytes.
func BenchmarkWrite(b *testing.B) {
	const size, blk = 64 << 20, 4 << 20
	srv, err := localcloud.Start(localcloud.Config{Dir: b.TempDir(), BlockSize: blk})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	u := srv.Cloud.Users()[0]
	c, err := pithos.New(srv.ObjectStoreURL(), u.Token, synnefo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c = c.WithAccount(u.UUID)
	ctx := context.Background()
	if _, err := c.CreateContainer(ctx, "c", pithos.CreateContainerOptions{}); err != nil {
		b.Fatal(err)
	}
	data := randomBytes(b, size)
	b.Run("writeback", func(b *testing.B) {
		m, err := writeback.New(writeback.Config{Client: c, JournalDir: b.TempDir(), Budget: cache.NewBudget(32 << 20)})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			newContent(data, blk, i) // no block already on the server
			f, err := m.Open(writeback.Base{Container: "c", Name: fmt.Sprint("w", i), BlockSize: blk}, nil)
			if err != nil {
				b.Fatal(err)
			}
			for off := 0; off < size; off += 1 << 20 {
				if _, err := f.WriteAt(ctx, data[off:off+1<<20], int64(off)); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Commit(ctx); err != nil {
				b.Fatal(err)
			}
			f.Release()
		}
		b.ReportMetric(float64(m.Stats().Spilled)/float64(b.N), "spilled/op")
	})
	b.Run("raw-upload", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			newContent(data, blk, i+1000)
			if _, err := c.UploadObject(ctx, "c", fmt.Sprint("r", i), bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// newContent makes every block of data new to the server.
func newContent(data []byte, blk, round int) {
	for k := 0; k < len(data); k += blk {
		copy(data[k:], fmt.Sprint(round, "/"))
	}
}
