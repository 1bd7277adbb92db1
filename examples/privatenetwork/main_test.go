package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/examples/internal/testcloud"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

func TestPrivateNetwork(t *testing.T) {
	c := testcloud.Start(t)
	img := c.Image(t, "debian.diskdump", []byte("debian base image"))
	ctx := testcloud.Context(t)

	out, code := testcloud.Run(t, run, c.Args("-flavor", strconv.Itoa(testcloud.Flavor), "-image", img)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	nets, err := c.Network.ListNetworks(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var net *cyclades.Network
	for i := range nets {
		if nets[i].Name == "My private network" {
			net = &nets[i]
		}
	}
	if net == nil || net.Type != cyclades.NetworkMACFiltered || net.Public {
		t.Fatalf("network %+v in %+v", net, nets)
	}
	servers, err := c.Compute.ListServers(ctx, cyclades.ListOptions{Detail: true})
	if err != nil || len(servers) != 2 {
		t.Fatalf("servers %+v %v", servers, err)
	}
	want := fmt.Sprintf("Network \"My private network\" created with id %s\n", net.ID)
	for _, name := range []string{"server 1", "server 2"} {
		var s *cyclades.Server
		for i := range servers {
			if servers[i].Name == name {
				s = &servers[i]
			}
		}
		// ACTIVE, with one NIC, on the new network.
		if s == nil || s.Status != cyclades.StatusActive || len(s.Attachments) != 1 || s.Attachments[0].NetworkID != net.ID {
			t.Fatalf("%s: %+v", name, s)
		}
		want += fmt.Sprintf("Server %q (%d) is ACTIVE\n", name, s.ID)
	}
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}

	// An unknown flavor: the network is made, the first server is refused with the cloud's status.
	out, code = testcloud.Run(t, run, c.Args("-flavor", "999", "-image", img)...)
	if code != 1 || !strings.Contains(out, "\n- error code: 404\n") {
		t.Fatalf("unknown flavor: exit %d: %s", code, out)
	}
}
