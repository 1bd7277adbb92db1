package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/examples/internal/testcloud"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

func TestRestoreServer(t *testing.T) {
	c := testcloud.Start(t)
	ctx := testcloud.Context(t)
	disk := bytes.Repeat([]byte("backup image "), 400_000) // 5.2 MB: two blocks
	file := filepath.Join(t.TempDir(), "backup.img")
	if err := os.WriteFile(file, disk, 0o600); err != nil {
		t.Fatal(err)
	}

	out, code := testcloud.Run(t, run, c.Args("-file", file, "-flavor", strconv.Itoa(testcloud.Flavor))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	// The object holds the file.
	top, err := hashmap.HashBytes(disk, hashmap.DefaultBlockSize).TopHash()
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Pithos.ObjectInfo(ctx, "snapshots", "server_backup.diskdump", pithos.GetOptions{})
	if err != nil || info.Bytes != int64(len(disk)) || info.Hash != top {
		t.Fatalf("object %+v %v", info, err)
	}
	// The image is registered at its location.
	imgs, err := c.Images.ListImages(ctx, image.ListOptions{Detail: true})
	if err != nil || len(imgs) != 1 {
		t.Fatalf("images %+v %v", imgs, err)
	}
	loc := image.Location{Account: c.UUID, Container: "snapshots", Path: "server_backup.diskdump"}
	if imgs[0].Name != "Backup Snapshot" || imgs[0].Location != loc.String() || imgs[0].Size != int64(len(disk)) {
		t.Fatalf("image %+v", imgs[0])
	}
	// The server is built from it.
	servers, err := c.Compute.ListServers(ctx, cyclades.ListOptions{})
	if err != nil || len(servers) != 1 {
		t.Fatalf("servers %+v %v", servers, err)
	}
	s, err := c.Compute.WaitServerUntil(ctx, servers[0].ID, cyclades.StatusActive, &cyclades.WaitOptions{Interval: testcloud.Poll})
	if err != nil || s.Name != "Restored server" || s.Image.ID != imgs[0].ID || s.Flavor.ID != testcloud.Flavor {
		t.Fatalf("server %+v %v", s, err)
	}
	want := fmt.Sprintf("Uploaded %d bytes to %s\nImage \"Backup Snapshot\" registered with id %s\nServer \"Restored server\" (%d) created, status BUILD\n",
		len(disk), loc, imgs[0].ID, s.ID)
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}

	// Errors: a missing local file, an unknown flavor (after upload and registration).
	if out, code := testcloud.Run(t, run, c.Args("-file", filepath.Join(t.TempDir(), "none"), "-flavor", "1")...); code != 1 || !strings.HasPrefix(out, "Error: open ") {
		t.Fatalf("missing file: exit %d: %q", code, out)
	}
	out, code = testcloud.Run(t, run, c.Args("-file", file, "-flavor", "999")...)
	if code != 1 || !strings.HasSuffix(out, "- error code: 404\n") {
		t.Fatalf("unknown flavor: exit %d: %q", code, out)
	}
}
