package cyclades_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// TestAgainstLocalCloud drives compute, network, block storage and (for the server's image) the image
// service of the local cloud the way kamaki's seed scripts do.
func TestAgainstLocalCloud(t *testing.T) {
	srv := localcloudtest.NewConfig(t, localcloudtest.Config{BuildDelay: 150 * time.Millisecond})
	user := srv.User()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}

	ident, err := astakos.New(srv.IdentityURL(), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	url := func(serviceType string) string {
		u, err := ident.EndpointURL(ctx, serviceType)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	compute, err := cyclades.NewCompute(url(cyclades.ComputeServiceType), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	network, err := cyclades.NewNetwork(url(cyclades.NetworkServiceType), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	storage, err := cyclades.NewBlockStorage(url(cyclades.VolumeServiceType), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	images, err := image.New(url(image.ServiceType), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	objects, err := synnefo.NewClient(url("object-store"), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}

	// Upload and register an image.
	for _, p := range []string{"/" + user.UUID + "/images", "/" + user.UUID + "/images/debian base.diskdump"} {
		body := strings.NewReader("")
		if strings.HasSuffix(p, ".diskdump") {
			body = strings.NewReader(strings.Repeat("disk image ", 1000))
		}
		resp, err := objects.Do(ctx, &synnefo.Request{Method: http.MethodPut, Path: p, Body: body, Header: http.Header{"Content-Type": {"application/octet-stream"}}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	img, err := images.Register(ctx, "Debian Base", image.Location{Account: user.UUID, Container: "images", Path: "debian base.diskdump"},
		image.RegisterOptions{Properties: map[string]string{"OSFAMILY": "linux", "ROOT_PARTITION": "1", "USERS": "root", "OS": "debian"}})
	if err != nil {
		t.Fatal(err)
	}
	if img.ID == "" || img.Properties["os"] != "debian" {
		t.Fatalf("registered %+v", img)
	}

	// Flavors and the compute view of images.
	flavors, err := compute.ListFlavors(ctx, true)
	if err != nil || len(flavors) == 0 {
		t.Fatalf("flavors %v %v", flavors, err)
	}
	var flavor cyclades.Flavor
	for _, f := range flavors {
		if strings.HasPrefix(f.DiskTemplate, "ext_") && flavor.ID == 0 {
			flavor = f
		}
	}
	if f, err := compute.GetFlavor(ctx, flavor.ID); err != nil || f.Name != flavor.Name || f.RAM == 0 {
		t.Fatalf("flavor %+v %v", f, err)
	}
	ci, err := compute.GetImage(ctx, img.ID)
	if err != nil || ci.Metadata["os"] != "debian" {
		t.Fatalf("compute image %+v %v", ci, err)
	}

	// Create a server without networks and wait for it.
	created, err := compute.CreateServer(ctx, cyclades.CreateServerRequest{Name: "My Debian Server", FlavorID: flavor.ID,
		ImageID: img.ID, Networks: []cyclades.ServerNetwork{}, Metadata: map[string]string{"role": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Status != cyclades.StatusBuild || created.AdminPass == "" {
		t.Fatalf("created %+v", created)
	}
	wait := &cyclades.WaitOptions{Interval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond}
	s, err := compute.WaitServer(ctx, created.ID, cyclades.StatusBuild, wait)
	if err != nil || s.Status != cyclades.StatusActive {
		t.Fatalf("wait: %+v %v", s, err)
	}
	if s.Metadata["os"] != "debian" || s.Metadata["users"] != "root" || s.Metadata["role"] != "test" || len(s.Volumes) == 0 {
		t.Fatalf("server %+v", s)
	}
	list, err := compute.ListServers(ctx, cyclades.ListOptions{Detail: true})
	if err != nil || len(list) != 1 || list[0].ID != s.ID {
		t.Fatalf("list %+v %v", list, err)
	}

	// Metadata, rename, actions.
	if err := compute.SetServerMetadata(ctx, s.ID, "env", "ci"); err != nil {
		t.Fatal(err)
	}
	if v, err := compute.GetServerMetadataKey(ctx, s.ID, "env"); err != nil || v != "ci" {
		t.Fatalf("meta %q %v", v, err)
	}
	if m, err := compute.UpdateServerMetadata(ctx, s.ID, map[string]string{"a": "1"}); err != nil || m["env"] != "ci" || m["a"] != "1" {
		t.Fatalf("merged %v %v", m, err)
	}
	if err := compute.DeleteServerMetadata(ctx, s.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := compute.GetServerMetadataKey(ctx, s.ID, "a"); synnefo.StatusOf(err) != 404 {
		t.Fatalf("deleted key: %v", err)
	}
	if err := compute.UpdateServerName(ctx, s.ID, "renamed"); err != nil {
		t.Fatal(err)
	}
	if con, err := compute.GetServerConsole(ctx, s.ID, "vnc"); err != nil || con.Type != "vnc" {
		t.Fatalf("console %+v %v", con, err)
	}
	err = compute.StartServer(ctx, s.ID) // already ACTIVE
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Fault != "badRequest" {
		t.Fatalf("start of an ACTIVE server: %#v", err)
	}
	if err := compute.ShutdownServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if s, err = compute.WaitServerUntil(ctx, s.ID, cyclades.StatusStopped, wait); err != nil || s.Name != "renamed" {
		t.Fatalf("stopped: %+v %v", s, err)
	}
	if err := compute.StartServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if s, err = compute.WaitServer(ctx, s.ID, cyclades.StatusStopped, wait); err != nil || s.Status != cyclades.StatusActive {
		t.Fatalf("started: %+v %v", s, err)
	}

	// Networks: a private network with a subnet, a floating IP.
	net, err := network.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Type: cyclades.NetworkMACFiltered, Name: "My private network"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := network.CreateSubnet(ctx, cyclades.CreateSubnetRequest{NetworkID: net.ID, CIDR: "192.168.7.0/24"}); err != nil {
		t.Fatal(err)
	}
	if n, err := network.GetNetwork(ctx, net.ID); err != nil || len(n.Subnets) != 1 || n.Type != cyclades.NetworkMACFiltered {
		t.Fatalf("network %+v %v", n, err)
	}
	nets, err := network.ListNetworks(ctx, true)
	if err != nil || len(nets) < 2 { // ours and the public one
		t.Fatalf("networks %+v %v", nets, err)
	}
	if _, err := network.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Type: cyclades.NetworkPhysicalVLAN}); synnefo.StatusOf(err) != 403 {
		t.Fatalf("PHYSICAL_VLAN: %v", err)
	}
	// A second server on the private network (the seed's "two servers and a private network").
	s2, err := compute.CreateServer(ctx, cyclades.CreateServerRequest{Name: "server 2", FlavorID: flavor.ID, ImageID: img.ID,
		Networks: []cyclades.ServerNetwork{{UUID: net.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if s2, err = compute.WaitServer(ctx, s2.ID, cyclades.StatusBuild, wait); err != nil || s2.Status != cyclades.StatusActive {
		t.Fatalf("server 2: %+v %v", s2, err)
	}
	if len(s2.Attachments) != 1 || s2.Attachments[0].NetworkID != net.ID || s2.Attachments[0].IPv4 == "" {
		t.Fatalf("server 2 attachments %+v", s2.Attachments)
	}
	ports, err := network.ListPorts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var port *cyclades.Port
	for i := range ports {
		if ports[i].DeviceID != nil && *ports[i].DeviceID == strconv.FormatInt(s2.ID, 10) {
			port = &ports[i]
		}
	}
	if port == nil || port.NetworkID != net.ID || len(port.FixedIPs) != 1 {
		t.Fatalf("port of server 2 in %+v", ports)
	}
	if err := network.DeleteNetwork(ctx, net.ID); synnefo.StatusOf(err) != 409 {
		t.Fatalf("deleting a network in use: %v", err)
	}
	if err := compute.DeleteServer(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := compute.WaitServerUntil(ctx, s2.ID, cyclades.StatusDeleted, wait); err != nil {
		t.Fatal(err)
	}

	fip, err := network.CreateFloatingIP(ctx, cyclades.CreateFloatingIPRequest{})
	if err != nil || fip.FloatingIPAddress == "" {
		t.Fatalf("floating ip %+v %v", fip, err)
	}
	if err := network.DeleteFloatingIP(ctx, fip.ID); err != nil {
		t.Fatal(err)
	}
	if err := network.DeleteNetwork(ctx, net.ID); err != nil {
		t.Fatal(err)
	}

	// Block storage: the root volume and a snapshot of it, which is also an image in Pithos.
	vol, err := storage.GetVolume(ctx, strconv.FormatInt(s.Volumes[0], 10))
	if err != nil || len(vol.Attachments) != 1 || vol.Attachments[0].ServerID != s.ID {
		t.Fatalf("volume %+v %v", vol, err)
	}
	snap, err := storage.CreateSnapshot(ctx, vol.ID, "Srv "+strconv.FormatInt(s.ID, 10)+" BackUp", "")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := images.GetMeta(ctx, snap.ID)
	if err != nil || !meta.IsSnapshot {
		t.Fatalf("snapshot meta %+v %v", meta, err)
	}
	loc, err := meta.LocationOf()
	if err != nil || loc.Account != user.UUID || loc.Container != "snapshots" {
		t.Fatalf("snapshot location %+v %v", loc, err)
	}

	// Delete the server and wait for DELETED.
	if err := compute.DeleteServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if s, err = compute.WaitServerUntil(ctx, s.ID, cyclades.StatusDeleted, wait); err != nil || !s.Deleted {
		t.Fatalf("deleted: %+v %v", s, err)
	}
	if _, err := compute.GetServer(ctx, 999999); synnefo.StatusOf(err) != 404 {
		t.Fatalf("unknown server: %v", err)
	}
}
