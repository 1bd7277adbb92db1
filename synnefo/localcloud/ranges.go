package localcloud

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// byteRange is a satisfiable range: offset and length.
type byteRange struct{ off, n int64 }

// parseRange reads a Range header as Pithos does (§8.2): a malformed header
// is ignored (nil, nil); a well-formed one with any range outside the object
// (no clamping) is a 416 fault.
func parseRange(v string, size int64) ([]byteRange, *fault) {
	v = strings.ReplaceAll(v, " ", "")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok || spec == "" {
		return nil, nil
	}
	var out []byteRange
	for _, part := range strings.Split(spec, ",") {
		a, b, ok := strings.Cut(part, "-")
		if !ok || a == "" && b == "" {
			return nil, nil
		}
		var r byteRange
		switch {
		case a == "":
			n, err := strconv.ParseInt(b, 10, 64)
			if err != nil {
				return nil, nil
			}
			r = byteRange{size - n, n}
		case b == "":
			x, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				return nil, nil
			}
			r = byteRange{x, size - x}
		default:
			x, err1 := strconv.ParseInt(a, 10, 64)
			y, err2 := strconv.ParseInt(b, 10, 64)
			if err1 != nil || err2 != nil || x > y {
				return nil, nil
			}
			r = byteRange{x, y - x + 1}
		}
		out = append(out, r)
	}
	for _, r := range out {
		if r.n <= 0 || r.n > size || r.off < 0 || r.off >= size || r.off+r.n > size {
			return nil, errf(416, "Requested range exceeds object limits")
		}
	}
	return out, nil
}

// part is a run of blocks: an object's hashmap, or one part of a manifest.
type part struct {
	hashes []string
	size   int64
}

// content is what an object GET streams: its parts in order.
type content struct {
	parts []part
	bs    int64
}

func (ct content) size() (n int64) {
	for _, p := range ct.parts {
		n += p.size
	}
	return n
}

// writeRange streams bytes [off, off+n) of the content to w, block by block.
func (ct content) writeRange(w io.Writer, bs *blockStore, off, n int64) error {
	for _, p := range ct.parts {
		if n <= 0 {
			return nil
		}
		if off >= p.size {
			off -= p.size
			continue
		}
		for off < p.size && n > 0 {
			i := off / ct.bs
			o := off % ct.bs
			k := min(ct.bs-o, n, p.size-off)
			if err := bs.copyRange(w, p.hashes[i], o, k); err != nil {
				return fmt.Errorf("block %s: %w", p.hashes[i], err)
			}
			off += k
			n -= k
		}
		off = 0
	}
	return nil
}

// contentReader reads a byte range of content sequentially.
type contentReader struct {
	ct     content
	bs     *blockStore
	off, n int64
	buf    []byte
}

func (r *contentReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.n <= 0 {
			return 0, io.EOF
		}
		k := min(r.n, r.ct.bs-r.off%r.ct.bs)
		var sb strings.Builder
		if err := r.ct.writeRange(&sb, r.bs, r.off, k); err != nil {
			return 0, err
		}
		r.buf = []byte(sb.String())
		r.off += k
		r.n -= k
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
