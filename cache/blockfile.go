package cache

// A block file's format: a hash key's file holds the block stripped of
// trailing zeros (its name is its hash); an opaque key's file holds the
// same followed by a CRC-32C trailer over the key and the data, which is
// how its corruption is detected. Reading one back verifies it.
//
// The trailer only guards the cache's own files against a torn write or a
// bad disk, as btrfs checks its blocks (CRC-32C, in hardware): nothing is
// addressed by it. It was a SHA-256 until session 14, which cost 0.9 CPU
// s/GiB in the disk tier's writer, half the daemon's CPU for a cold read
// from plain Swift, on a machine whose Swift server is itself CPU-bound.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// encode returns the bytes stored on disk for a block.
func encode(k Key, data []byte) [][]byte {
	if k.hash {
		return [][]byte{data}
	}
	t := opaqueTrailer(k, data)
	return [][]byte{data, t[:]}
}

// opaqueTrailer is the checksum an opaque key's block file ends with: the
// CRC-32C of the key's length, the key and the data, big-endian.
func opaqueTrailer(k Key, data []byte) [trailerLen]byte {
	castagnoli := crc32.MakeTable(crc32.Castagnoli) // made once by the package: SSE 4.2's crc32 on amd64
	var n [binary.MaxVarintLen64]byte
	sum := crc32.Update(0, castagnoli, n[:binary.PutUvarint(n[:], uint64(len(k.id)))])
	sum = crc32.Update(sum, castagnoli, []byte(k.id))
	sum = crc32.Update(sum, castagnoli, data)
	var out [trailerLen]byte
	binary.BigEndian.PutUint32(out[:], sum)
	return out
}

// decode checks a file's content against the key and returns the block.
func decode(k Key, raw []byte) ([]byte, error) {
	if k.hash {
		return raw, verify(k, raw, "disk")
	}
	if len(raw) < trailerLen {
		return nil, errors.New("cache: opaque block file too short")
	}
	data := raw[:len(raw)-trailerLen]
	want := opaqueTrailer(k, data)
	if !bytes.Equal(raw[len(raw)-trailerLen:], want[:]) {
		return nil, fmt.Errorf("cache: opaque block %q fails its checksum", k.id)
	}
	return data, nil
}

// corruptError is a block file whose content does not match its key.
type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

// readBlockFile reads and verifies the block file at path: into a buffer of
// pool when its data fits one (the opaque trailer read apart), else whole.
func readBlockFile(k Key, path string, pool *bufPool) (*blockBuf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := st.Size()
	if !k.hash {
		n -= trailerLen
	}
	if n < 0 || n > poolBlockSize {
		raw, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		data, err := decode(k, raw)
		if err != nil {
			return nil, &corruptError{err}
		}
		return plainBlock(data), nil
	}
	buf, _ := pool.get(poolBlockSize)
	data := buf[:n]
	var trailer [trailerLen]byte
	_, err = io.ReadFull(f, data)
	if err == nil && !k.hash {
		_, err = io.ReadFull(f, trailer[:])
	}
	if err == nil {
		if k.hash {
			err = verify(k, data, "disk")
		} else if want := opaqueTrailer(k, data); trailer != want {
			err = fmt.Errorf("cache: opaque block %q fails its checksum", k.id)
		}
		if err != nil {
			err = &corruptError{err}
		}
	}
	if err != nil {
		pool.put(buf)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, &corruptError{err} // shorter than it was a moment ago
		}
		return nil, err
	}
	return newBlock(data, buf, pool), nil
}
