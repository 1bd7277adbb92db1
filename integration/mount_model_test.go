package integration

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// modelFS is one side of the model test: a directory (the mount, or a local one) and the handles kept
// open on it.
type modelFS struct {
	root    string
	handles map[string]*os.File
}

func (s *modelFS) closeAll(t *testing.T) {
	t.Helper()
	names := make([]string, 0, len(s.handles))
	for n := range s.handles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := s.handles[n].Close(); err != nil {
			t.Fatalf("%s: close %s: %v", s.root, n, err)
		}
		delete(s.handles, n)
	}
}

func (s *modelFS) closeOne(t *testing.T, name string) {
	t.Helper()
	if f := s.handles[name]; f != nil {
		if err := f.Close(); err != nil {
			t.Fatalf("%s: close %s: %v", s.root, name, err)
		}
		delete(s.handles, name)
	}
}

// handle returns an open read-write handle on name (which exists).
func (s *modelFS) handle(t *testing.T, name string) *os.File {
	t.Helper()
	if f := s.handles[name]; f != nil {
		return f
	}
	f, err := os.OpenFile(filepath.Join(s.root, name), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("%s: open %s: %v", s.root, name, err)
	}
	s.handles[name] = f
	return f
}

// snapshot returns every regular file below root with its content.
func (s *modelFS) snapshot(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(s.root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(s.root, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if int64(len(data)) != fi.Size() {
				return fmt.Errorf("%s: stat size %d, read %d bytes", rel, fi.Size(), len(data))
			}
			out[rel] = data
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", s.root, err)
	}
	return out
}

// TestMountModel applies a fixed-seed random sequence of create / write (at any offset, through
// handles kept open) / truncate / rename / unlink / fsync / close / remount to the mount and to a local
// directory, and compares every file's size and bytes after each step.
func TestMountModel(t *testing.T) {
	const steps = 300
	srv := startServe(t)
	srv.put(t, alice, "model", nil, nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token, CacheDir: filepath.Join(t.TempDir(), "cache")}
	m := startMount(t, args)
	mnt := &modelFS{root: filepath.Join(m.Dir, alice.Name, "model"), handles: map[string]*os.File{}}
	loc := &modelFS{root: t.TempDir(), handles: map[string]*os.File{}}
	t.Cleanup(func() { // before the unmount (cleanups run last-in first-out)
		for _, f := range mnt.handles {
			_ = f.Close()
		}
	})
	for _, s := range []*modelFS{mnt, loc} {
		if err := os.Mkdir(filepath.Join(s.root, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"a", "b", "c", "d/x", "d/y", "d/z"}
	rng := rand.New(rand.NewSource(20261125))
	const maxSize = 9 << 20 // beyond two 4 MiB blocks
	var exists = map[string]bool{}
	existing := func() []string {
		var out []string
		for _, n := range names {
			if exists[n] {
				out = append(out, n)
			}
		}
		return out
	}
	var log []string
	for step := range steps {
		op := rng.Intn(100)
		ex := existing()
		var desc string
		switch {
		case op < 15 || len(ex) == 0: // create (or truncate to 0 if it exists)
			n := names[rng.Intn(len(names))]
			desc = "create " + n
			for _, s := range []*modelFS{mnt, loc} {
				s.closeOne(t, n)
				f, err := os.Create(filepath.Join(s.root, n))
				if err != nil {
					t.Fatalf("step %d %s on %s: %v", step, desc, s.root, err)
				}
				s.handles[n] = f
			}
			exists[n] = true
		case op < 55: // write through a handle, at any offset (sparse past the end)
			n := ex[rng.Intn(len(ex))]
			off := int64(rng.Intn(maxSize))
			if rng.Intn(3) == 0 {
				off = int64(rng.Intn(64 << 10))
			}
			data := make([]byte, 1+rng.Intn(256<<10))
			rng.Read(data)
			desc = fmt.Sprintf("write %s %d+%d", n, off, len(data))
			for _, s := range []*modelFS{mnt, loc} {
				if _, err := s.handle(t, n).WriteAt(data, off); err != nil {
					t.Fatalf("step %d %s on %s: %v", step, desc, s.root, err)
				}
			}
		case op < 65: // truncate (through the handle or by path)
			n := ex[rng.Intn(len(ex))]
			size := int64(rng.Intn(maxSize))
			byPath := rng.Intn(2) == 0
			desc = fmt.Sprintf("truncate %s %d (path %v)", n, size, byPath)
			for _, s := range []*modelFS{mnt, loc} {
				var err error
				if byPath {
					s.closeOne(t, n)
					err = os.Truncate(filepath.Join(s.root, n), size)
				} else {
					err = s.handle(t, n).Truncate(size)
				}
				if err != nil {
					t.Fatalf("step %d %s on %s: %v", step, desc, s.root, err)
				}
			}
		case op < 73: // rename, possibly over an existing file
			from := ex[rng.Intn(len(ex))]
			to := names[rng.Intn(len(names))]
			if from == to {
				continue
			}
			desc = "rename " + from + " " + to
			for _, s := range []*modelFS{mnt, loc} {
				s.closeOne(t, from)
				s.closeOne(t, to)
				if err := os.Rename(filepath.Join(s.root, from), filepath.Join(s.root, to)); err != nil {
					t.Fatalf("step %d %s on %s: %v\nlast steps:\n  %s", step, desc, s.root, err, strings.Join(log[max(0, len(log)-12):], "\n  "))
				}
			}
			exists[from], exists[to] = false, true
		case op < 80: // unlink
			n := ex[rng.Intn(len(ex))]
			desc = "unlink " + n
			for _, s := range []*modelFS{mnt, loc} {
				s.closeOne(t, n)
				if err := os.Remove(filepath.Join(s.root, n)); err != nil {
					t.Fatalf("step %d %s on %s: %v", step, desc, s.root, err)
				}
			}
			exists[n] = false
		case op < 88: // fsync
			n := ex[rng.Intn(len(ex))]
			desc = "fsync " + n
			for _, s := range []*modelFS{mnt, loc} {
				if err := s.handle(t, n).Sync(); err != nil {
					t.Fatalf("step %d %s on %s: %v", step, desc, s.root, err)
				}
			}
		case op < 96: // close
			n := ex[rng.Intn(len(ex))]
			desc = "close " + n
			for _, s := range []*modelFS{mnt, loc} {
				s.closeOne(t, n)
			}
		default: // remount
			desc = "remount"
			mnt.closeAll(t)
			loc.closeAll(t)
			m.unmount(t)
			m = startMountAt(t, m.Dir, args)
		}
		log = append(log, desc)
		got, want := mnt.snapshot(t), loc.snapshot(t)
		if err := compareSnapshots(got, want); err != nil {
			tail := log[max(0, len(log)-12):]
			t.Fatalf("step %d (%s): %v\nlast steps:\n  %s", step, desc, err, strings.Join(tail, "\n  "))
		}
	}
	mnt.closeAll(t)
	loc.closeAll(t)
	// Finally the server itself holds the model's files.
	want := loc.snapshot(t)
	for n, data := range want {
		if got := srv.get(t, alice, "model/"+n); !bytes.Equal(got, data) {
			t.Errorf("server's model/%s: %d bytes, want %d", n, len(got), len(data))
		}
	}
	t.Logf("%d steps, %d files at the end", steps, len(want))
}

func compareSnapshots(got, want map[string][]byte) error {
	for n, w := range want {
		g, ok := got[n]
		switch {
		case !ok:
			return fmt.Errorf("%s missing from the mount", n)
		case len(g) != len(w):
			return fmt.Errorf("%s: %d bytes on the mount, %d locally", n, len(g), len(w))
		case !bytes.Equal(g, w):
			i := 0
			for i < len(g) && g[i] == w[i] {
				i++
			}
			return fmt.Errorf("%s: content differs from byte %d", n, i)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			return fmt.Errorf("%s on the mount only", n)
		}
	}
	return nil
}
