package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cliTarget is a server the unchanged `swift` command-line client (python3-swiftclient) is pointed at.
type cliTarget struct {
	Conn []string // connection options: -A/-U/-K (v1.0 auth) or --os-auth-token/--os-storage-url
	// Upload and Download are extra options for `swift upload` and `swift download` (see
	// TestSwiftCLIAgainstLocalCloud for why Pithos needs some).
	Upload, Download []string
}

// swiftCLI runs `swift <conn> args…` in dir.
func (tg cliTarget) swiftCLI(t testing.TB, dir string, args ...string) clientResult {
	t.Helper()
	return runClient(t, dir, "swift", append(slices.Clone(tg.Conn), args...)...)
}

// mustSwiftCLI is swiftCLI that fails the test when the command fails.
func (tg cliTarget) mustSwiftCLI(t testing.TB, dir string, args ...string) string {
	t.Helper()
	r := tg.swiftCLI(t, dir, args...)
	if r.Err != nil {
		t.Fatalf("swift %s: %s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// statFields parses the `Key: value` lines `swift stat` prints.
func statFields(out string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

func lines(s string) []string { return strings.Fields(s) }

// runSwiftCLIScenario drives the `swift` CLI through upload, list, stat, post, download, a segmented
// (DLO) upload and delete, and checks every answer. Each step is a subtest, so a report names the
// features that fail; steps that depend on an earlier one stop when it failed.
func runSwiftCLIScenario(t *testing.T, tg cliTarget) {
	work := t.TempDir()
	files := map[string][]byte{
		"data/small.txt": []byte("hello swift\n"),
		"data/big.bin":   randomBytes(9<<20 + 123), // several 4 MiB Pithos blocks
		"data/sub/x.txt": []byte("x"),
		// Listings with a delimiter end with an object, not a subdir: Pithos repeats a subdir given as marker
		// (pithos-api.md, delimiter algorithm [Q]), and the CLI, paging until an empty page, would never stop.
		"data/zz.txt": []byte("zz"),
		"top.txt":     []byte("top"),
	}
	for i := range 22 { // more than 2×10 objects: `swift delete` of the container then asks /info about bulk delete
		files[fmt.Sprintf("data/many/f%02d", i)] = []byte(strconv.Itoa(i))
	}
	var names []string
	var total int64
	for name, data := range files {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		total += int64(len(data))
	}
	slices.Sort(names)
	cont := randomName("cli-")
	uploaded := false

	t.Run("upload", func(t *testing.T) {
		tg.mustSwiftCLI(t, work, append(append([]string{"upload"}, tg.Upload...), cont, "data", "top.txt")...)
		uploaded = true
	})
	if !uploaded {
		t.Fatal("upload failed; the other steps need its objects")
	}

	t.Run("list", func(t *testing.T) {
		if got := lines(tg.mustSwiftCLI(t, work, "list", cont)); !slices.Equal(got, names) {
			t.Errorf("swift list %s:\n got %q\nwant %q", cont, got, names)
		}
		if got := lines(tg.mustSwiftCLI(t, work, "list", "--prefix", "data/sub/", cont)); !slices.Equal(got, []string{"data/sub/x.txt"}) {
			t.Errorf("swift list --prefix data/sub/: got %q", got)
		}
		if got := lines(tg.mustSwiftCLI(t, work, "list", "--delimiter", "/", cont)); !slices.Equal(got, []string{"data/", "top.txt"}) {
			t.Errorf("swift list --delimiter /: got %q, want [data/ top.txt]", got)
		}
		if got := lines(tg.mustSwiftCLI(t, work, "list", "--prefix", "data/", "--delimiter", "/", cont)); !slices.Equal(got, []string{"data/big.bin", "data/many/", "data/small.txt", "data/sub/", "data/zz.txt"}) {
			t.Errorf("swift list --prefix data/ --delimiter /: got %q", got)
		}
		if got := lines(tg.mustSwiftCLI(t, work, "list")); !slices.Contains(got, cont) {
			t.Errorf("swift list (account): %q does not name %s", got, cont)
		}
	})

	t.Run("stat", func(t *testing.T) {
		obj := statFields(tg.mustSwiftCLI(t, work, "stat", cont, "data/big.bin"))
		if got, want := obj["Content Length"], strconv.Itoa(len(files["data/big.bin"])); got != want {
			t.Errorf("swift stat of data/big.bin: Content Length %q, want %s (all: %v)", got, want, obj)
		}
		if obj["ETag"] == "" {
			t.Errorf("swift stat of data/big.bin: no ETag (all: %v)", obj)
		}
		c := statFields(tg.mustSwiftCLI(t, work, "stat", cont))
		if got, want := c["Objects"], strconv.Itoa(len(files)); got != want {
			t.Errorf("swift stat %s: Objects %q, want %s (all: %v)", cont, got, want, c)
		}
		if got, want := c["Bytes"], strconv.FormatInt(total, 10); got != want {
			t.Errorf("swift stat %s: Bytes %q, want %s (all: %v)", cont, got, want, c)
		}
		a := statFields(tg.mustSwiftCLI(t, work, "stat"))
		if n, err := strconv.Atoi(a["Containers"]); err != nil || n < 1 {
			t.Errorf("swift stat (account): Containers %q, want ≥ 1 (all: %v)", a["Containers"], a)
		}
	})

	t.Run("post metadata", func(t *testing.T) {
		tg.mustSwiftCLI(t, work, "post", "-m", "Color:blue", cont, "data/small.txt")
		obj := statFields(tg.mustSwiftCLI(t, work, "stat", cont, "data/small.txt"))
		if obj["Meta Color"] != "blue" {
			t.Errorf("after swift post -m Color:blue, stat shows %v", obj)
		}
	})

	t.Run("download", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		tg.mustSwiftCLI(t, work, append(append([]string{"download"}, tg.Download...), "-D", out, cont)...)
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
			if err != nil {
				t.Errorf("swift download: %v", err)
			} else if !bytes.Equal(got, want) {
				t.Errorf("swift download: %s has %d bytes that differ from the %d uploaded", name, len(got), len(want))
			}
		}
		got := tg.mustSwiftCLI(t, work, append(append([]string{"download"}, tg.Download...), "-o", "-", cont, "data/big.bin")...)
		if !bytes.Equal([]byte(got), files["data/big.bin"]) {
			t.Errorf("swift download -o - data/big.bin: %d bytes that differ from the %d uploaded", len(got), len(files["data/big.bin"]))
		}
	})

	t.Run("segmented upload (DLO)", func(t *testing.T) {
		data := randomBytes(3<<20 + 5)
		if err := os.WriteFile(filepath.Join(work, "seg.bin"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		tg.mustSwiftCLI(t, work, append(append([]string{"upload"}, tg.Upload...), "--segment-size", "1048576", cont, "seg.bin")...)
		segs := lines(tg.mustSwiftCLI(t, work, "list", cont+"_segments"))
		if len(segs) != 4 {
			t.Errorf("segments container %s_segments lists %q, want 4 segments", cont, segs)
		}
		obj := statFields(tg.mustSwiftCLI(t, work, "stat", cont, "seg.bin"))
		if got, want := obj["Content Length"], strconv.Itoa(len(data)); got != want {
			t.Errorf("swift stat of the manifest: Content Length %q, want %s (all: %v)", got, want, obj)
		}
		if !strings.HasPrefix(obj["Manifest"], cont+"_segments/seg.bin/") {
			t.Errorf("swift stat of the manifest: Manifest %q, want %s_segments/seg.bin/… (all: %v)", obj["Manifest"], cont, obj)
		}
		got := tg.mustSwiftCLI(t, work, append(append([]string{"download"}, tg.Download...), "-o", "-", cont, "seg.bin")...)
		if !bytes.Equal([]byte(got), data) {
			t.Errorf("download of the manifest: %d bytes that differ from the %d uploaded", len(got), len(data))
		}
	})

	t.Run("delete", func(t *testing.T) {
		tg.mustSwiftCLI(t, work, "delete", cont, "data/small.txt")
		if got := lines(tg.mustSwiftCLI(t, work, "list", cont)); slices.Contains(got, "data/small.txt") {
			t.Errorf("after swift delete of data/small.txt, the listing still has it")
		}
		if r := tg.swiftCLI(t, work, "stat", cont, "data/small.txt"); r.Err == nil {
			t.Errorf("swift stat of a deleted object succeeded: %s", r)
		}
		tg.mustSwiftCLI(t, work, "delete", cont) // every object (manifest: and its segments), then the container
		if r := tg.swiftCLI(t, work, "delete", cont+"_segments"); r.Err != nil {
			// swift deletes the segments with the manifest; the then-empty segments container may remain or not.
			t.Logf("swift delete %s_segments: %v", cont, r.Err)
		}
		got := lines(tg.mustSwiftCLI(t, work, "list"))
		if slices.Contains(got, cont) || slices.Contains(got, cont+"_segments") {
			t.Errorf("after swift delete %s, the account still lists %q", cont, got)
		}
	})
}

// TestSwiftCLIAgainstSwift runs the CLI scenario against the real Swift, with v1.0 auth and with a token
// and storage URL: it proves the scenario itself, so a failure against our server is our server's.
func TestSwiftCLIAgainstSwift(t *testing.T) {
	env := requireSwift(t)
	t.Run("v1.0 auth", func(t *testing.T) {
		runSwiftCLIScenario(t, cliTarget{Conn: []string{"-A", env.AuthURL, "-U", env.Admin.Name, "-K", env.Admin.Key}})
	})
	t.Run("token and storage URL", func(t *testing.T) {
		token, storage := swiftAuth(t, newHTTPClient(), env.AuthURL, env.Admin)
		runSwiftCLIScenario(t, cliTarget{Conn: []string{"--os-auth-token", token, "--os-storage-url", storage}})
	})
}
