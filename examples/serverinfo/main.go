// Command serverinfo prints a server's name and OS, then the objects of a container: examples 1.1 to 1.5
// of kamaki's guide (instantiate the Cyclades and Pithos+ clients from Astakos' endpoints, use them, and
// handle errors).
//
//	serverinfo -url https://accounts.example.com/identity/v2.0 -token TOKEN -server 42 [-container pithos]
//
// Output:
//
//	Server Name: A Debian Server (OS: debian)
//	Objects in container pithos:
//	  lala.txt of 34 bytes
//	  test.txt of 1232 bytes
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("serverinfo", flag.ContinueOnError)
	cloud := cli.Flags(fs)
	serverID := fs.Int64("server", 0, "id of the server to describe")
	container := fs.String("container", "pithos", "container whose objects to list")
	if err := fs.Parse(args); err != nil {
		return err
	}

	astakos, err := cloud.Astakos(ctx, out)
	if err != nil {
		return err
	}

	cycladesURL, err := astakos.EndpointURL(ctx, cyclades.ComputeServiceType)
	if err != nil {
		fmt.Fprintln(out, "Failed to get endpoints for cyclades")
		return err
	}
	compute, err := cyclades.NewCompute(cycladesURL, cloud.Token, cloud.Options())
	if err != nil {
		fmt.Fprintln(out, "Failed to initialize Cyclades client")
		return err
	}

	pithosURL, err := astakos.EndpointURL(ctx, pithos.ServiceType)
	if err != nil {
		fmt.Fprintln(out, "Failed to get endpoints for pithos")
		return err
	}
	user, err := astakos.UserInfo(ctx)
	if err != nil {
		fmt.Fprintln(out, "Failed to initialize Pithos+ client")
		return err
	}
	store, err := pithos.New(pithosURL, cloud.Token, cloud.Options())
	if err != nil {
		fmt.Fprintln(out, "Failed to initialize Pithos+ client")
		return err
	}
	store = store.WithAccount(user.UUID)

	srv, err := compute.GetServer(ctx, *serverID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Server Name: %s (OS: %s)\n", srv.Name, srv.Metadata["os"])

	list, err := store.ListObjects(ctx, *container, pithos.ListOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Objects in container %s:\n", *container)
	for _, obj := range list.Objects {
		fmt.Fprintf(out, "  %s of %d bytes\n", obj.Name, obj.Bytes)
	}
	return nil
}
