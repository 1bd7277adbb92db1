package localcloud

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// blockStore keeps blocks as files named by their hex hash, stored with
// trailing zero bytes stripped (a block is logically zero-padded to the block
// size). Blocks are immutable, so readers need no locks; a new block becomes
// visible by an atomic rename only once its bytes are synced.
type blockStore struct {
	dir string
	tmp string
	gc  *gcState // tells a running GC which blocks requests rely on (gc.go)
}

func openBlockStore(dir string) (*blockStore, error) {
	b := &blockStore{dir: filepath.Join(dir, "blocks"), tmp: filepath.Join(dir, "tmp"), gc: newGCState()}
	for _, d := range []string{b.dir, b.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("localcloud: %w", err)
		}
	}
	// Temporary files left by a crash are garbage.
	if ents, err := os.ReadDir(b.tmp); err == nil {
		for _, e := range ents {
			os.Remove(filepath.Join(b.tmp, e.Name()))
		}
	}
	return b, nil
}

// path is where a block lives. hash must already be validated as hex.
func (b *blockStore) path(hash string) string {
	return filepath.Join(b.dir, hash[:2], hash)
}

func (b *blockStore) has(hash string) bool {
	if !hashmap.IsHexHash(hash) {
		return false
	}
	b.gc.touch(hash)
	_, err := os.Stat(b.path(hash))
	return err == nil
}

// put stores one block (at most a block size of data) and returns its hash.
func (b *blockStore) put(data []byte) (string, error) {
	data = bytes.TrimRight(data, "\x00")
	hash := hashmap.BlockHashHex(data)
	b.gc.touch(hash) // before looking: a GC then keeps it
	p := b.path(hash)
	if _, err := os.Stat(p); err == nil {
		return hash, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("store block: %w", err)
	}
	f, err := os.CreateTemp(b.tmp, "blk-*")
	if err != nil {
		return "", fmt.Errorf("store block: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("store block: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("store block: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("store block: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return "", fmt.Errorf("store block: %w", err)
	}
	return hash, nil
}

// read returns the stripped content of a block.
func (b *blockStore) read(hash string) ([]byte, error) {
	data, err := os.ReadFile(b.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errBlockMissing
	}
	return data, err
}

var errBlockMissing = errors.New("block does not exist")

// copyRange writes bytes [off, off+n) of the logical (zero-padded) block to w.
func (b *blockStore) copyRange(w io.Writer, hash string, off, n int64) error {
	f, err := os.Open(b.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return errBlockMissing
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	stored := st.Size()
	if off < stored {
		m := min(n, stored-off)
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return err
		}
		// An *io.LimitedReader over an *os.File lets net/http use sendfile.
		if _, err := io.Copy(w, io.LimitReader(f, m)); err != nil {
			return err
		}
		off += m
		n -= m
	}
	return writeZeros(w, n)
}

var zeroBuf = make([]byte, 64<<10)

func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeroBuf)))
		if _, err := w.Write(zeroBuf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
