package pithos

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/internal/testswift"
	"github.com/pithosfs/pithosfs/synnefo"
)

// swiftClient returns a client for the real Swift of scripts/swift-aio.sh (internal/testswift): the one of
// SWIFT_AUTH_URL (+ SWIFT_USER, SWIFT_KEY) when set, as make test and CI export them; else one kept running
// in the script's default directory; else one this binary starts on free ports, which TestMain stops.
func swiftClient(t *testing.T) *Client {
	t.Helper()
	vars, err := testSwift.get()
	if err != nil {
		t.Fatalf("no Swift: %v", err)
	}
	authURL, user, key := vars["SWIFT_AUTH_URL"], vars["SWIFT_USER"], vars["SWIFT_KEY"]
	if user == "" {
		user, key = "test:tester", "testing"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := NewSwift(ctx, authURL, user, key, synnefo.Options{})
	if err != nil {
		t.Fatalf("swift auth at %s: %v", authURL, err)
	}
	return c
}

// swiftHarness finds (or starts) Swift once per test binary and stops what it started.
type swiftHarness struct {
	mu   sync.Mutex
	vars testswift.Vars
	err  error
	stop func() error
}

// testSwift is the one harness of this test binary; TestMain closes it.
var testSwift swiftHarness

func (h *swiftHarness) get() (testswift.Vars, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.vars == nil && h.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		script, err := testswift.ScriptPath()
		if err == nil {
			h.vars, h.stop, err = testswift.Find(ctx, script)
		}
		h.err = err
	}
	return h.vars, h.err
}

func (h *swiftHarness) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop == nil {
		return nil
	}
	err := h.stop()
	h.stop = nil
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testSwift.close(); err != nil {
		fmt.Fprintln(os.Stderr, "pithos tests: stopping Swift:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// opaque hides every interface but io.Reader (an unknown-size stream).
type opaque struct{ r io.Reader }

func (o opaque) Read(p []byte) (int, error) { return o.r.Read(p) }

// memFile is an io.WriterAt that also truncates, for downloads.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

func (m *memFile) Truncate(n int64) error {
	if n <= int64(len(m.b)) {
		m.b = m.b[:n]
	} else {
		m.b = append(m.b, make([]byte, n-int64(len(m.b)))...)
	}
	return nil
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestSwiftStorage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := swiftClient(t).WithConfig(Config{LargeObjectThreshold: 1 << 20, SegmentSize: 1 << 20, PageSize: 7})
	cont := fmt.Sprintf("pithos-test-%d", time.Now().UnixNano())
	if _, err := c.CreateContainer(ctx, cont, CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupContainers(t, c, cont, c.segmentContainer(cont)) })

	caps, err := c.Capabilities(ctx, cont)
	if err != nil || caps.Hashmaps {
		t.Fatalf("capabilities %+v, %v: Swift must report no hashmaps", caps, err)
	}

	download := func(name string) []byte {
		t.Helper()
		var m memFile
		if _, _, err := c.DownloadObject(ctx, cont, name, &m, DownloadOptions{}); err != nil {
			t.Fatalf("download %s: %v", name, err)
		}
		return m.b
	}

	t.Run("small and streamed", func(t *testing.T) {
		small := randomBytes(t, 1000)
		if _, err := c.UploadObject(ctx, cont, "dir/small ü%.bin", bytes.NewReader(small), UploadOptions{
			PutOptions: PutOptions{Meta: map[string]string{"Note": "café 100%"}}}); err != nil {
			t.Fatal(err)
		}
		if got := download("dir/small ü%.bin"); !bytes.Equal(got, small) {
			t.Fatal("small round trip differs")
		}
		info, err := c.ObjectInfo(ctx, cont, "dir/small ü%.bin", GetOptions{})
		if err != nil || info.Bytes != 1000 || info.Meta["Note"] != "café 100%" {
			t.Fatalf("info %+v, %v", info, err)
		}
		data := randomBytes(t, 300000)
		if _, err := c.UploadObject(ctx, cont, "stream", opaque{bytes.NewReader(data)}, UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := download("stream"); !bytes.Equal(got, data) {
			t.Fatal("streamed round trip differs")
		}
	})

	t.Run("large objects", func(t *testing.T) {
		data := randomBytes(t, 3<<20+12345)
		if _, err := c.UploadObject(ctx, cont, "big", bytes.NewReader(data), UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		info, err := c.ObjectInfo(ctx, cont, "big", GetOptions{})
		if err != nil || info.Manifest == "" || info.Bytes != int64(len(data)) {
			t.Fatalf("manifest object info %+v, %v", info, err)
		}
		if got := download("big"); !bytes.Equal(got, data) {
			t.Fatal("large round trip differs")
		}
		// A range across a segment boundary, and one clamped at the end.
		got, err := c.ReadRange(ctx, cont, "big", 1<<20-10, 20, info.Bytes, GetOptions{})
		if err != nil || !bytes.Equal(got, data[1<<20-10:1<<20+10]) {
			t.Fatalf("range across segments: %v", err)
		}
		got, err = c.ReadRange(ctx, cont, "big", info.Bytes-5, 100, info.Bytes, GetOptions{})
		if err != nil || !bytes.Equal(got, data[len(data)-5:]) {
			t.Fatalf("clamped range: %d bytes, %v", len(got), err)
		}
		// Unknown size above the threshold: first piece streamed, then turned into segment 0.
		data2 := randomBytes(t, 2<<20+777)
		if _, err := c.UploadObject(ctx, cont, "big-stream", opaque{bytes.NewReader(data2)}, UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := download("big-stream"); !bytes.Equal(got, data2) {
			t.Fatal("unknown-size large round trip differs")
		}
	})

	t.Run("listing pages copy move conditions", func(t *testing.T) {
		for i := range 20 {
			if _, err := c.PutObject(ctx, cont, fmt.Sprintf("list/%02d", i), strings.NewReader("x"), 1, PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		l, err := c.ListObjects(ctx, cont, ListOptions{Prefix: "list/"})
		if err != nil || len(l.Objects) != 20 || l.Objects[19].Name != "list/19" {
			t.Fatalf("paged listing: %d objects, %v", len(l.Objects), err)
		}
		root, err := c.ListDir(ctx, cont, "")
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, e := range root {
			names[e.Name] = e.IsDir
		}
		if !names["list"] || !names["dir"] || names["stream"] {
			t.Fatalf("root entries %v", names)
		}
		if _, err := c.CopyObject(ctx, cont, "list/00", cont, "copied", CopyOptions{Meta: map[string]string{"K": "v"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.MoveObject(ctx, cont, "copied", cont, "moved", CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ObjectInfo(ctx, cont, "copied", GetOptions{}); synnefo.StatusOf(err) != 404 {
			t.Fatalf("source after move: %v", err)
		}
		info, err := c.ObjectInfo(ctx, cont, "moved", GetOptions{})
		if err != nil || info.Meta["K"] != "v" {
			t.Fatalf("moved: %+v %v", info, err)
		}
		_, err = c.PutObject(ctx, cont, "moved", strings.NewReader("y"), 1, PutOptions{Conditions: Conditions{IfNoneMatch: "*"}})
		if synnefo.StatusOf(err) != 412 {
			t.Fatalf("no-clobber PUT: %v", err)
		}
		if _, err := c.SetObjectMeta(ctx, cont, "moved", map[string]string{"Other": "1"}); err != nil {
			t.Fatal(err)
		}
	})
}

// cleanupContainers deletes every object of the containers and then the containers.
func cleanupContainers(t *testing.T, c *Client, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, cont := range names {
		l, err := c.ListObjects(ctx, cont, ListOptions{})
		if err != nil {
			continue
		}
		for _, o := range l.Objects {
			_ = c.DeleteObject(ctx, cont, o.Name, DeleteOptions{})
		}
		if err := c.DeleteContainer(ctx, cont, DeleteContainerOptions{}); err != nil {
			t.Logf("cleanup %s: %v", cont, err)
		}
	}
}
