// Command registerimages registers every object of a container as an image: script 1.6.2 of kamaki's
// guide ("Register a bunch of pre-uploaded images").
//
//	registerimages -url URL -token TOKEN [-container images]
//
// Each object PATH becomes the image "Image PATH" at the location (USER_UUID, CONTAINER, PATH), which is
// the same as pithos://USER_UUID/CONTAINER/PATH. A failure is reported per object and the script goes on.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("registerimages", flag.ContinueOnError)
	cloud := cli.Flags(fs)
	imageContainer := fs.String("container", "images", "container holding the uploaded images")
	if err := fs.Parse(args); err != nil {
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

	store, err := cli.Connect(ctx, cloud, astakos, pithos.ServiceType, pithos.New)
	if err != nil {
		return err
	}
	store = store.WithAccount(user.UUID)

	plankton, err := cli.Connect(ctx, cloud, astakos, image.ServiceType, image.New)
	if err != nil {
		return err
	}

	list, err := store.ListObjects(ctx, *imageContainer, pithos.ListOptions{})
	if err != nil {
		return err
	}
	failed := 0
	for _, img := range list.Objects {
		r, err := plankton.Register(ctx, "Image "+img.Name,
			image.Location{Account: user.UUID, Container: *imageContainer, Path: img.Name}, image.RegisterOptions{})
		if err != nil {
			fmt.Fprintf(out, "Failed to register image %s\n", img.Name)
			cli.PrintError(out, err)
			failed++
			continue
		}
		fmt.Fprintf(out, "Image %s registered with id %s\n", r.Name, r.ID)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images failed to register", failed, len(list.Objects))
	}
	return nil
}
