package pithos

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"

	"github.com/pithosfs/pithosfs/synnefo"
)

// hashmapRequest returns a request whose body is hm as a hashmap PUT sends
// it: streamed (hashmapBody, replayable) when the hashes are hex, else
// encoded whole.
func hashmapRequest(hm *Hashmap) (*synnefo.Request, error) {
	hashes := hm.Hashes
	if hashes == nil {
		hashes = []string{}
	}
	if first, n, ok := newHashmapBody(hm.Bytes, hashes); ok {
		return &synnefo.Request{Body: first, ContentLength: n, GetBody: func() (io.ReadCloser, error) {
			b, _, _ := newHashmapBody(hm.Bytes, hashes)
			return b, nil
		}}, nil
	}
	body, err := json.Marshal(struct {
		Bytes  int64    `json:"bytes"`
		Hashes []string `json:"hashes"`
	}{hm.Bytes, hashes})
	if err != nil {
		return nil, err
	}
	return &synnefo.Request{Body: bytes.NewReader(body), ContentLength: int64(len(body))}, nil
}

// hashmapBody is the JSON body of a hashmap PUT, {"bytes":N,"hashes":[…]},
// produced as it is read: a large sparse file's hashmap (a million hashes,
// 67 bytes each) is never held in memory a second time as one buffer.
// Hashes must be plain letters and digits (hex); newHashmapBody reports ok
// false otherwise.
type hashmapBody struct {
	head   []byte
	bytes  int64
	hashes []string
	i      int    // next hash
	pend   []byte // bytes produced but not yet read
	buf    []byte
	done   bool
}

func newHashmapBody(bytes int64, hashes []string) (*hashmapBody, int64, bool) {
	head := []byte(`{"bytes":` + strconv.FormatInt(bytes, 10) + `,"hashes":[`)
	n := int64(len(head)) + 2 // "]}"
	for i, h := range hashes {
		if !isPlain(h) {
			return nil, 0, false
		}
		n += int64(len(h)) + 2
		if i > 0 {
			n++
		}
	}
	return &hashmapBody{head: head, bytes: bytes, hashes: hashes, pend: head}, n, true
}

func (b *hashmapBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(b.pend) == 0 {
			if !b.next() {
				break
			}
		}
		c := copy(p[n:], b.pend)
		b.pend = b.pend[c:]
		n += c
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// next produces the next piece of the body into pend; false at the end.
func (b *hashmapBody) next() bool {
	switch {
	case b.done:
		return false
	case b.i == len(b.hashes):
		b.pend, b.done = []byte("]}"), true
		return true
	}
	b.buf = b.buf[:0]
	for ; b.i < len(b.hashes) && len(b.buf) < 32<<10; b.i++ {
		if b.i > 0 {
			b.buf = append(b.buf, ',')
		}
		b.buf = append(b.buf, '"')
		b.buf = append(b.buf, b.hashes[b.i]...)
		b.buf = append(b.buf, '"')
	}
	b.pend = b.buf
	return true
}

func (b *hashmapBody) Close() error { return nil }

// HashmapBytes and HashmapHashes give the hashmap being sent, so that a
// transport that looks at it (package metrics) need not parse the body.
func (b *hashmapBody) HashmapBytes() int64 { return b.bytes }

// HashmapHashes: see HashmapBytes. The caller must not modify the slice.
func (b *hashmapBody) HashmapHashes() []string { return b.hashes }

// isPlain reports whether s is non-empty letters and digits only: JSON
// writes it as it is, between quotes.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// hashmapReply decodes a GET ?hashmap reply. Its hashes are parsed in place
// from the reply's bytes, and a hash equal to the one before it shares its
// string: a sparse file's holes (one hash repeated 262144 times for a
// terabyte) cost one string, not one each.
type hashmapReply struct {
	BlockSize int64      `json:"block_size"`
	BlockHash string     `json:"block_hash"`
	Bytes     int64      `json:"bytes"`
	Hashes    hashesJSON `json:"hashes"`
}

type hashesJSON []string

func (h *hashesJSON) UnmarshalJSON(data []byte) error {
	out, ok := parsePlainHashes(data)
	if !ok {
		var plain []string
		if err := json.Unmarshal(data, &plain); err != nil {
			return err
		}
		out = plain
	}
	*h = out
	return nil
}

// parsePlainHashes parses a JSON array of strings without escapes
// (hashes), sharing the string of equal neighbours; ok is false for
// anything else (the caller then uses encoding/json).
func parsePlainHashes(data []byte) ([]string, bool) {
	i := 0
	skip := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
	}
	skip()
	if i >= len(data) || data[i] != '[' {
		return nil, false
	}
	i++
	// The number of hashes is about len/67: allocate once.
	out := make([]string, 0, len(data)/67+1)
	var prev []byte
	skip()
	if i < len(data) && data[i] == ']' {
		return out, true
	}
	for {
		skip()
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		i++
		start := i
		for i < len(data) && data[i] != '"' {
			if data[i] == '\\' || data[i] < 0x20 {
				return nil, false
			}
			i++
		}
		if i >= len(data) {
			return nil, false
		}
		b := data[start:i]
		i++
		if len(out) > 0 && bytes.Equal(b, prev) {
			out = append(out, out[len(out)-1])
		} else {
			out = append(out, string(b))
		}
		prev = b
		skip()
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i++
		case ']':
			i++
			skip()
			return out, i == len(data)
		default:
			return nil, false
		}
	}
}
