// Command snapshotbackup snapshots a server's first volume, finds the snapshot's pithos:// location
// through the image service and downloads it to a local file: script 1.6.4 of kamaki's guide ("Snapshot
// server and backup").
//
//	snapshotbackup -url URL -token TOKEN -server SERVER_ID -o LOCAL_DESTINATION_PATH
//
// Unlike the guide's script it waits until the snapshot is AVAILABLE before downloading, and it says what
// it did:
//
//	Snapshot "Srv 17 BackUp" (6b1d…) of volume 23
//	Location: pithos://3f1c…/snapshots/Srv%2017%20BackUp
//	Downloaded 1048576 bytes to backup.diskdump
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("snapshotbackup", flag.ContinueOnError)
	cloud := cli.Flags(fs)
	serverID := fs.Int64("server", 0, "id of the server to back up")
	dest := fs.String("o", "", "local path for the backup image file (empty: do not download)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	astakos, err := cloud.Astakos(ctx, out)
	if err != nil {
		return err
	}

	compute, err := cli.Connect(ctx, cloud, astakos, cyclades.ComputeServiceType, cyclades.NewCompute)
	if err != nil {
		return err
	}
	srv, err := compute.GetServer(ctx, *serverID)
	if err != nil {
		return err
	}
	if len(srv.Volumes) == 0 {
		return fmt.Errorf("server %d has no volumes", srv.ID)
	}
	volumeID := strconv.FormatInt(srv.Volumes[0], 10)

	blockStorage, err := cli.Connect(ctx, cloud, astakos, cyclades.VolumeServiceType, cyclades.NewBlockStorage)
	if err != nil {
		return err
	}
	snp, err := blockStorage.CreateSnapshot(ctx, volumeID, fmt.Sprintf("Srv %d BackUp", srv.ID), "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Snapshot %q (%s) of volume %s\n", snp.DisplayName, snp.ID, volumeID)

	plankton, err := cli.Connect(ctx, cloud, astakos, image.ServiceType, image.New)
	if err != nil {
		return err
	}
	// The location has the form pithos://UUID/CONTAINER/PATH.
	meta, err := plankton.GetMeta(ctx, snp.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Location: %s\n", meta.Location)
	if *dest == "" {
		return nil
	}
	loc, err := image.ParseLocation(meta.Location, "")
	if err != nil {
		return err
	}

	// Optional: download to local storage, once the snapshot is complete.
	for delay := cloud.Poll; snp.Status == "CREATING"; delay = min(2*delay, 5*cloud.Poll) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if snp, err = blockStorage.GetSnapshot(ctx, snp.ID); err != nil {
			return err
		}
	}
	if snp.Status != "AVAILABLE" {
		return fmt.Errorf("snapshot %s is %s", snp.ID, snp.Status)
	}
	store, err := cli.Connect(ctx, cloud, astakos, pithos.ServiceType, pithos.New)
	if err != nil {
		return err
	}
	f, err := os.Create(*dest)
	if err != nil {
		return err
	}
	info, _, err := store.WithAccount(loc.Account).DownloadObject(ctx, loc.Container, loc.Path, f, pithos.DownloadOptions{})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(*dest))
	}
	fmt.Fprintf(out, "Downloaded %d bytes to %s\n", info.Bytes, *dest)
	return nil
}
