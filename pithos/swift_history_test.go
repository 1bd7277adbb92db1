package pithos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestSwiftHistory: on plain Swift with X-History-Location the versions
// of an object come from the archive container (newest first, the current
// one included), a deleted name is listed from its delete marker, and a
// restore is a server-side copy from the archive; a container without
// versioning has no history (ErrNoHistory).
func TestSwiftHistory(t *testing.T) {
	c := swiftClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	suffix := fmt.Sprint(time.Now().UnixNano())
	cont, arch, plain := "hist-"+suffix, "hist-arch-"+suffix, "hist-plain-"+suffix
	defer cleanupContainers(t, c, cont, arch, plain)
	for _, n := range []string{arch, plain} {
		if _, err := c.CreateContainer(ctx, n, CreateContainerOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateContainer(ctx, cont, CreateContainerOptions{HistoryLocation: arch}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HistoryOf(ctx, plain); err == nil {
		t.Errorf("a container without versioning has history")
	}
	h, err := c.HistoryOf(ctx, cont)
	if err != nil || h.Archive != arch || h.Mode != "history" {
		t.Fatalf("HistoryOf: %+v %v", h, err)
	}
	data := [][]byte{[]byte("one"), []byte("second"), []byte("the third")}
	for _, d := range data {
		if _, err := c.PutObject(ctx, cont, "d/f", bytes.NewReader(d), int64(len(d)), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := c.ObjectVersions(ctx, h, cont, "d/f", nil)
	if err != nil || len(vs) != 3 {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	for i, v := range vs {
		want := data[2-i]
		o, err := c.GetObject(ctx, v.Container, v.Name, GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(o.Body)
		o.Body.Close()
		if !bytes.Equal(got, want) || v.Bytes != int64(len(want)) || v.Current != (i == 0) {
			t.Errorf("version %d: %+v reads %q, want %q", i, v, got, want)
		}
	}
	if _, err := c.PutObject(ctx, cont, "d/gone", bytes.NewReader([]byte("bye")), 3, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteObject(ctx, cont, "d/gone", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	files, dirs, err := c.DeletedEntries(ctx, h, cont, "d/", time.Now(), nil)
	if err != nil || len(files) != 1 || files[0] != "gone" || len(dirs) != 0 {
		t.Errorf("deleted: %q %q %v", files, dirs, err)
	}
	top, _, err := c.DeletedEntries(ctx, h, cont, "", time.Now(), nil)
	if err != nil || len(top) != 0 {
		t.Errorf("deleted at the top: %q %v", top, err)
	}
	gone, err := c.ObjectVersions(ctx, h, cont, "d/gone", nil)
	if err != nil || len(gone) != 1 || gone[0].Current {
		t.Fatalf("versions of a deleted object: %+v %v", gone, err)
	}
	if _, err := c.RestoreVersion(ctx, gone[0], cont, "d/gone", Conditions{}); err != nil {
		t.Fatal(err)
	}
	if info, err := c.ObjectInfo(ctx, cont, "d/gone", GetOptions{}); err != nil || info.Bytes != 3 {
		t.Errorf("restored: %+v %v", info, err)
	}
}
