package cyclades

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

const serverDetail = `{"id": 42, "name": "web1",
  "links": [{"rel": "self", "href": "https://c.example.org/cyclades/compute/v2.0/servers/42"}, {"rel": "bookmark", "href": "https://c.example.org/cyclades/compute/v2.0/servers/42"}],
  "user_id": "u-1", "tenant_id": "p-1", "shared_to_project": false, "status": "ACTIVE", "SNF:task_state": "",
  "progress": 100, "hostId": "", "created": "2014-02-12T08:31:37.834542+00:00", "updated": "2014-02-12T08:32:37+00:00",
  "flavor": {"id": 3, "links": []}, "image": {"id": "b7b2c0de-0000-4000-8000-000000000001", "links": []},
  "suspended": false, "metadata": {"os": "debian", "users": "root"}, "tags": ["web"],
  "attachments": [{"id": 7, "network_id": "12", "mac_address": "aa:00:00:11:22:33", "ipv4": "10.0.0.2", "ipv6": "", "OS-EXT-IPS:type": "fixed", "firewallProfile": "DISABLED"}],
  "addresses": {"12": [{"version": 4, "addr": "10.0.0.2", "OS-EXT-IPS:type": "fixed"}]},
  "volumes": [5], "diagnostics": [], "security_groups": [{"name": "default"}], "key_name": null, "SNF:key_names": [],
  "config_drive": "", "accessIPv4": "", "accessIPv6": "", "SNF:fqdn": "snf-42.vm.example.synnefo.org",
  "SNF:port_forwarding": {}, "deleted": false, "SNF:rescue": false}`

const imageDetail = `{"id": "b7b2c0de-0000-4000-8000-000000000001", "name": "Debian Base", "created": "2018-03-01T10:22:07+00:00",
  "updated": "2018-03-01T10:22:07+00:00", "status": "ACTIVE", "progress": 100, "user_id": "u-1", "tenant_id": "u-1",
  "public": true, "links": [], "metadata": {"os": "debian", "users": "root user", "osfamily": "linux"}, "is_snapshot": false}`

const flavorDetail = `{"id": 3, "name": "C2R2048D20drbd", "ram": 2048, "vcpus": 2, "disk": 20, "SNF:disk_template": "drbd",
  "SNF:volume_type": 1, "SNF:allow_create": true, "os-flavor-access:is_public": true, "SNF:flavor-access": [], "links": []}`

func TestComputeRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		script []exchange
		call   func(*ComputeClient) (any, error)
		want   any
	}{
		{"list servers", []exchange{{"GET", "/servers", "", "", 200, `{"servers": [{"id": 42, "name": "web1", "links": []}]}`}},
			func(c *ComputeClient) (any, error) { return c.ListServers(ctx, ListOptions{}) },
			[]Server{{ID: 42, Name: "web1", Links: []Link{}}}},
		{"list servers detail changes-since 304", []exchange{{"GET", "/servers/detail", "changes-since=2024-01-02T03%3A04%3A05Z", "", 304, ""}},
			func(c *ComputeClient) (any, error) {
				s, err := c.ListServers(ctx, ListOptions{Detail: true, ChangesSince: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
				return len(s), err
			}, 0},
		{"get server", []exchange{{"GET", "/servers/42", "", "", 200, `{"server": ` + serverDetail + `}`}},
			func(c *ComputeClient) (any, error) {
				s, err := c.GetServer(ctx, 42)
				if err != nil {
					return nil, err
				}
				return []any{s.ID, s.Status, s.Flavor.ID, s.Image.ID, s.Metadata["os"], s.Attachments[0].NetworkID, s.Addresses["12"][0].Addr, s.Volumes, s.FQDN, s.KeyName}, nil
			}, []any{int64(42), "ACTIVE", int64(3), "b7b2c0de-0000-4000-8000-000000000001", "debian", "12", "10.0.0.2", []int64{5}, "snf-42.vm.example.synnefo.org", ""}},
		{"create server copies os/users", []exchange{
			{"GET", "/images/b7b2c0de-0000-4000-8000-000000000001", "", "", 200, `{"image": ` + imageDetail + `}`},
			{"POST", "/servers", "", `{"server": {"name": "web1", "flavorRef": 3, "imageRef": "b7b2c0de-0000-4000-8000-000000000001",
				"metadata": {"os": "debian", "users": "admin"}, "networks": [], "SNF:key_names": ["laptop"], "project": "p-1",
				"personality": [{"path": "/etc/motd", "contents": "aGVsbG8=", "mode": 384}], "user_data": "I2Nsb3VkLWNvbmZpZw=="}}`,
				202, `{"server": ` + strings.Replace(serverDetail, `"status": "ACTIVE"`, `"status": "BUILD", "adminPass": "Xy12abcdEF"`, 1) + `}`}},
			func(c *ComputeClient) (any, error) {
				s, err := c.CreateServer(ctx, CreateServerRequest{Name: "web1", FlavorID: 3, ImageID: "b7b2c0de-0000-4000-8000-000000000001",
					Metadata: map[string]string{"users": "admin"}, Networks: []ServerNetwork{}, KeyNames: []string{"laptop"}, Project: "p-1",
					Personality: []PersonalityFile{{Path: "/etc/motd", Contents: []byte("hello"), Mode: 0o600}}, UserData: []byte("#cloud-config")})
				if err != nil {
					return nil, err
				}
				return []string{s.Status, s.AdminPass}, nil
			}, []string{"BUILD", "Xy12abcdEF"}},
		{"create server default networks, private net", []exchange{
			{"POST", "/servers", "", `{"server": {"name": "s", "flavorRef": 1, "imageRef": "img", "networks": [{"uuid": "12"}, {"port": "p9"}]}}`, 202, `{"server": {"id": 43, "name": "s", "status": "BUILD"}}`},
			{"POST", "/servers", "", `{"server": {"name": "s", "flavorRef": 1, "imageRef": "img"}}`, 202, `{"server": {"id": 44, "name": "s", "status": "BUILD"}}`}},
			func(c *ComputeClient) (any, error) {
				a, err := c.CreateServer(ctx, CreateServerRequest{Name: "s", FlavorID: 1, ImageID: "img", SkipImageMetadata: true,
					Networks: []ServerNetwork{{UUID: "12"}, {Port: "p9"}}})
				if err != nil {
					return nil, err
				}
				b, err := c.CreateServer(ctx, CreateServerRequest{Name: "s", FlavorID: 1, ImageID: "img", SkipImageMetadata: true})
				if err != nil {
					return nil, err
				}
				return []int64{a.ID, b.ID}, nil
			}, []int64{43, 44}},
		{"rename", []exchange{{"PUT", "/servers/42", "", `{"server": {"name": "new"}}`, 204, ""}},
			func(c *ComputeClient) (any, error) { return nil, c.UpdateServerName(ctx, 42, "new") }, nil},
		{"delete", []exchange{{"DELETE", "/servers/42", "", "", 204, ""}},
			func(c *ComputeClient) (any, error) { return nil, c.DeleteServer(ctx, 42) }, nil},
		{"actions", []exchange{
			{"POST", "/servers/42/action", "", `{"start": {}}`, 202, ""},
			{"POST", "/servers/42/action", "", `{"shutdown": {}}`, 202, ""},
			{"POST", "/servers/42/action", "", `{"reboot": {"type": "SOFT"}}`, 202, ""},
			{"POST", "/servers/42/action", "", `{"reboot": {"type": "HARD"}}`, 202, ""},
			{"POST", "/servers/42/action", "", `{"resize": {"flavorRef": 4}}`, 202, ""},
			{"POST", "/servers/42/action", "", `{"firewallProfile": {"profile": "ENABLED", "nic": "7"}}`, 202, ""},
			{"POST", "/servers/42/action", "", `{"reassign": {"project": "p-2"}}`, 200, ""}},
			func(c *ComputeClient) (any, error) {
				return nil, errors.Join(c.StartServer(ctx, 42), c.ShutdownServer(ctx, 42), c.RebootServer(ctx, 42, false),
					c.RebootServer(ctx, 42, true), c.ResizeServer(ctx, 42, 4), c.SetFirewallProfile(ctx, 42, "ENABLED", "7"),
					c.ReassignServer(ctx, 42, "p-2"))
			}, nil},
		{"console", []exchange{{"POST", "/servers/42/action", "", `{"console": {"type": "vnc"}}`, 200,
			`{"console": {"type": "vnc", "host": "vnc.example.org", "port": 5901, "password": "pw"}}`}},
			func(c *ComputeClient) (any, error) { return c.GetServerConsole(ctx, 42, "") },
			&Console{Type: "vnc", Host: "vnc.example.org", Port: 5901, Password: "pw"}},
		{"metadata", []exchange{
			{"GET", "/servers/42/metadata", "", "", 200, `{"metadata": {"os": "debian"}}`},
			{"GET", "/servers/42/metadata/os", "", "", 200, `{"meta": {"os": "debian"}}`},
			{"PUT", "/servers/42/metadata/role", "", `{"meta": {"role": "web"}}`, 201, `{"meta": {"role": "web"}}`},
			{"POST", "/servers/42/metadata", "", `{"metadata": {"a": "1"}}`, 201, `{"metadata": {"os": "debian", "role": "web", "a": "1"}}`},
			{"DELETE", "/servers/42/metadata/a", "", "", 204, ""}},
			func(c *ComputeClient) (any, error) {
				all, err1 := c.GetServerMetadata(ctx, 42)
				one, err2 := c.GetServerMetadataKey(ctx, 42, "os")
				err3 := c.SetServerMetadata(ctx, 42, "role", "web")
				merged, err4 := c.UpdateServerMetadata(ctx, 42, map[string]string{"a": "1"})
				err5 := c.DeleteServerMetadata(ctx, 42, "a")
				return []any{all, one, len(merged)}, errors.Join(err1, err2, err3, err4, err5)
			}, []any{map[string]string{"os": "debian"}, "debian", 3}},
		{"ips", []exchange{{"GET", "/servers/42/ips", "", "", 200, `{"addresses": {"12": [{"version": 4, "addr": "10.0.0.2", "OS-EXT-IPS:type": "fixed"}]}, "attachments": []}`}},
			func(c *ComputeClient) (any, error) {
				n, err := c.GetServerNICs(ctx, 42)
				if err != nil {
					return nil, err
				}
				return n.Addresses["12"][0], nil
			}, Address{Version: 4, Addr: "10.0.0.2", Type: "fixed"}},
		{"flavors", []exchange{
			{"GET", "/flavors/detail", "", "", 200, `{"flavors": [` + flavorDetail + `]}`},
			{"GET", "/flavors", "", "", 200, `{"flavors": [{"id": 3, "name": "C2R2048D20drbd", "links": []}]}`},
			{"GET", "/flavors/3", "", "", 200, `{"flavor": ` + flavorDetail + `}`}},
			func(c *ComputeClient) (any, error) {
				d, err1 := c.ListFlavors(ctx, true)
				s, err2 := c.ListFlavors(ctx, false)
				f, err3 := c.GetFlavor(ctx, 3)
				if err := errors.Join(err1, err2, err3); err != nil {
					return nil, err
				}
				return []any{d[0].RAM, d[0].DiskTemplate, d[0].AllowCreate, s[0].Name, f.VCPUs, f.VolumeType}, nil
			}, []any{2048, "drbd", true, "C2R2048D20drbd", 2, int64(1)}},
		{"images", []exchange{
			{"GET", "/images/detail", "", "", 200, `{"images": [` + imageDetail + `]}`},
			{"GET", "/images", "", "", 200, `{"images": [{"id": "b7b2c0de-0000-4000-8000-000000000001", "name": "Debian Base"}]}`},
			{"DELETE", "/images/b7b2c0de-0000-4000-8000-000000000001", "", "", 204, ""}},
			func(c *ComputeClient) (any, error) {
				d, err1 := c.ListImages(ctx, true)
				s, err2 := c.ListImages(ctx, false)
				err3 := c.DeleteImage(ctx, "b7b2c0de-0000-4000-8000-000000000001")
				if err := errors.Join(err1, err2, err3); err != nil {
					return nil, err
				}
				return []any{d[0].Metadata["osfamily"], d[0].Public, s[0].Name}, nil
			}, []any{"linux", true, "Debian Base"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, fake := newScripted(t, "/cyclades/compute/v2.0", tt.script)
			c, err := NewCompute(srv.URL+"/cyclades/compute/v2.0/", testToken, testOpts())
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
			fake.done()
		})
	}
}

func TestComputeFaults(t *testing.T) {
	ctx := context.Background()
	srv, fake := newScripted(t, "/cyclades/compute/v2.0", []exchange{
		{"GET", "/servers/99", "", "", 404, `{"itemNotFound": {"code": 404, "message": "Server not found.", "details": ""}}`},
		{"POST", "/servers/42/action", "", `{"start": {}}`, 409, `{"buildInProgress": {"code": 409, "message": "Server is being built.", "details": ""}}`},
		{"POST", "/servers", "", `{"server": {"name": "s", "flavorRef": 1, "imageRef": "i"}}`, 503, `{"serviceUnavailable": {"code": 503, "message": "No backend", "details": ""}}`},
	})
	c, err := NewCompute(srv.URL+"/cyclades/compute/v2.0", testToken, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetServer(ctx, 99)
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 404 || ce.Fault != "itemNotFound" || ce.Message != "Server not found." {
		t.Fatalf("%#v", err)
	}
	if err := c.StartServer(ctx, 42); synnefo.StatusOf(err) != 409 || !strings.Contains(err.Error(), "buildInProgress") {
		t.Fatalf("%v", err)
	}
	// A 503 on create is returned, not retried (the script would fail on a second POST).
	if _, err := c.CreateServer(ctx, CreateServerRequest{Name: "s", FlavorID: 1, ImageID: "i", SkipImageMetadata: true}); synnefo.StatusOf(err) != 503 {
		t.Fatalf("%v", err)
	}
	fake.done()
}

func TestWaitServer(t *testing.T) {
	ctx := context.Background()
	build := `{"server": {"id": 42, "name": "s", "status": "BUILD", "progress": 30}}`
	active := `{"server": {"id": 42, "name": "s", "status": "ACTIVE", "progress": 100}}`
	srv, fake := newScripted(t, "/cyclades/compute/v2.0", []exchange{
		{"GET", "/servers/42", "", "", 200, build},
		{"GET", "/servers/42", "", "", 200, build},
		{"GET", "/servers/42", "", "", 200, active},
		// WaitServerUntil ACTIVE sees ERROR and stops.
		{"GET", "/servers/42", "", "", 200, build},
		{"GET", "/servers/42", "", "", 200, `{"server": {"id": 42, "name": "s", "status": "ERROR"}}`},
	})
	c, err := NewCompute(srv.URL+"/cyclades/compute/v2.0", testToken, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	opts := &WaitOptions{Interval: 5 * time.Millisecond, OnPoll: func(s string) { seen = append(seen, s) }}
	s, err := c.WaitServer(ctx, 42, "", opts)
	if err != nil || s.Status != "ACTIVE" || !reflect.DeepEqual(seen, []string{"BUILD", "BUILD", "ACTIVE"}) {
		t.Fatalf("%+v %v %v", s, err, seen)
	}
	s, err = c.WaitServerUntil(ctx, 42, "ACTIVE", opts)
	if err == nil || s == nil || s.Status != "ERROR" {
		t.Fatalf("until: %+v %v", s, err)
	}
	fake.done()
}

func TestWaitServerHonoursDeadline(t *testing.T) {
	script := make([]exchange, 0, 100)
	for range 100 {
		script = append(script, exchange{"GET", "/servers/42", "", "", 200, `{"server": {"id": 42, "name": "s", "status": "BUILD"}}`})
	}
	srv, _ := newScripted(t, "/cyclades/compute/v2.0", script)
	c, err := NewCompute(srv.URL+"/cyclades/compute/v2.0", testToken, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := c.WaitServer(ctx, 42, "BUILD", &WaitOptions{Interval: 20 * time.Millisecond, MaxInterval: 50 * time.Millisecond})
	if el := time.Since(start); el > time.Second {
		t.Fatalf("wait ran %v past a 200ms deadline", el)
	}
	var ce *synnefo.ClientError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ce) || s == nil || s.Status != "BUILD" {
		t.Fatalf("%+v %v", s, err)
	}
}
