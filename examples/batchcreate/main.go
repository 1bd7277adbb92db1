// Command batchcreate creates several servers without network connections, then waits while each is
// being built: script 1.6.1 of kamaki's guide ("Batch-create servers").
//
//	batchcreate -url URL -token TOKEN NAME FLAVOR_ID IMAGE_ID [NAME FLAVOR_ID IMAGE_ID ...]
//
// e.g. batchcreate "My Debian Server" 1 DEBIAN_IMAGE_ID "My Ubuntu Server" 3 UBUNTU_IMAGE_ID. The
// servers are created with an empty network list, which tells Cyclades to connect them to no network at
// all instead of applying its default policy (e.g. a public IP each). A server that ends in any status
// but ACTIVE is an error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("batchcreate", flag.ContinueOnError)
	cloud := cli.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// (name, flavor-id, image-id) triples
	var servers []cyclades.CreateServerRequest
	if fs.NArg() == 0 || fs.NArg()%3 != 0 {
		return fmt.Errorf("want NAME FLAVOR_ID IMAGE_ID triples, got %d arguments", fs.NArg())
	}
	for i := 0; i < fs.NArg(); i += 3 {
		flavorID, err := strconv.ParseInt(fs.Arg(i+1), 10, 64)
		if err != nil {
			return fmt.Errorf("flavor of %q: %w", fs.Arg(i), err)
		}
		servers = append(servers, cyclades.CreateServerRequest{
			Name: fs.Arg(i), FlavorID: flavorID, ImageID: fs.Arg(i + 2),
			Networks: []cyclades.ServerNetwork{}, // no network connections
		})
	}

	astakos, err := cloud.Astakos(ctx, out)
	if err != nil {
		return err
	}
	compute, err := cli.Connect(ctx, cloud, astakos, cyclades.ComputeServiceType, cyclades.NewCompute)
	if err != nil {
		return err
	}

	var created []*cyclades.Server
	for _, req := range servers {
		vm, err := compute.CreateServer(ctx, req)
		if err != nil {
			return err
		}
		created = append(created, vm)
	}

	for _, vm := range created {
		fmt.Fprintf(out, "Wait while vm %q (%d) is being build\n", vm.Name, vm.ID)
		s, err := compute.WaitServer(ctx, vm.ID, cyclades.StatusBuild, cloud.Wait())
		if err != nil {
			return err
		}
		if s.Status != cyclades.StatusActive {
			return fmt.Errorf("vm %q (%d) is %s", vm.Name, vm.ID, s.Status)
		}
	}
	return nil
}
