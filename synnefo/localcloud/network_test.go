package localcloud

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNetworkTypesAndSubnets(t *testing.T) {
	e := newCyEnv(t)
	cases := []struct {
		body string
		code int
		name string
		msg  string
	}{
		{`{"network": {"type": "MAC_FILTERED", "name": "priv", "admin_state_up": true}}`, 201, "", ""},
		{`{"network": {"type": "IP_LESS_ROUTED"}}`, 403, "forbidden", "Cannot create network of type 'IP_LESS_ROUTED'."},
		{`{"network": {"type": "PHYSICAL_VLAN"}}`, 403, "forbidden", ""},
		{`{"network": {"type": "IP_VLAN"}}`, 400, "badRequest", "Invalid network type"},
		{`{"network": {"name": "x"}}`, 400, "badRequest", ""},
		{`{"network": {"type": "MAC_FILTERED", "name": "` + strings.Repeat("n", 129) + `"}}`, 400, "badRequest", ""},
		{`{"net": {}}`, 400, "badRequest", ""},
	}
	var netID string
	for _, c := range cases {
		r := e.do("POST", networkP+"/networks", c.body)
		if c.code == 201 {
			n := obj(r.want(t, 201).m, "network")
			netID = n["id"].(string)
			if n["type"] != "MAC_FILTERED" || n["public"] != false || len(n["subnets"].([]any)) != 0 || n["status"] != "ACTIVE" {
				t.Fatalf("network %v", n)
			}
			continue
		}
		r.fault(t, c.code, c.name, c.msg)
	}
	// Both list forms are detailed and include the public network.
	for _, p := range []string{"/networks", "/networks/detail"} {
		nets := e.do("GET", networkP+p, nil).want(t, 200).m["networks"].([]any)
		if len(nets) != 2 || nets[0].(map[string]any)["type"] == nil {
			t.Fatalf("%s: %v", p, nets)
		}
	}
	e.call("tok-bob", "GET", networkP+"/networks/"+netID, nil, nil).fault(t, 404, "itemNotFound", "")

	sub := e.do("POST", networkP+"/subnets", `{"subnet": {"network_id": "`+netID+`", "cidr": "10.0.0.0/24"}}`).want(t, 201)
	s := obj(sub.m, "subnet")
	if s["gateway_ip"] != "10.0.0.1" || s["ip_version"] != float64(4) || s["network_id"] != netID {
		t.Fatalf("subnet %v", s)
	}
	e.do("POST", networkP+"/subnets", `{"subnet": {"network_id": "`+netID+`", "cidr": "10.1.0.0/24"}}`).fault(t, 400, "badRequest", "")
	e.do("POST", networkP+"/subnets", `{"subnet": {"network_id": "`+netID+`", "cidr": "bogus"}}`).fault(t, 400, "badRequest", "")
	e.call("tok-bob", "POST", networkP+"/subnets", `{"subnet": {"network_id": "1", "cidr": "10.9.0.0/24"}}`, nil).fault(t, 403, "forbidden", "")
	e.do("DELETE", networkP+"/subnets/"+s["id"].(string), nil).fault(t, 400, "badRequest", "Deletion of a subnet is not supported")
	e.do("PUT", networkP+"/subnets/"+s["id"].(string), `{"subnet": {"cidr": "10.2.0.0/24"}}`).fault(t, 400, "badRequest", "")
	e.do("PUT", networkP+"/subnets/"+s["id"].(string), `{"subnet": {"name": "lan"}}`).want(t, 200)
	if n := obj(e.do("GET", networkP+"/networks/"+netID, nil).want(t, 200).m, "network"); len(n["subnets"].([]any)) != 1 {
		t.Fatalf("network subnets %v", n["subnets"])
	}
	e.do("PUT", networkP+"/networks/"+netID, `{"network": {"name": "renamed"}}`).want(t, 200)
	e.do("DELETE", networkP+"/networks/1", nil).fault(t, 403, "forbidden", "")
}

func TestTwoServersOnAPrivateNetwork(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	net := obj(e.do("POST", networkP+"/networks", `{"network": {"type": "MAC_FILTERED", "name": "My private network"}}`).want(t, 201).m, "network")
	nid := net["id"].(string)
	e.do("POST", networkP+"/subnets", `{"subnet": {"network_id": "`+nid+`", "cidr": "192.168.7.0/24"}}`).want(t, 201)

	s1 := e.createServer("server 1", img, 2, map[string]any{"networks": []any{map[string]any{"uuid": nid}}})
	s2 := e.createServer("server 2", img, 2, map[string]any{"networks": []any{map[string]any{"uuid": 0 + atoiT(t, nid)}}})
	if len(s1["attachments"].([]any)) != 0 {
		t.Fatalf("NICs must not show during BUILD: %v", s1["attachments"])
	}
	var addrs []string
	for _, s := range []map[string]any{s1, s2} {
		a := e.waitStatus(s["id"], "ACTIVE")
		atts := a["attachments"].([]any)
		if len(atts) != 1 {
			t.Fatalf("attachments %v", atts)
		}
		att := atts[0].(map[string]any)
		if _, ok := att["id"].(float64); !ok || att["network_id"] != nid || !strings.HasPrefix(att["mac_address"].(string), "aa:00:00:") {
			t.Fatalf("attachment %v", att)
		}
		list := obj(a, "addresses")[nid].([]any)
		ip := list[0].(map[string]any)
		if ip["version"] != float64(4) || ip["OS-EXT-IPS:type"] != "fixed" || ip["addr"] != att["ipv4"] {
			t.Fatalf("address %v vs attachment %v", ip, att)
		}
		addrs = append(addrs, ip["addr"].(string))
		ips := e.do("GET", computeP+"/servers/"+jsonID(s["id"])+"/ips/"+nid, nil).want(t, 200)
		if obj(ips.m, "network")[nid] == nil {
			t.Fatalf("ips/%s: %s", nid, ips.body)
		}
	}
	if addrs[0] == addrs[1] || addrs[0] == "192.168.7.1" || !strings.HasPrefix(addrs[0], "192.168.7.") {
		t.Fatalf("addresses %v", addrs)
	}
	ports := e.do("GET", networkP+"/ports", nil).want(t, 200).m["ports"].([]any)
	if len(ports) != 2 {
		t.Fatalf("ports %v", ports)
	}
	for _, p := range ports {
		pm := p.(map[string]any)
		if pm["status"] != "ACTIVE" || pm["device_owner"] != "vm" || pm["network_id"] != nid || len(pm["fixed_ips"].([]any)) != 1 {
			t.Fatalf("port %v", pm)
		}
	}
	e.do("DELETE", networkP+"/networks/"+nid, nil).fault(t, 409, "conflict", "")
	e.do("POST", networkP+"/subnets", `{"subnet": {"network_id": "`+nid+`", "cidr": "fd00::/64", "ip_version": 6}}`).fault(t, 400, "badRequest", "in use")

	for _, s := range []map[string]any{s1, s2} {
		e.do("DELETE", computeP+"/servers/"+jsonID(s["id"]), nil).want(t, 204)
		e.waitStatus(s["id"], "DELETED")
	}
	if ports := e.do("GET", networkP+"/ports", nil).want(t, 200).m["ports"].([]any); len(ports) != 0 {
		t.Fatalf("ports left after delete: %v", ports)
	}
	e.do("DELETE", networkP+"/networks/"+nid, nil).want(t, 204)
	if n := obj(e.do("GET", networkP+"/networks/"+nid, nil).want(t, 200).m, "network"); n["status"] != "DELETED" {
		t.Fatalf("deleted network %v", n)
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, ok := parseNumID(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return int(n)
}

func TestFloatingIPsAndPorts(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	// No floating IP allocated yet: the public network cannot be used.
	e.do("POST", computeP+"/servers", map[string]any{"server": map[string]any{
		"name": "pub", "imageRef": img, "flavorRef": 1, "networks": []any{map[string]any{"uuid": "1"}},
	}}).fault(t, 409, "conflict", "Cannot find an unused floating IP")

	fip := obj(e.do("POST", networkP+"/floatingips", `{"floatingip": {"floating_network_id": "1"}}`).want(t, 200).m, "floatingip")
	addr := fip["floating_ip_address"].(string)
	if !strings.HasPrefix(addr, "203.0.113.") || fip["port_id"] != nil {
		t.Fatalf("floating ip %v", fip)
	}
	s := e.createServer("pub", img, 1, map[string]any{"networks": []any{map[string]any{"uuid": "1"}}})
	a := e.waitStatus(s["id"], "ACTIVE")
	ip := obj(a, "addresses")["1"].([]any)[0].(map[string]any)
	if ip["addr"] != addr || ip["OS-EXT-IPS:type"] != "floating" {
		t.Fatalf("public address %v", ip)
	}
	fip = obj(e.do("GET", networkP+"/floatingips/"+fip["id"].(string), nil).want(t, 200).m, "floatingip")
	if fip["instance_id"] != jsonID(s["id"]) || fip["port_id"] == nil {
		t.Fatalf("attached floating ip %v", fip)
	}
	e.do("DELETE", networkP+"/floatingips/"+fip["id"].(string), nil).fault(t, 409, "conflict", "")
	e.do("PUT", networkP+"/floatingips/"+fip["id"].(string), `{}`).fault(t, 501, "notImplemented", "")

	// A standalone port on a private network, then attached at creation.
	nid := obj(e.do("POST", networkP+"/networks", `{"network": {"type": "MAC_FILTERED"}}`).want(t, 201).m, "network")["id"].(string)
	e.do("POST", networkP+"/subnets", `{"subnet": {"network_id": "`+nid+`", "cidr": "10.5.0.0/29", "gateway_ip": null}}`).want(t, 201)
	port := obj(e.do("POST", networkP+"/ports", `{"port": {"network_id": "`+nid+`", "fixed_ips": [{"ip_address": "10.5.0.3"}], "name": "p"}}`).want(t, 201).m, "port")
	if port["status"] != "DOWN" || port["device_id"] != nil || port["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.5.0.3" {
		t.Fatalf("port %v", port)
	}
	e.do("POST", networkP+"/ports", `{"port": {"network_id": "`+nid+`", "fixed_ips": [{"ip_address": "10.5.0.3"}]}}`).fault(t, 409, "conflict", "")
	s2 := e.createServer("withport", img, 1, map[string]any{"networks": []any{map[string]any{"port": port["id"]}}})
	e.do("POST", computeP+"/servers", map[string]any{"server": map[string]any{
		"name": "x", "imageRef": img, "flavorRef": 1, "networks": []any{map[string]any{"port": port["id"]}},
	}}).fault(t, 409, "conflict", "is already in use")
	a2 := e.waitStatus(s2["id"], "ACTIVE")
	if att := a2["attachments"].([]any); len(att) != 1 || att[0].(map[string]any)["ipv4"] != "10.5.0.3" {
		t.Fatalf("attachments %v", att)
	}
	// Compute's floating IP view.
	cf := e.do("GET", computeP+"/os-floating-ips", nil).want(t, 200).m["floating_ips"].([]any)
	if len(cf) != 1 || cf[0].(map[string]any)["ip"] != addr {
		t.Fatalf("os-floating-ips %v", cf)
	}
	// Deleting the server frees the floating IP.
	e.do("DELETE", computeP+"/servers/"+jsonID(s["id"]), nil).want(t, 204)
	e.waitStatus(s["id"], "DELETED")
	e.do("DELETE", networkP+"/floatingips/"+fip["id"].(string), nil).want(t, 204)
}

// TestChangesSinceLists pins the changes-since rules shared by the network
// and server lists (§3.1): the plain list hides a deleted network, a
// changes-since list shows it, and 304 answers when nothing changed.
func TestChangesSinceLists(t *testing.T) {
	e := newCyEnv(t)
	stamp := func() string {
		return url.QueryEscape(e.clk.Now().UTC().Add(-time.Millisecond).Format("2006-01-02T15:04:05.000000+00:00"))
	}
	// The public network is created on the first network request: make it
	// exist before the stamp, so the changes-since list holds only ours.
	e.do("GET", networkP+"/networks", nil).want(t, 200)
	e.clk.step(5 * time.Millisecond)
	before := stamp()
	id := obj(e.do("POST", networkP+"/networks", `{"network": {"type": "MAC_FILTERED", "name": "gone"}}`).want(t, 201).m, "network")["id"].(string)
	e.do("DELETE", networkP+"/networks/"+id, nil).want(t, 204)
	if nets := e.do("GET", networkP+"/networks", nil).want(t, 200).m["networks"].([]any); len(nets) != 1 {
		t.Fatalf("plain list shows %d networks, want the public one only", len(nets))
	}
	nets := e.do("GET", networkP+"/networks?changes-since="+before, nil).want(t, 200).m["networks"].([]any)
	if len(nets) != 1 || nets[0].(map[string]any)["id"] != id || nets[0].(map[string]any)["status"] != "DELETED" {
		t.Fatalf("changes-since list %v", nets)
	}
	e.clk.step(5 * time.Millisecond)
	after := stamp()
	e.do("GET", networkP+"/networks?changes-since="+after, nil).want(t, 304)
	e.do("GET", computeP+"/servers?changes-since="+after, nil).want(t, 304)
	e.do("GET", computeP+"/servers", nil).want(t, 200)
}
