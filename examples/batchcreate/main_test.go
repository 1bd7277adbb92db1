package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/examples/internal/testcloud"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

func TestBatchCreate(t *testing.T) {
	c := testcloud.Start(t)
	debian := c.Image(t, "debian.diskdump", []byte("debian base image"))
	windows := c.Image(t, "windows.diskdump", []byte("windows 8 image"))
	ubuntu := c.Image(t, "ubuntu.diskdump", []byte("ubuntu 12 image"))

	out, code := testcloud.Run(t, run, c.Args(
		"My Debian Server", "1", debian,
		"My Windows Server", "3", windows,
		"My Ubuntu Server", "3", ubuntu)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	servers, err := c.Compute.ListServers(testcloud.Context(t), cyclades.ListOptions{Detail: true})
	if err != nil || len(servers) != 3 {
		t.Fatalf("servers %+v %v", servers, err)
	}
	var want strings.Builder
	for i, name := range []string{"My Debian Server", "My Windows Server", "My Ubuntu Server"} {
		var s *cyclades.Server
		for j := range servers {
			if servers[j].Name == name {
				s = &servers[j]
			}
		}
		if s == nil {
			t.Fatalf("no server %q in %+v", name, servers)
		}
		fmt.Fprintf(&want, "Wait while vm %q (%d) is being build\n", name, s.ID)
		// Waited for each: all ACTIVE with no network, on the requested flavor and image.
		if s.Status != cyclades.StatusActive || len(s.Attachments) != 0 || s.Flavor.ID != []int64{1, 3, 3}[i] ||
			s.Image.ID != []string{debian, windows, ubuntu}[i] {
			t.Fatalf("server %+v", s)
		}
	}
	if out != want.String() {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want.String())
	}

	// Errors: bad arguments, and a server the cloud refuses (unknown image).
	if out, code := testcloud.Run(t, run, c.Args("only a name")...); code != 1 || !strings.HasPrefix(out, "Error: want NAME") {
		t.Fatalf("bad args: exit %d: %s", code, out)
	}
	out, code = testcloud.Run(t, run, c.Args("x", "1", "00000000-0000-4000-8000-000000000000")...)
	if code != 1 || !strings.Contains(out, "- error code: 404\n") {
		t.Fatalf("unknown image: exit %d: %s", code, out)
	}
}
