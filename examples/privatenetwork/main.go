// Command privatenetwork creates a private network and two servers connected to it, then waits for both
// to build: script 1.6.3 of kamaki's guide ("Two servers and a private network").
//
//	privatenetwork -url URL -token TOKEN -flavor FLAVOR_ID -image IMAGE_ID
//
// The guide's script prints nothing and asserts that both servers end ACTIVE; this one also says what it
// created:
//
//	Network "My private network" created with id 5
//	Server "server 1" (17) is ACTIVE
//	Server "server 2" (18) is ACTIVE
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("privatenetwork", flag.ContinueOnError)
	cloud := cli.Flags(fs)
	flavorID := fs.Int64("flavor", 0, "flavor id of the servers")
	imageID := fs.String("image", "", "image id of the servers")
	if err := fs.Parse(args); err != nil {
		return err
	}

	astakos, err := cloud.Astakos(ctx, out)
	if err != nil {
		return err
	}

	network, err := cli.Connect(ctx, cloud, astakos, cyclades.NetworkServiceType, cyclades.NewNetwork)
	if err != nil {
		return err
	}
	net, err := network.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Type: cyclades.NetworkMACFiltered, Name: "My private network"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Network %q created with id %s\n", net.Name, net.ID)

	compute, err := cli.Connect(ctx, cloud, astakos, cyclades.ComputeServiceType, cyclades.NewCompute)
	if err != nil {
		return err
	}

	var srvs []*cyclades.Server
	for _, name := range []string{"server 1", "server 2"} {
		srv, err := compute.CreateServer(ctx, cyclades.CreateServerRequest{
			Name: name, FlavorID: *flavorID, ImageID: *imageID,
			Networks: []cyclades.ServerNetwork{{UUID: net.ID}},
		})
		if err != nil {
			return err
		}
		srvs = append(srvs, srv)
	}

	for i, srv := range srvs {
		state, err := compute.WaitServer(ctx, srv.ID, cyclades.StatusBuild, cloud.Wait())
		if err != nil {
			return err
		}
		if state.Status != cyclades.StatusActive {
			return fmt.Errorf("server %d built failure: %s", i+1, state.Status)
		}
		fmt.Fprintf(out, "Server %q (%d) is %s\n", srv.Name, srv.ID, state.Status)
	}
	return nil
}
