// Command restoreserver uploads a local image file to Pithos+, registers it as an image and creates a
// server from it: script 1.6.5 of kamaki's guide ("Restore server from local snapshot image").
//
//	restoreserver -url URL -token TOKEN -file LOCAL_BACKUP_IMAGE -flavor FLAVOR_ID
//	              [-container snapshots] [-path server_backup.diskdump]
//
// The container is created when missing. The image is registered at pithos://ACCOUNT/CONTAINER/PATH (the
// guide's script formats that location from the account alone, a bug). It prints what it did:
//
//	Uploaded 1048576 bytes to pithos://3f1c…/snapshots/server_backup.diskdump
//	Image "Backup Snapshot" registered with id 6b1d…
//	Server "Restored server" (17) created, status BUILD
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("restoreserver", flag.ContinueOnError)
	cloud := cli.Flags(fs)
	localBackupImage := fs.String("file", "", "local backup image file")
	flavorID := fs.Int64("flavor", 0, "flavor id (pick one with enough resources for the image)")
	container := fs.String("container", "snapshots", "container to upload the image to")
	path := fs.String("path", "server_backup.diskdump", "object path of the uploaded image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*localBackupImage)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}

	astakos, err := cloud.Astakos(ctx, out)
	if err != nil {
		return err
	}
	user, err := astakos.UserInfo(ctx)
	if err != nil {
		return err
	}
	account := user.UUID

	store, err := cli.Connect(ctx, cloud, astakos, pithos.ServiceType, pithos.New)
	if err != nil {
		return err
	}
	store = store.WithAccount(account)
	if _, err := store.CreateContainer(ctx, *container, pithos.CreateContainerOptions{}); err != nil {
		return err
	}
	if _, err := store.UploadObject(ctx, *container, *path, f, pithos.UploadOptions{}); err != nil {
		return err
	}
	location := image.Location{Account: account, Container: *container, Path: *path}
	fmt.Fprintf(out, "Uploaded %d bytes to %s\n", st.Size(), location)

	plankton, err := cli.Connect(ctx, cloud, astakos, image.ServiceType, image.New)
	if err != nil {
		return err
	}
	img, err := plankton.Register(ctx, "Backup Snapshot", location, image.RegisterOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Image %q registered with id %s\n", img.Name, img.ID)

	compute, err := cli.Connect(ctx, cloud, astakos, cyclades.ComputeServiceType, cyclades.NewCompute)
	if err != nil {
		return err
	}
	restored, err := compute.CreateServer(ctx, cyclades.CreateServerRequest{Name: "Restored server", FlavorID: *flavorID, ImageID: img.ID})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Server %q (%d) created, status %s\n", restored.Name, restored.ID, restored.Status)
	return nil
}
