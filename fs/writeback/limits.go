package writeback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrFileTooLarge is returned (wrapped) by File.WriteAt and File.Truncate
// for a size past the file's maximum (Config.MaxFileSize); fs maps it to
// EFBIG. Nothing was changed.
var ErrFileTooLarge = errors.New("file too large for the object store")

// DefaultMaxFileSize is the largest file a mount writes when the server
// states no limit of its own: 2 TiB. On Pithos+ its hashmap is 524288
// hashes, a 34 MiB PUT (Synnefo and localcloud read hashmap bodies of up
// to 64 MiB, about 3.8 TiB); on Swift it is 2048 segments of 1 GiB. Sizes
// past it fail with EFBIG at once (write, truncate), instead of failing at
// the commit or costing memory in proportion to a number a user typed.
const DefaultMaxFileSize int64 = 2 << 40

// maxSize is the largest size f may reach.
func (f *File) maxSize() int64 {
	if f.m.cfg.MaxFileSize > 0 {
		return f.m.cfg.MaxFileSize
	}
	return DefaultMaxFileSize
}

func (f *File) tooLarge(size int64) error {
	f.mu.Lock()
	container, name := f.base.Container, f.base.Name
	f.mu.Unlock()
	return fmt.Errorf("writeback: %s/%s: size %d over the maximum file size %d: %w",
		container, name, size, f.maxSize(), ErrFileTooLarge)
}

// hashList is a record's hashmap. On disk, runs of one hash (the holes of a
// sparse file, all EmptyHash) are written as ["<hash>", <count>], so a
// record costs bytes in proportion to the blocks holding data, not to the
// file's length; single hashes stay plain strings (records of earlier
// versions read as they are). In memory the hashes of a run share one
// string.
type hashList []string

func (l hashList) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; i < len(l); {
		j := i + 1
		for j < len(l) && l[j] == l[i] {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		h, err := json.Marshal(l[i])
		if err != nil {
			return nil, err
		}
		if j-i == 1 {
			b.Write(h)
		} else {
			fmt.Fprintf(&b, "[%s,%d]", h, j-i)
		}
		i = j
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func (l *hashList) UnmarshalJSON(data []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return err
	}
	if items == nil {
		*l = nil
		return nil
	}
	type run struct {
		h string
		n int64
	}
	runs := make([]run, 0, len(items))
	total := int64(0)
	for _, it := range items {
		r := run{n: 1}
		if err := json.Unmarshal(it, &r.h); err != nil {
			var pair []json.RawMessage
			if err := json.Unmarshal(it, &pair); err != nil || len(pair) != 2 {
				return fmt.Errorf("writeback: hashmap entry %s: not a hash or a [hash, count] run", it)
			}
			if err := json.Unmarshal(pair[0], &r.h); err != nil {
				return fmt.Errorf("writeback: hashmap run %s: %w", it, err)
			}
			if err := json.Unmarshal(pair[1], &r.n); err != nil || r.n < 1 {
				return fmt.Errorf("writeback: hashmap run %s: bad count", it)
			}
		}
		if total += r.n; total > maxRecordBlocks {
			return fmt.Errorf("writeback: hashmap of more than %d blocks", maxRecordBlocks)
		}
		runs = append(runs, r)
	}
	out := make(hashList, 0, total)
	for _, r := range runs {
		for range r.n {
			out = append(out, r.h)
		}
	}
	*l = out
	return nil
}

// maxRecordBlocks bounds the blocks a record may describe (16 TiB in 4 MiB
// blocks, 8 times DefaultMaxFileSize), so that a corrupt record cannot make
// Recover allocate without bound.
const maxRecordBlocks = 1 << 22
