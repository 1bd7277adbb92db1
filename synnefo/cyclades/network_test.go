package cyclades

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

const networkDetail = `{"id": "12", "name": "My private network", "links": [], "user_id": "u-1", "tenant_id": "p-1",
  "shared_to_project": false, "type": "MAC_FILTERED", "created": "2014-02-12T08:31:37+00:00", "updated": "2014-02-12T08:31:37+00:00",
  "status": "ACTIVE", "public": false, "shared": false, "router:external": false, "admin_state_up": true, "subnets": ["21"],
  "SNF:floating_ip_pool": false, "deleted": false}`

const subnetDetail = `{"id": "21", "network_id": "12", "name": "sn", "tenant_id": "u-1", "user_id": "u-1", "public": false,
  "gateway_ip": null, "ip_version": 4, "cidr": "192.168.0.0/24", "enable_dhcp": true, "dns_nameservers": [], "host_routes": [],
  "allocation_pools": [{"start": "192.168.0.2", "end": "192.168.0.254"}], "deleted": false, "links": []}`

const portDetail = `{"id": "31", "name": "", "links": [], "user_id": "u-1", "tenant_id": "u-1", "device_id": "42",
  "admin_state_up": true, "mac_address": "aa:00:00:11:22:33", "status": "ACTIVE", "device_owner": "vm", "network_id": "12",
  "created": "2014-02-12T08:31:37+00:00", "updated": "2014-02-12T08:31:37+00:00",
  "fixed_ips": [{"ip_address": "192.168.0.2", "subnet": "21"}], "security_groups": []}`

const fipDetail = `{"id": "51", "floating_ip_address": "83.212.0.5", "floating_network_id": "2", "fixed_ip_address": null,
  "port_id": null, "instance_id": null, "user_id": "u-1", "tenant_id": "u-1", "shared_to_project": false, "deleted": false}`

func TestNetworkRequests(t *testing.T) {
	ctx := context.Background()
	dhcp := true
	tests := []struct {
		name   string
		script []exchange
		call   func(*NetworkClient) (any, error)
		want   any
	}{
		{"networks", []exchange{
			{"GET", "/networks", "", "", 200, `{"networks": [` + networkDetail + `]}`},
			{"GET", "/networks/detail", "", "", 200, `{"networks": [` + networkDetail + `]}`},
			{"GET", "/networks/12", "", "", 200, `{"network": ` + networkDetail + `}`},
			{"POST", "/networks", "", `{"network": {"type": "MAC_FILTERED", "admin_state_up": true, "name": "My private network"}}`, 201, `{"network": ` + networkDetail + `}`},
			{"POST", "/networks", "", `{"network": {"type": "IP_LESS_ROUTED", "admin_state_up": true, "project": "p-2", "shared_to_project": true}}`, 201, `{"network": ` + networkDetail + `}`},
			{"PUT", "/networks/12", "", `{"network": {"name": "renamed"}}`, 200, `{"network": ` + networkDetail + `}`},
			{"POST", "/networks/12/action", "", `{"reassign": {"project": "p-2"}}`, 200, ""},
			{"DELETE", "/networks/12", "", "", 204, ""}},
			func(c *NetworkClient) (any, error) {
				l, err1 := c.ListNetworks(ctx, false)
				d, err2 := c.ListNetworks(ctx, true)
				g, err3 := c.GetNetwork(ctx, "12")
				n, err4 := c.CreateNetwork(ctx, CreateNetworkRequest{Name: "My private network"})
				_, err5 := c.CreateNetwork(ctx, CreateNetworkRequest{Type: NetworkIPLessRouted, Project: "p-2", SharedToProject: true})
				_, err6 := c.UpdateNetwork(ctx, "12", "renamed")
				err7 := c.ReassignNetwork(ctx, "12", "p-2")
				err8 := c.DeleteNetwork(ctx, "12")
				if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
					return nil, err
				}
				return []any{l[0].ID, d[0].Type, g.Subnets, n.AdminStateUp, n.Status}, nil
			}, []any{"12", "MAC_FILTERED", []string{"21"}, true, "ACTIVE"}},
		{"subnets", []exchange{
			{"GET", "/subnets", "", "", 200, `{"subnets": [` + subnetDetail + `]}`},
			{"GET", "/subnets/21", "", "", 200, `{"subnet": ` + subnetDetail + `}`},
			{"POST", "/subnets", "", `{"subnet": {"network_id": "12", "cidr": "192.168.0.0/24", "name": "sn", "ip_version": 4, "gateway_ip": null, "enable_dhcp": true,
				"allocation_pools": [{"start": "192.168.0.2", "end": "192.168.0.254"}]}}`, 201, `{"subnet": ` + subnetDetail + `}`},
			{"POST", "/subnets", "", `{"subnet": {"network_id": "12", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.254"}}`, 201, `{"subnet": ` + subnetDetail + `}`},
			{"PUT", "/subnets/21", "", `{"subnet": {"name": "x"}}`, 200, `{"subnet": ` + subnetDetail + `}`},
			{"DELETE", "/subnets/21", "", "", 400, `{"badRequest": {"code": 400, "message": "Deletion of a subnet is not supported", "details": ""}}`}},
			func(c *NetworkClient) (any, error) {
				l, err1 := c.ListSubnets(ctx)
				g, err2 := c.GetSubnet(ctx, "21")
				_, err3 := c.CreateSubnet(ctx, CreateSubnetRequest{NetworkID: "12", CIDR: "192.168.0.0/24", Name: "sn", IPVersion: 4, NoGateway: true,
					EnableDHCP: &dhcp, AllocationPools: []AllocationPool{{"192.168.0.2", "192.168.0.254"}}})
				_, err4 := c.CreateSubnet(ctx, CreateSubnetRequest{NetworkID: "12", CIDR: "10.0.0.0/24", GatewayIP: "10.0.0.254"})
				_, err5 := c.UpdateSubnet(ctx, "21", "x")
				err6 := c.DeleteSubnet(ctx, "21")
				if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
					return nil, err
				}
				return []any{l[0].CIDR, g.GatewayIP == nil, g.AllocationPools[0].End, err6 != nil}, nil
			}, []any{"192.168.0.0/24", true, "192.168.0.254", true}},
		{"ports", []exchange{
			{"GET", "/ports/detail", "", "", 200, `{"ports": [` + portDetail + `]}`},
			{"GET", "/ports/31", "", "", 200, `{"port": ` + portDetail + `}`},
			{"POST", "/ports", "", `{"port": {"network_id": "12", "device_id": "42", "fixed_ips": [{"ip_address": "192.168.0.9"}]}}`, 201, `{"port": ` + portDetail + `}`},
			{"PUT", "/ports/31", "", `{"port": {"name": "eth1"}}`, 200, `{"port": ` + portDetail + `}`},
			{"DELETE", "/ports/31", "", "", 204, ""}},
			func(c *NetworkClient) (any, error) {
				l, err1 := c.ListPorts(ctx, true)
				g, err2 := c.GetPort(ctx, "31")
				_, err3 := c.CreatePort(ctx, CreatePortRequest{NetworkID: "12", DeviceID: "42", FixedIPs: []FixedIP{{IPAddress: "192.168.0.9"}}})
				_, err4 := c.UpdatePort(ctx, "31", "eth1")
				err5 := c.DeletePort(ctx, "31")
				if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
					return nil, err
				}
				return []any{l[0].MACAddress, *g.DeviceID, g.FixedIPs[0].Subnet}, nil
			}, []any{"aa:00:00:11:22:33", "42", "21"}},
		{"floating ips", []exchange{
			{"GET", "/floatingips", "", "", 200, `{"floatingips": [` + fipDetail + `]}`},
			{"GET", "/floatingips/51", "", "", 200, `{"floatingip": ` + fipDetail + `}`},
			{"POST", "/floatingips", "", `{"floatingip": {"floating_network_id": "2"}}`, 200, `{"floatingip": ` + fipDetail + `}`},
			{"POST", "/floatingips", "", `{"floatingip": {}}`, 200, `{"floatingip": ` + fipDetail + `}`},
			{"POST", "/floatingips/51/action", "", `{"reassign": {"project": "p-2"}}`, 200, ""},
			{"DELETE", "/floatingips/51", "", "", 204, ""}},
			func(c *NetworkClient) (any, error) {
				l, err1 := c.ListFloatingIPs(ctx)
				g, err2 := c.GetFloatingIP(ctx, "51")
				_, err3 := c.CreateFloatingIP(ctx, CreateFloatingIPRequest{FloatingNetworkID: "2"})
				_, err4 := c.CreateFloatingIP(ctx, CreateFloatingIPRequest{})
				err5 := c.ReassignFloatingIP(ctx, "51", "p-2")
				err6 := c.DeleteFloatingIP(ctx, "51")
				if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
					return nil, err
				}
				return []any{l[0].FloatingIPAddress, g.PortID == nil}, nil
			}, []any{"83.212.0.5", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, fake := newScripted(t, "/cyclades/network/v2.0", tt.script)
			// The catalogue publishes the network URL without a version.
			c, err := NewNetwork(srv.URL+"/cyclades/network", testToken, testOpts())
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

func TestCreateNetworkRejectsUnknownType(t *testing.T) {
	srv, fake := newScripted(t, "/cyclades/network/v2.0", nil)
	c, err := NewNetwork(srv.URL+"/cyclades/network", testToken, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateNetwork(context.Background(), CreateNetworkRequest{Type: "IP_VLAN"}); err == nil {
		t.Fatal("IP_VLAN accepted")
	}
	fake.done()
	if c.ServiceType() != "network" || (&ComputeClient{}).ServiceType() != "compute" || (&BlockStorageClient{}).ServiceType() != "volume" {
		t.Fatal("service types")
	}
}
