package pithos_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// stepClock is the local cloud's clock in tests: it moves only when told.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (s *stepClock) now() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.t }
func (s *stepClock) step(d time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t = s.t.Add(d)
	return s.t
}

func startClocked(t *testing.T) (*pithos.Client, *stepClock, *countingTransport) {
	t.Helper()
	clk := &stepClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cl := startCloudConfig(t, localcloudtest.Config{BlockSize: 1024, Now: clk.now})
	return cl.c, clk, cl.count
}

func put(t *testing.T, c *pithos.Client, name string, data []byte) {
	t.Helper()
	if _, err := c.UploadObject(context.Background(), "c", name, bytes.NewReader(data), pithos.UploadOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, c *pithos.Client, name string, opts pithos.GetOptions) []byte {
	t.Helper()
	o, err := c.GetObject(context.Background(), "c", name, opts)
	if err != nil {
		t.Fatalf("GET %s: %v", name, err)
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLocalHistory: versions newest first with sizes, reads of each,
// a restore by server-side copy (no block bytes sent), the deleted names of
// a directory, and a client AsOf a past time (until listings, reads of the
// version current then, 404 for a later object).
func TestLocalHistory(t *testing.T) {
	ctx := context.Background()
	c, clk, ct := startClocked(t)
	v := [][]byte{bytes.Repeat([]byte("1"), 1500), bytes.Repeat([]byte("2"), 700), bytes.Repeat([]byte("3"), 2100)}
	var times []time.Time
	for _, d := range v {
		times = append(times, clk.step(10*time.Second))
		put(t, c, "d/f", d)
	}
	h, err := c.HistoryOf(ctx, "c")
	if err != nil || !h.Pithos {
		t.Fatalf("HistoryOf: %+v %v", h, err)
	}
	vs, err := c.ObjectVersions(ctx, h, "c", "d/f", nil)
	if err != nil || len(vs) != 3 {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	for i, ov := range vs {
		want := v[2-i]
		if ov.Bytes != int64(len(want)) || !ov.Time.Equal(times[2-i]) || ov.Current != (i == 0) {
			t.Errorf("version %d: %+v, want %d bytes at %v", i, ov, len(want), times[2-i])
		}
		if got := readAll(t, c, "d/f", pithos.GetOptions{Version: ov.ID}); !bytes.Equal(got, want) {
			t.Errorf("version %d reads %d bytes", i, len(got))
		}
	}

	// Restore v1: a server-side copy, no block bytes on the wire.
	ct.reset()
	clk.step(10 * time.Second)
	if _, err := c.RestoreVersion(ctx, vs[2], "c", "d/f", pithos.Conditions{IfMatch: vs[0].ETag}); err != nil {
		t.Fatal(err)
	}
	if posts, puts, gets, body := ct.reset(); posts+puts+gets != 0 || body != 0 {
		t.Errorf("restore sent %d block POSTs, %d hashmap PUTs, %d range GETs, %d body bytes", posts, puts, gets, body)
	}
	if got := readAll(t, c, "d/f", pithos.GetOptions{}); !bytes.Equal(got, v[0]) {
		t.Errorf("restored content: %d bytes", len(got))
	}

	// Deleted names: d/gone and d/sub/x are deleted, d/f lives.
	put(t, c, "d/gone", []byte("bye"))
	put(t, c, "d/sub/x", []byte("x"))
	clk.step(10 * time.Second)
	for _, n := range []string{"d/gone", "d/sub/x"} {
		if err := c.DeleteObject(ctx, "c", n, pithos.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Found by the listing of a minute ago, and by the names given.
	files, dirs, err := c.DeletedEntries(ctx, h, "c", "d/", clk.step(55*time.Second), nil)
	if err != nil || len(files) != 1 || files[0] != "gone" || len(dirs) != 1 || dirs[0] != "sub" {
		t.Errorf("deleted: files %q dirs %q %v", files, dirs, err)
	}
	files, dirs, err = c.DeletedEntries(ctx, h, "c", "d/", clk.now().Add(-time.Hour), []string{"d/gone", "d/sub/x", "d/f", "e/y"})
	if err != nil || len(files) != 1 || files[0] != "gone" || len(dirs) != 1 || dirs[0] != "sub" {
		t.Errorf("deleted from known names: files %q dirs %q %v", files, dirs, err)
	}
	gone, err := c.ObjectVersions(ctx, h, "c", "d/gone", nil)
	if err != nil || len(gone) != 1 || gone[0].Current || gone[0].Bytes != 3 {
		t.Fatalf("versions of a deleted object: %+v %v", gone, err)
	}
	if _, err := c.RestoreVersion(ctx, gone[0], "c", "d/gone", pithos.Conditions{IfNoneMatch: "*"}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "d/gone", pithos.GetOptions{}); string(got) != "bye" {
		t.Errorf("undeleted content %q", got)
	}

	// AsOf between v1 and v2: d/f reads v1, d/gone did not exist.
	past := c.AsOf(times[0].Add(5 * time.Second))
	if got := readAll(t, past, "d/f", pithos.GetOptions{}); !bytes.Equal(got, v[0]) {
		t.Errorf("as of v1: %d bytes", len(got))
	}
	info, err := past.ObjectInfo(ctx, "c", "d/f", pithos.GetOptions{})
	if err != nil || info.Bytes != int64(len(v[0])) || !info.LastModified.Equal(times[0]) {
		t.Errorf("as of v1 HEAD: %+v %v", info, err)
	}
	if _, err := past.ObjectInfo(ctx, "c", "d/gone", pithos.GetOptions{}); synnefo.StatusOf(err) != http.StatusNotFound {
		t.Errorf("as of v1, a later object: %v", err)
	}
	es, err := past.ListDir(ctx, "c", "d/")
	if err != nil || len(es) != 1 || es[0].Name != "f" || es[0].Object.Bytes != int64(len(v[0])) || !es[0].Object.LastModified.Equal(times[0]) {
		t.Errorf("as of v1 listing: %+v %v", es, err)
	}
	hm, _, err := past.GetHashmap(ctx, "c", "d/f", pithos.GetOptions{})
	if err != nil || hm.Bytes != int64(len(v[0])) {
		t.Errorf("as of v1 hashmap: %+v %v", hm, err)
	}
	ct.reset()
	blk, err := past.ReadRange(ctx, "c", "d/f", 1024, 1024, hm.Bytes, pithos.GetOptions{})
	if err != nil || !bytes.Equal(blk, v[0][1024:]) {
		t.Errorf("as of v1 range: %d bytes %v", len(blk), err)
	}
	if _, _, gets, _ := ct.reset(); gets != 1 {
		t.Errorf("a pinned range read made %d range GETs, want 1 (the version known from before)", gets)
	}
	if cs, err := past.ListContainers(ctx); err != nil || len(cs) != 1 {
		t.Errorf("as of v1 containers: %+v %v", cs, err)
	}
}

// TestLocalAsOfWritesNothing: an AsOf client refuses every write itself.
func TestLocalAsOfWritesNothing(t *testing.T) {
	ctx := context.Background()
	c, clk, ct := startClocked(t)
	put(t, c, "f", []byte("now"))
	past := c.AsOf(clk.step(time.Second))
	ct.reset()
	_, err := past.PutObject(ctx, "c", "f", bytes.NewReader([]byte("x")), 1, pithos.PutOptions{})
	if synnefo.StatusOf(err) != http.StatusForbidden {
		t.Errorf("PUT through an AsOf client: %v", err)
	}
	if err := past.DeleteObject(ctx, "c", "f", pithos.DeleteOptions{}); synnefo.StatusOf(err) != http.StatusForbidden {
		t.Errorf("DELETE through an AsOf client: %v", err)
	}
	if _, _, _, body := ct.reset(); body != 0 {
		t.Errorf("%d body bytes left the client", body)
	}
	if got := readAll(t, c, "f", pithos.GetOptions{}); string(got) != "now" {
		t.Errorf("object changed: %q", got)
	}
}
