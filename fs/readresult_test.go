package fs

import (
	"bytes"
	"testing"
)

func TestBlockResultBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts []string
		buf   int
	}{
		{"empty", nil, 0},
		{"one part is returned itself", []string{"abc"}, 0},
		{"two parts into buf", []string{"ab", "cde"}, 8},
		{"two parts, buf too small", []string{"ab", "cde"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &blockResult{}
			var want []byte
			for _, p := range tc.parts {
				r.add(nil, []byte(p))
				want = append(want, p...)
			}
			got, st := r.Bytes(make([]byte, 0, tc.buf))
			if !st.Ok() || !bytes.Equal(got, want) || r.Size() != len(want) {
				t.Fatalf("Bytes = %q %v, Size %d; want %q", got, st, r.Size(), want)
			}
			slices, _ := r.Slices()
			if !bytes.Equal(bytes.Join(slices, nil), want) {
				t.Fatalf("Slices = %q, want %q", slices, want)
			}
			r.Done()
		})
	}
}
