package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pithosfs/pithosfs/examples/internal/testcloud"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

func TestSnapshotBackup(t *testing.T) {
	c := testcloud.Start(t)
	disk := bytes.Repeat([]byte("a Debian disk image block "), 200_000) // 5 MB: two 4 MiB blocks
	srv := c.Server(t, "A Debian Server", c.Image(t, "debian.diskdump", disk))
	dest := filepath.Join(t.TempDir(), "backup.diskdump")
	ctx := testcloud.Context(t)

	out, code := testcloud.Run(t, run, c.Args("-server", strconv.FormatInt(srv.ID, 10), "-o", dest)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	snaps, err := c.Volumes.ListSnapshots(ctx, true)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %+v %v", snaps, err)
	}
	snp := snaps[0]
	name := fmt.Sprintf("Srv %d BackUp", srv.ID)
	vol := strconv.FormatInt(srv.Volumes[0], 10)
	if snp.DisplayName != name || snp.VolumeID != vol || snp.Status != "AVAILABLE" {
		t.Fatalf("snapshot %+v", snp)
	}
	loc := image.Location{Account: c.UUID, Container: "snapshots", Path: name}
	want := fmt.Sprintf("Snapshot %q (%s) of volume %s\nLocation: %s\nDownloaded %d bytes to %s\n", name, snp.ID, vol, loc, len(disk), dest)
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("downloaded %d bytes (want the %d of the image) %v", len(got), len(disk), err)
	}

	// An unknown server is the cloud's 404; a deleted server has no volumes left to snapshot.
	out, code = testcloud.Run(t, run, c.Args("-server", "424242", "-o", dest)...)
	if code != 1 || out != "Error: Server not found.\n- error code: 404\n" {
		t.Fatalf("unknown server: exit %d: %q", code, out)
	}
	if err := c.Compute.DeleteServer(ctx, srv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compute.WaitServerUntil(ctx, srv.ID, cyclades.StatusDeleted, &cyclades.WaitOptions{Interval: testcloud.Poll}); err != nil {
		t.Fatal(err)
	}
	out, code = testcloud.Run(t, run, c.Args("-server", strconv.FormatInt(srv.ID, 10))...)
	if code != 1 || out != fmt.Sprintf("Error: server %d has no volumes\n", srv.ID) {
		t.Fatalf("deleted server: exit %d: %q", code, out)
	}
}
