package cyclades_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

// activeServer creates a server (no networks, tagged "web") from a new image and waits until it is ACTIVE.
func activeServer(t *testing.T, ctx context.Context, cc cloudClients, wait *cyclades.WaitOptions) *cyclades.Server {
	t.Helper()
	img := cc.registerImage(t, ctx, "table.diskdump")
	s, err := cc.compute.CreateServer(ctx, cyclades.CreateServerRequest{Name: "table vm", FlavorID: 1, ImageID: img.ID,
		Networks: []cyclades.ServerNetwork{}, Tags: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if s, err = cc.compute.WaitServerUntil(ctx, s.ID, cyclades.StatusActive, wait); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLocalCloudClientIdentity checks every client's ServiceType and the endpoint its HTTP core uses
// (the catalogue URL with kamaki's version fix-up).
func TestLocalCloudClientIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc := startCloud(t, ctx)
	for _, tt := range []struct {
		serviceType, wantType, endpointSuffix string
		http                                  *synnefo.Client
	}{
		{cc.compute.ServiceType(), "compute", "/cyclades/compute/v2.0", cc.compute.HTTP()},
		{cc.network.ServiceType(), "network", "/cyclades/network/v2.0", cc.network.HTTP()},
		{cc.storage.ServiceType(), "volume", "/cyclades/volume/v2.0", cc.storage.HTTP()},
	} {
		if tt.serviceType != tt.wantType {
			t.Errorf("ServiceType %q, want %q", tt.serviceType, tt.wantType)
		}
		if e := tt.http.Endpoint(); len(e) < len(tt.endpointSuffix) || e[len(e)-len(tt.endpointSuffix):] != tt.endpointSuffix {
			t.Errorf("%s endpoint %q, want …%s", tt.wantType, e, tt.endpointSuffix)
		}
		if tt.http.Token() != cc.user.Token {
			t.Errorf("%s token not the user's", tt.wantType)
		}
	}
}

// TestLocalCloudMetadataActionsVolumes drives whole-metadata reads, the generic Action, a soft reboot,
// an uploaded key pair, a detachable volume's life cycle and changes-since listings.
func TestLocalCloudMetadataActionsVolumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc := startCloud(t, ctx)
	c, bs := cc.compute, cc.storage
	wait := &cyclades.WaitOptions{Interval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	before := time.Now().Add(-time.Second)
	s := activeServer(t, ctx, cc, wait)

	// Metadata as a whole: the image's os/users copied at create, then a merge.
	if m, err := c.GetServerMetadata(ctx, s.ID); err != nil || m["os"] != "debian" || m["users"] != "root" {
		t.Fatalf("metadata %v %v", m, err)
	}
	if _, err := c.UpdateServerMetadata(ctx, s.ID, map[string]string{"env": "ci"}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.GetServerMetadata(ctx, s.ID); err != nil || len(m) != 3 || m["env"] != "ci" {
		t.Fatalf("merged metadata %v %v", m, err)
	}

	// The generic Action: a console (200) and a soft reboot (202) that passes through REBOOT.
	var con struct {
		Console cyclades.Console `json:"console"`
	}
	if err := c.Action(ctx, s.ID, "console", map[string]string{"type": "vnc"}, &con, 200); err != nil || con.Console.Type != "vnc" || con.Console.Port == 0 {
		t.Fatalf("console action %+v %v", con, err)
	}
	// The reboot lasts BuildDelay/2 of the cloud's clock: paused, it cannot end before the GET however slow
	// the machine is (it did, about one run in three under load, with the real clock).
	cc.clock.pause()
	if err := c.RebootServer(ctx, s.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetServer(ctx, s.ID); err != nil || got.Status != cyclades.StatusReboot {
		t.Fatalf("right after a reboot: %+v %v", got, err)
	}
	cc.clock.resume()
	if got, err := c.WaitServer(ctx, s.ID, cyclades.StatusReboot, wait); err != nil || got.Status != cyclades.StatusActive {
		t.Fatalf("after reboot %+v %v", got, err)
	}
	if err := c.Action(ctx, s.ID, "reboot", map[string]string{"type": "WARM"}, nil); synnefo.StatusOf(err) != 400 {
		t.Fatalf("reboot type WARM: %v", err)
	}

	// A key pair uploaded with a public key keeps it and gets a fingerprint.
	gen, err := c.CreateKeypair(ctx, "generated", "")
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.CreateKeypair(ctx, "uploaded", gen.PublicKey)
	if err != nil || up.PrivateKey != "" || up.PublicKey != gen.PublicKey || up.Fingerprint != gen.Fingerprint {
		t.Fatalf("uploaded %+v (generated %+v) %v", up, gen, err)
	}
	if err := c.DeleteKeypair(ctx, "uploaded"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKeypair(ctx, "uploaded"); synnefo.StatusOf(err) != 404 {
		t.Fatalf("deleted keypair: %v", err)
	}

	// A detachable (ext_archipelago) volume made on its own, attached, detached, deleted.
	types, err := bs.ListVolumeTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var detachable int64
	for _, vt := range types {
		if vt.Detachable {
			detachable = vt.ID
		}
	}
	if vt, err := bs.GetVolumeType(ctx, detachable); err != nil || !vt.Detachable {
		t.Fatalf("volume type %+v %v", vt, err)
	}
	vol, err := bs.CreateVolume(ctx, cyclades.CreateVolumeRequest{Size: 2, DisplayName: "spare", VolumeType: detachable})
	if err != nil {
		t.Fatal(err)
	}
	if vol, err = bs.WaitVolume(ctx, vol.ID, "creating", wait); err != nil || vol.Status != "available" || vol.Size != 2 || len(vol.Attachments) != 0 {
		t.Fatalf("new volume %+v %v", vol, err)
	}
	dot := true
	if u, err := bs.UpdateVolume(ctx, vol.ID, cyclades.VolumeUpdate{DeleteOnTermination: &dot}); err != nil || !u.DeleteOnTermination {
		t.Fatalf("delete_on_termination %+v %v", u, err)
	}
	if err := bs.DeleteVolume(ctx, vol.ID); err != nil {
		t.Fatal(err)
	}
	if vol, err = bs.WaitVolumeUntil(ctx, vol.ID, "deleted", wait); err != nil || !vol.Deleted {
		t.Fatalf("deleted volume %+v %v", vol, err)
	}

	// changes-since lists deleted servers too; the plain list does not.
	if err := c.DeleteServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitServerUntil(ctx, s.ID, cyclades.StatusDeleted, wait); err != nil {
		t.Fatal(err)
	}
	if l, err := c.ListServers(ctx, cyclades.ListOptions{}); err != nil || len(l) != 0 {
		t.Fatalf("servers after delete %+v %v", l, err)
	}
	if l, err := c.ListServers(ctx, cyclades.ListOptions{Detail: true, ChangesSince: before}); err != nil || len(l) != 1 || !l[0].Deleted {
		t.Fatalf("changes-since %+v %v", l, err)
	}
}

// TestLocalCloudListForms checks the short and detailed forms of every list call.
func TestLocalCloudListForms(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc := startCloud(t, ctx)
	c, n, bs := cc.compute, cc.network, cc.storage
	wait := &cyclades.WaitOptions{Interval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	s := activeServer(t, ctx, cc, wait)
	net, err := n.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Name: "lists"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreatePort(ctx, cyclades.CreatePortRequest{NetworkID: net.ID, DeviceID: strconv.FormatInt(s.ID, 10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.storage.CreateSnapshot(ctx, strconv.FormatInt(s.Volumes[0], 10), "lists", ""); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		list func(detail bool) (n int, detailed bool, err error)
	}{
		{"servers", func(d bool) (int, bool, error) {
			l, err := c.ListServers(ctx, cyclades.ListOptions{Detail: d})
			return len(l), len(l) > 0 && l[0].Status != "", err
		}},
		{"flavors", func(d bool) (int, bool, error) {
			l, err := c.ListFlavors(ctx, d)
			return len(l), len(l) > 0 && l[0].RAM != 0, err
		}},
		{"images", func(d bool) (int, bool, error) {
			l, err := c.ListImages(ctx, d)
			return len(l), len(l) > 0 && l[0].Status != "", err
		}},
		{"volumes", func(d bool) (int, bool, error) {
			l, err := bs.ListVolumes(ctx, d)
			return len(l), len(l) > 0 && l[0].Status != "", err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			short, shortDetailed, err := tt.list(false)
			if err != nil {
				t.Fatal(err)
			}
			long, longDetailed, err := tt.list(true)
			if err != nil {
				t.Fatal(err)
			}
			if short == 0 || short != long || shortDetailed || !longDetailed {
				t.Fatalf("short %d (detailed %v), detail %d (detailed %v)", short, shortDetailed, long, longDetailed)
			}
		})
	}
	// Networks, ports and snapshots are detailed in both forms (cyclades-api.md §7, §8).
	for _, d := range []bool{false, true} {
		if l, err := n.ListPorts(ctx, d); err != nil || len(l) != 1 || l[0].Status == "" {
			t.Fatalf("ports detail=%v: %+v %v", d, l, err)
		}
		if l, err := n.ListNetworks(ctx, d); err != nil || len(l) < 2 || l[0].Status == "" {
			t.Fatalf("networks detail=%v: %+v %v", d, l, err)
		}
		if l, err := bs.ListSnapshots(ctx, d); err != nil || len(l) != 1 || l[0].Status == "" {
			t.Fatalf("snapshots detail=%v: %+v %v", d, l, err)
		}
	}
}

// TestLocalCloudErrorStatuses checks that refused calls come back as *synnefo.ClientError with the
// status cyclades-api.md gives, and that calls refused before sending carry no status.
func TestLocalCloudErrorStatuses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc := startCloud(t, ctx)
	c, n, bs := cc.compute, cc.network, cc.storage
	wait := &cyclades.WaitOptions{Interval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	s := activeServer(t, ctx, cc, wait)
	root := strconv.FormatInt(s.Volumes[0], 10)
	const missingUUID = "00000000-0000-4000-8000-000000000000"
	net, err := n.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Name: "errors"})
	if err != nil {
		t.Fatal(err)
	}
	fip, err := n.CreateFloatingIP(ctx, cyclades.CreateFloatingIPRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreatePort(ctx, cyclades.CreatePortRequest{NetworkID: fip.FloatingNetworkID, DeviceID: strconv.FormatInt(s.ID, 10),
		FixedIPs: []cyclades.FixedIP{{IPAddress: fip.FloatingIPAddress}}}); err != nil {
		t.Fatal(err)
	}
	name := "renamed"

	for _, tt := range []struct {
		name   string
		call   func() error
		status int // 0: refused by the client before sending
	}{
		{"GetServer unknown", func() error { _, err := c.GetServer(ctx, 999999); return err }, 404},
		{"ShutdownServer unknown", func() error { return c.ShutdownServer(ctx, 999999) }, 404},
		{"StartServer ACTIVE", func() error { return c.StartServer(ctx, s.ID) }, 400},
		{"ResizeServer ACTIVE", func() error { return c.ResizeServer(ctx, s.ID, 2) }, 400},
		{"ReassignServer foreign project", func() error { return c.ReassignServer(ctx, s.ID, missingUUID) }, 403},
		{"SetFirewallProfile bad profile", func() error { return c.SetFirewallProfile(ctx, s.ID, "OPEN", "") }, 400},
		{"GetServerConsole bad type", func() error { _, err := c.GetServerConsole(ctx, s.ID, "telnet"); return err }, 400},
		{"DeleteServerMetadata missing", func() error { return c.DeleteServerMetadata(ctx, s.ID, "nope") }, 404},
		{"GetFlavor unknown", func() error { _, err := c.GetFlavor(ctx, 999); return err }, 404},
		{"GetImage unknown", func() error { _, err := c.GetImage(ctx, missingUUID); return err }, 404},
		{"DeleteImage unknown", func() error { return c.DeleteImage(ctx, missingUUID) }, 404},
		{"CreateServer unknown flavor", func() error {
			_, err := c.CreateServer(ctx, cyclades.CreateServerRequest{Name: "x", FlavorID: 999, ImageID: s.Image.ID, Networks: []cyclades.ServerNetwork{}})
			return err
		}, 404},
		{"GetKeypair unknown", func() error { _, err := c.GetKeypair(ctx, "nope"); return err }, 404},
		{"DeleteKeypair unknown", func() error { return c.DeleteKeypair(ctx, "nope") }, 404},
		{"CreateNetwork unknown type", func() error { _, err := n.CreateNetwork(ctx, cyclades.CreateNetworkRequest{Type: "BOGUS"}); return err }, 0},
		{"GetNetwork unknown", func() error { _, err := n.GetNetwork(ctx, "999999"); return err }, 404},
		{"DeleteNetwork public", func() error { return n.DeleteNetwork(ctx, fip.FloatingNetworkID) }, 403},
		{"CreateSubnet bad CIDR", func() error {
			_, err := n.CreateSubnet(ctx, cyclades.CreateSubnetRequest{NetworkID: net.ID, CIDR: "10.0.0.0/33"})
			return err
		}, 400},
		{"GetSubnet unknown", func() error { _, err := n.GetSubnet(ctx, "999999"); return err }, 404},
		{"GetPort unknown", func() error { _, err := n.GetPort(ctx, "999999"); return err }, 404},
		{"CreatePort unknown network", func() error {
			_, err := n.CreatePort(ctx, cyclades.CreatePortRequest{NetworkID: "999999", DeviceID: strconv.FormatInt(s.ID, 10)})
			return err
		}, 404},
		{"GetFloatingIP unknown", func() error { _, err := n.GetFloatingIP(ctx, "999999"); return err }, 404},
		{"DeleteFloatingIP attached", func() error { return n.DeleteFloatingIP(ctx, fip.ID) }, 409},
		{"GetVolume unknown", func() error { _, err := bs.GetVolume(ctx, "999999"); return err }, 404},
		{"GetVolumeType unknown", func() error { _, err := bs.GetVolumeType(ctx, 999); return err }, 404},
		{"CreateVolume on a foreign server", func() error {
			_, err := bs.CreateVolume(ctx, cyclades.CreateVolumeRequest{Size: 1, DisplayName: "v", ServerID: 999999})
			return err
		}, 404},
		{"UpdateVolume nothing", func() error { _, err := bs.UpdateVolume(ctx, root, cyclades.VolumeUpdate{}); return err }, 400},
		{"UpdateSnapshot unknown", func() error { _, err := bs.UpdateSnapshot(ctx, missingUUID, &name, nil); return err }, 404},
		{"GetSnapshot unknown", func() error { _, err := bs.GetSnapshot(ctx, missingUUID); return err }, 404},
		{"CreateSnapshot unknown volume", func() error { _, err := bs.CreateSnapshot(ctx, "999999", "x", ""); return err }, 400}, // not 404 (§8)
		{"ReassignVolume foreign project", func() error { return bs.ReassignVolume(ctx, root, missingUUID) }, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			var ce *synnefo.ClientError
			if tt.status == 0 {
				if synnefo.StatusOf(err) != 0 {
					t.Fatalf("sent to the server: %v", err)
				}
				return
			}
			// A route the server lacks is a 400 too: make sure the refusal is about the call.
			if !errors.As(err, &ce) || ce.Status != tt.status || ce.Fault == "" || ce.Message == "API endpoint not found" {
				t.Fatalf("got %v, want a %d ClientError with a fault", err, tt.status)
			}
		})
	}
}
