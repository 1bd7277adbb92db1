package cyclades_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

type cloudClients struct {
	user    localcloudtest.User
	compute *cyclades.ComputeClient
	network *cyclades.NetworkClient
	storage *cyclades.BlockStorageClient
	images  *image.Client
	objects *synnefo.Client
	clock   *pausableClock
}

// pausableClock is the cloud's clock: the real time, except while paused, when it stands still (so a task
// that lasts BuildDelay/2 cannot end, however slow the machine, until resume).
type pausableClock struct {
	mu     sync.Mutex
	paused *time.Time
}

func (c *pausableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused != nil {
		return *c.paused
	}
	return time.Now()
}

func (c *pausableClock) pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.paused = &now
}

func (c *pausableClock) resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = nil
}

func startCloud(t *testing.T, ctx context.Context) cloudClients {
	t.Helper()
	clock := &pausableClock{}
	srv := localcloudtest.NewConfig(t, localcloudtest.Config{BuildDelay: 100 * time.Millisecond, Now: clock.now})
	user := srv.User()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	ident, err := astakos.New(srv.IdentityURL(), user.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	url := func(st string) string {
		u, err := ident.EndpointURL(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	cc := cloudClients{user: user, clock: clock}
	if cc.compute, err = cyclades.NewCompute(url(cyclades.ComputeServiceType), user.Token, opts); err != nil {
		t.Fatal(err)
	}
	if cc.network, err = cyclades.NewNetwork(url(cyclades.NetworkServiceType), user.Token, opts); err != nil {
		t.Fatal(err)
	}
	if cc.storage, err = cyclades.NewBlockStorage(url(cyclades.VolumeServiceType), user.Token, opts); err != nil {
		t.Fatal(err)
	}
	if cc.images, err = image.New(url(image.ServiceType), user.Token, opts); err != nil {
		t.Fatal(err)
	}
	if cc.objects, err = synnefo.NewClient(url("object-store"), user.Token, opts); err != nil {
		t.Fatal(err)
	}
	return cc
}

// registerImage uploads a small object and registers it.
func (cc cloudClients) registerImage(t *testing.T, ctx context.Context, name string) *image.Meta {
	t.Helper()
	for _, p := range []string{"/" + cc.user.UUID + "/images", "/" + cc.user.UUID + "/images/" + name} {
		body := ""
		if strings.HasSuffix(p, name) {
			body = "image bytes of " + name
		}
		resp, err := cc.objects.Do(ctx, &synnefo.Request{Method: http.MethodPut, Path: p, Body: strings.NewReader(body),
			Header: http.Header{"Content-Type": {"application/octet-stream"}}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	m, err := cc.images.Register(ctx, name, image.Location{Account: cc.user.UUID, Container: "images", Path: name},
		image.RegisterOptions{Properties: map[string]string{"OSFAMILY": "linux", "ROOT_PARTITION": "1", "OS": "debian", "USERS": "root"}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMoreMethodsAgainstLocalCloud covers the methods TestAgainstLocalCloud does not.
func TestMoreMethodsAgainstLocalCloud(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc := startCloud(t, ctx)
	c, n, bs := cc.compute, cc.network, cc.storage
	wait := &cyclades.WaitOptions{Interval: 30 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	img := cc.registerImage(t, ctx, "base.diskdump")

	// Keypairs.
	gen, err := c.CreateKeypair(ctx, "gen", "")
	if err != nil || gen.PrivateKey == "" || gen.PublicKey == "" {
		t.Fatalf("generated keypair %+v %v", gen, err)
	}
	if _, err := c.CreateKeypair(ctx, "gen", ""); synnefo.StatusOf(err) != 409 {
		t.Fatalf("duplicate keypair: %v", err)
	}
	if k, err := c.GetKeypair(ctx, "gen"); err != nil || k.PublicKey != gen.PublicKey {
		t.Fatalf("keypair %+v %v", k, err)
	}
	if ks, err := c.ListKeypairs(ctx); err != nil || len(ks) != 1 || ks[0].Name != "gen" {
		t.Fatalf("keypairs %+v %v", ks, err)
	}

	// Flavor filters and the compute image list.
	pub := true
	fl, err := c.ListFlavorsFiltered(ctx, cyclades.FlavorFilter{Detail: true, IsPublic: &pub})
	if err != nil || len(fl) == 0 {
		t.Fatalf("flavors %v %v", fl, err)
	}
	var small, big cyclades.Flavor
	for _, f := range fl {
		if strings.HasPrefix(f.DiskTemplate, "ext_") {
			if small.ID == 0 {
				small = f
			} else if big.ID == 0 && f.VolumeType == small.VolumeType {
				big = f
			}
		}
	}
	if ims, err := c.ListImages(ctx, false); err != nil || len(ims) != 1 || ims[0].ID != img.ID {
		t.Fatalf("compute images %+v %v", ims, err)
	}

	s, err := c.CreateServer(ctx, cyclades.CreateServerRequest{Name: "vm", FlavorID: small.ID, ImageID: img.ID,
		KeyNames: []string{"gen"}, Tags: []string{"web"}, Networks: []cyclades.ServerNetwork{}})
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := c.GetServerPassword(ctx, s.ID); err != nil || pw != s.AdminPass {
		t.Fatalf("password %q (create said %q) %v", pw, s.AdminPass, err)
	}
	if err := c.DeleteServerPassword(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetServerPassword(ctx, s.ID); synnefo.StatusOf(err) != 404 {
		t.Fatalf("deleted password: %v", err)
	}
	if s, err = c.WaitServer(ctx, s.ID, "", wait); err != nil || s.Status != cyclades.StatusActive {
		t.Fatalf("build %+v %v", s, err)
	}
	if s.KeyName != "gen" {
		t.Fatalf("key name %q", s.KeyName)
	}
	if tags, err := c.ListServerTags(ctx, s.ID); err != nil || len(tags.Tags) != 1 || tags.Tags[0] != "web" {
		t.Fatalf("tags %+v %v", tags, err)
	}
	if st, err := c.GetServerStats(ctx, s.ID); err != nil || st["refresh"] == nil {
		t.Fatalf("stats %v %v", st, err)
	}
	if _, err := c.GetServerDiagnostics(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if nics, err := c.GetServerNICs(ctx, s.ID); err != nil || len(nics.Attachments) != 0 {
		t.Fatalf("nics %+v %v", nics, err)
	}
	if va, err := c.ListVolumeAttachments(ctx, s.ID); err != nil || len(va) != 1 {
		t.Fatalf("volume attachments %+v %v", va, err)
	}
	if err := c.RebootServer(ctx, s.ID, true); err != nil {
		t.Fatal(err)
	}
	if s, err = c.WaitServerUntil(ctx, s.ID, cyclades.StatusActive, wait); err != nil {
		t.Fatal(err)
	}
	if err := c.ReassignServer(ctx, s.ID, s.TenantID); err != nil {
		t.Fatal(err)
	}

	// Stop it, resize it, attach a port on a private network.
	if err := c.ShutdownServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if s, err = c.WaitServerUntil(ctx, s.ID, cyclades.StatusStopped, wait); err != nil {
		t.Fatal(err)
	}
	// Every flavor of another disk size is refused (cyclades-api.md §3.7): the fault reaches us parsed.
	if big.ID == 0 || big.Disk == small.Disk {
		t.Fatalf("no flavor of another disk size among %+v", fl)
	}
	if err := c.ResizeServer(ctx, s.ID, big.ID); synnefo.StatusOf(err) != 400 || !strings.Contains(err.Error(), "badRequest") {
		t.Fatalf("resize to another disk size: %v", err)
	}
	net, err := n.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Name: "priv"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := n.CreateSubnet(ctx, cyclades.CreateSubnetRequest{NetworkID: net.ID, CIDR: "10.9.0.0/24", Name: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	if subs, err := n.ListSubnets(ctx); err != nil || len(subs) == 0 {
		t.Fatalf("subnets %+v %v", subs, err)
	}
	if g, err := n.GetSubnet(ctx, sub.ID); err != nil || g.CIDR != "10.9.0.0/24" || g.GatewayIP == nil || *g.GatewayIP != "10.9.0.1" {
		t.Fatalf("subnet %+v %v", g, err)
	}
	if u, err := n.UpdateSubnet(ctx, sub.ID, "renamed"); err != nil || u.Name != "renamed" {
		t.Fatalf("subnet rename %+v %v", u, err)
	}
	if err := n.DeleteSubnet(ctx, sub.ID); synnefo.StatusOf(err) != 400 {
		t.Fatalf("subnet delete: %v", err)
	}
	if u, err := n.UpdateNetwork(ctx, net.ID, "priv2"); err != nil || u.Name != "priv2" {
		t.Fatalf("network rename %+v %v", u, err)
	}
	if err := n.ReassignNetwork(ctx, net.ID, s.TenantID); err != nil {
		t.Fatal(err)
	}
	port, err := n.CreatePort(ctx, cyclades.CreatePortRequest{NetworkID: net.ID, DeviceID: strconv.FormatInt(s.ID, 10), Name: "eth1"})
	if err != nil {
		t.Fatal(err)
	}
	if port, err = n.WaitPort(ctx, port.ID, "BUILD", wait); err != nil || port.Status == "BUILD" {
		t.Fatalf("port %+v %v", port, err)
	}
	if p, err := n.GetPort(ctx, port.ID); err != nil || p.NetworkID != net.ID {
		t.Fatalf("port %+v %v", p, err)
	}
	if err := c.SetFirewallProfile(ctx, s.ID, "PROTECTED", port.ID); err != nil {
		t.Fatal(err)
	}
	if u, err := n.UpdatePort(ctx, port.ID, "eth1b"); err != nil || u.Name != "eth1b" {
		t.Fatalf("port rename %+v %v", u, err)
	}
	if ps, err := n.ListPorts(ctx, false); err != nil || len(ps) == 0 {
		t.Fatalf("ports %+v %v", ps, err)
	}
	if err := n.DeletePort(ctx, port.ID); err != nil {
		t.Fatal(err)
	}

	// Floating IPs.
	fip, err := n.CreateFloatingIP(ctx, cyclades.CreateFloatingIPRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if fs, err := n.ListFloatingIPs(ctx); err != nil || len(fs) != 1 {
		t.Fatalf("floating ips %+v %v", fs, err)
	}
	if g, err := n.GetFloatingIP(ctx, fip.ID); err != nil || g.FloatingIPAddress != fip.FloatingIPAddress {
		t.Fatalf("floating ip %+v %v", g, err)
	}
	if err := n.ReassignFloatingIP(ctx, fip.ID, s.TenantID); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteFloatingIP(ctx, fip.ID); err != nil {
		t.Fatal(err)
	}

	// Volumes: types, create one attached to the server, update, delete.
	types, err := bs.ListVolumeTypes(ctx)
	if err != nil || len(types) == 0 {
		t.Fatalf("types %+v %v", types, err)
	}
	if vt, err := bs.GetVolumeType(ctx, types[0].ID); err != nil || vt.Name != types[0].Name {
		t.Fatalf("type %+v %v", vt, err)
	}
	vol, err := bs.CreateVolume(ctx, cyclades.CreateVolumeRequest{Size: 1, DisplayName: "data", ServerID: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	if vol, err = bs.WaitVolume(ctx, vol.ID, "creating", wait); err != nil || vol.Status == "creating" || vol.Status == "error" {
		t.Fatalf("volume %+v %v", vol, err)
	}
	desc := "scratch"
	if u, err := bs.UpdateVolume(ctx, vol.ID, cyclades.VolumeUpdate{DisplayDescription: &desc}); err != nil || u.DisplayDescription != "scratch" {
		t.Fatalf("volume update %+v %v", u, err)
	}
	if vs, err := bs.ListVolumes(ctx, true); err != nil || len(vs) != 2 {
		t.Fatalf("volumes %+v %v", vs, err)
	}
	if err := bs.ReassignVolume(ctx, vol.ID, s.TenantID); err != nil {
		t.Fatal(err)
	}
	if err := bs.DeleteVolume(ctx, vol.ID); err != nil {
		t.Fatal(err)
	}

	// Snapshots of the root volume.
	root := strconv.FormatInt(s.Volumes[0], 10)
	snap, err := bs.CreateSnapshot(ctx, root, "nightly", "desc")
	if err != nil {
		t.Fatal(err)
	}
	if g, err := bs.GetSnapshot(ctx, snap.ID); err != nil || g.DisplayName != "nightly" || g.VolumeID != root {
		t.Fatalf("snapshot %+v %v", g, err)
	}
	if l, err := bs.ListSnapshots(ctx, true); err != nil || len(l) != 1 {
		t.Fatalf("snapshots %+v %v", l, err)
	}
	newName := "weekly"
	if u, err := bs.UpdateSnapshot(ctx, snap.ID, &newName, nil); err != nil || u.DisplayName != "weekly" {
		t.Fatalf("snapshot update %+v %v", u, err)
	}
	if err := bs.DeleteSnapshot(ctx, snap.ID); err != nil {
		t.Fatal(err)
	}

	// Clean up through the compute API.
	if err := c.DeleteServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitServerUntil(ctx, s.ID, cyclades.StatusDeleted, wait); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKeypair(ctx, "gen"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetImage(ctx, img.ID); synnefo.StatusOf(err) != 404 {
		t.Fatalf("deleted image: %v", err)
	}
}
