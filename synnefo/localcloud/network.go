package localcloud

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
)

// Network types (cyclades-api.md §7.1); users may create only MAC_FILTERED.
var (
	networkTypes       = []string{"MAC_FILTERED", "IP_LESS_ROUTED", "PHYSICAL_VLAN", "CUSTOM"}
	userNetworkTypes   = []string{"MAC_FILTERED"}
	publicNetworkCIDR  = "203.0.113.0/24" // TEST-NET-3: never routed
	publicNetworkName  = "Public IPv4 Network"
	maxNetworkNameLen  = 128
	publicNetworkOwner = ""
)

type networkRec struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Owner        string  `json:"owner"`
	Project      string  `json:"project"`
	Shared       bool    `json:"shared,omitempty"`
	Type         string  `json:"type"`
	Public       bool    `json:"public,omitempty"`
	FloatingPool bool    `json:"floating_pool,omitempty"`
	Subnets      []int64 `json:"subnets,omitempty"`
	Created      int64   `json:"created"`
	Updated      int64   `json:"updated"`
	Deleted      bool    `json:"deleted,omitempty"`
}

type ipPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type subnetRec struct {
	ID      int64    `json:"id"`
	Network int64    `json:"network"`
	Name    string   `json:"name"`
	Owner   string   `json:"owner"`
	CIDR    string   `json:"cidr"`
	Version int      `json:"version"`
	Gateway *string  `json:"gateway"`
	DHCP    bool     `json:"dhcp"`
	SLAAC   bool     `json:"slaac,omitempty"`
	Pools   []ipPool `json:"pools"`
	DNS     []string `json:"dns,omitempty"`
	Routes  []any    `json:"routes,omitempty"`
	Public  bool     `json:"public,omitempty"`
}

type portIP struct {
	Addr     string `json:"addr"`
	Subnet   int64  `json:"subnet"`
	Floating int64  `json:"floating,omitempty"` // floating IP id when the address is one
}

type portRec struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	Owner    string   `json:"owner"`
	Network  int64    `json:"network"`
	Device   int64    `json:"device,omitempty"` // server id; 0 = unattached
	MAC      string   `json:"mac"`
	Status   string   `json:"status"` // BUILD ACTIVE DOWN ERROR
	IPs      []portIP `json:"ips,omitempty"`
	Firewall string   `json:"firewall,omitempty"`
	SecGroup []string `json:"security_groups,omitempty"`
	Created  int64    `json:"created"`
	Updated  int64    `json:"updated"`
}

type floatingRec struct {
	ID      int64  `json:"id"`
	Addr    string `json:"addr"`
	Network int64  `json:"network"`
	Owner   string `json:"owner"`
	Project string `json:"project"`
	Port    int64  `json:"port,omitempty"`
	Server  int64  `json:"server,omitempty"`
	Created int64  `json:"created"`
	Deleted bool   `json:"deleted,omitempty"`
}

// ensurePublicNetwork creates the public IPv4 network with a floating IP
// pool on first start.
func (t *txn) ensurePublicNetwork() error {
	if k, _ := t.tx.Bucket(bNetworks).Cursor().First(); k != nil {
		return nil
	}
	nid, err := t.nextSeq(bNetworks)
	if err != nil {
		return err
	}
	sid, err := t.nextSeq(bSubnets)
	if err != nil {
		return err
	}
	now := t.s.now()
	pfx := netip.MustParsePrefix(publicNetworkCIDR)
	gw := pfx.Addr().Next().String()
	sn := &subnetRec{ID: sid, Network: nid, Name: "", Owner: publicNetworkOwner, CIDR: publicNetworkCIDR, Version: 4,
		Gateway: &gw, DHCP: true, Pools: defaultPools(pfx, &gw), Public: true}
	n := &networkRec{ID: nid, Name: publicNetworkName, Owner: publicNetworkOwner, Type: "IP_LESS_ROUTED",
		Public: true, FloatingPool: true, Subnets: []int64{sid}, Created: now, Updated: now}
	if err := putRec(t, bSubnets, sid, sn); err != nil {
		return err
	}
	return putRec(t, bNetworks, nid, n)
}

// defaultPools is every host address of an IPv4 prefix but the gateway.
func defaultPools(p netip.Prefix, gw *string) []ipPool {
	first := p.Addr().Next()
	last := lastAddr(p).Prev()
	if gw != nil && *gw == first.String() {
		first = first.Next()
	}
	if !first.IsValid() || last.Less(first) {
		return []ipPool{}
	}
	return []ipPool{{first.String(), last.String()}}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << host) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (c *Cloud) serveNetwork(q *creq) error {
	return bySegment(q, map[string]func(*creq) error{
		"networks":    c.serveNetworks,
		"subnets":     c.serveSubnets,
		"ports":       c.servePorts,
		"floatingips": c.serveFloatingIPs,
	})
}

// collection reports whether seg is a collection root (optionally with a
// trailing slash or /detail) and whether detail was asked.
func collection(seg []string) (root, detail bool) {
	switch {
	case len(seg) == 1, len(seg) == 2 && seg[1] == "":
		return true, false
	case len(seg) == 2 && seg[1] == "detail":
		return true, true
	}
	return false, false
}

// ---- networks ----

func (t *txn) visibleNetwork(q *creq, id int64) (*networkRec, error) {
	return findRec(t, bNetworks, id, q.seesNetwork, fmt.Sprintf("Network %d not found.", id))
}

// seesNetwork reports whether the caller may see n: public or their own.
func (q *creq) seesNetwork(n *networkRec) bool { return n.Public || n.Owner == q.u.UUID }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (q *creq) networkJSON(n *networkRec) map[string]any {
	subnets := []string{}
	for _, s := range n.Subnets {
		subnets = append(subnets, itoa(s))
	}
	status := "ACTIVE"
	if n.Deleted {
		status = "DELETED"
	}
	return map[string]any{
		"id": itoa(n.ID), "name": n.Name, "links": links(q.networkURL() + "/networks/" + itoa(n.ID)),
		"user_id": nullable(n.Owner), "tenant_id": nullable(n.Project), "shared_to_project": n.Shared,
		"type": n.Type, "created": isoDate(n.Created), "updated": isoDate(n.Updated), "status": status,
		"public": n.Public, "shared": n.Public, "router:external": n.Public, "admin_state_up": true,
		"subnets": subnets, "SNF:floating_ip_pool": n.FloatingPool, "deleted": n.Deleted,
	}
}

func (c *Cloud) serveNetworks(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET":  func() error { return c.listNetworks(q) },
			"POST": func() error { return c.createNetwork(q) },
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok {
		return endpointNotFound()
	}
	if len(q.seg) == 3 && q.seg[2] == "action" {
		return route(q, map[string]func() error{"POST": func() error { return c.reassignNetwork(q, id) }})
	}
	if len(q.seg) != 2 {
		return endpointNotFound()
	}
	return route(q, map[string]func() error{
		"GET": func() error {
			return showRecord(c, q, "network", func(t *txn) (*networkRec, error) { return t.visibleNetwork(q, id) }, q.networkJSON)
		},
		"PUT":    func() error { return c.renameNetwork(q, id) },
		"DELETE": func() error { return c.deleteNetwork(q, id) },
	})
}

func (c *Cloud) listNetworks(q *creq) error {
	return c.listSince(q, "networks", func(t *txn, f changesSince) []any {
		out := []any{}
		each(t, bNetworks, func(n *networkRec) bool {
			if q.seesNetwork(n) && f.shows(n.Updated, n.Deleted) {
				out = append(out, q.networkJSON(n))
			}
			return true
		})
		return out
	})
}

func (c *Cloud) createNetwork(q *creq) error {
	m, err := bodyObject(q, "network")
	if err != nil {
		return err
	}
	typ, ok, err := str(m, "type")
	if err != nil {
		return err
	}
	if !ok {
		return badRequest("Missing request parameter 'type'")
	}
	if !contains(networkTypes, typ) {
		return badRequest("Invalid network type")
	}
	if !contains(userNetworkTypes, typ) {
		return forbidden(fmt.Sprintf("Cannot create network of type '%s'.", typ))
	}
	name, _, err := str(m, "name")
	if err != nil {
		return err
	}
	if len([]rune(name)) > maxNetworkNameLen {
		return badRequest("Network name is too long")
	}
	project, ok, err := str(m, "project")
	if err != nil {
		return err
	}
	if !ok {
		project = q.u.UUID
	}
	shared, err := boolField(m, "shared_to_project")
	if err != nil {
		return err
	}
	return c.updateJSON(q, 201, "network", func(t *txn) (any, error) {
		id, err := t.nextSeq(bNetworks)
		if err != nil {
			return nil, err
		}
		n := &networkRec{ID: id, Name: name, Owner: q.u.UUID, Project: project, Shared: shared, Type: typ, Created: q.now, Updated: q.now}
		if err := putRec(t, bNetworks, id, n); err != nil {
			return nil, err
		}
		return q.networkJSON(n), t.commissionOne(c, q.u, project, "cyclades.network.private")
	})
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (t *txn) ownNetwork(q *creq, id int64) (*networkRec, error) {
	n, err := t.visibleNetwork(q, id)
	if err != nil {
		return nil, err
	}
	if n.Public || n.Owner != q.u.UUID {
		return nil, forbidden("Cannot modify public network")
	}
	if n.Deleted {
		return nil, badRequest("Network has been deleted.")
	}
	return n, nil
}

func (c *Cloud) renameNetwork(q *creq, id int64) error {
	m, err := bodyObject(q, "network")
	if err != nil {
		return err
	}
	name, ok, err := str(m, "name")
	if err != nil || !ok || len(m) != 1 {
		return badRequest("Only the name of a network can be updated")
	}
	if len([]rune(name)) > maxNetworkNameLen {
		return badRequest("Network name is too long")
	}
	return c.updateJSON(q, 200, "network", func(t *txn) (any, error) {
		n, err := t.ownNetwork(q, id)
		if err != nil {
			return nil, err
		}
		n.Name, n.Updated = name, q.now
		return q.networkJSON(n), putRec(t, bNetworks, id, n)
	})
}

func (c *Cloud) deleteNetwork(q *creq, id int64) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		n, err := t.ownNetwork(q, id)
		if err != nil {
			return err
		}
		inUse := false
		each(t, bPorts, func(p *portRec) bool { inUse = p.Network == id; return !inUse })
		if inUse {
			return conflict("The network is being used")
		}
		n.Deleted, n.Updated = true, q.now
		return putRec(t, bNetworks, id, n)
	})
}

func (c *Cloud) reassignNetwork(q *creq, id int64) error {
	return c.reassignAction(q, map[string]int64{"cyclades.network.private": 1}, func(t *txn, project string) error {
		n, err := t.ownNetwork(q, id)
		if err != nil {
			return err
		}
		n.Project, n.Updated = project, q.now
		return putRec(t, bNetworks, id, n)
	})
}

// ---- subnets ----

func (q *creq) subnetJSON(s *subnetRec) map[string]any {
	var gw any
	if s.Gateway != nil {
		gw = *s.Gateway
	}
	out := map[string]any{
		"id": itoa(s.ID), "network_id": itoa(s.Network), "name": s.Name,
		"tenant_id": nullable(s.Owner), "user_id": nullable(s.Owner), "public": s.Public,
		"gateway_ip": gw, "ip_version": s.Version, "cidr": s.CIDR, "enable_dhcp": s.DHCP,
		"dns_nameservers": nonNil(s.DNS), "host_routes": nonNilAny(s.Routes), "allocation_pools": s.Pools,
		"deleted": false, "links": links(q.networkURL() + "/subnets/" + itoa(s.ID)),
	}
	if s.Version == 6 {
		out["enable_slaac"] = s.SLAAC
	}
	return out
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

// seesSubnet reports whether the caller may see s: public or their own.
func (q *creq) seesSubnet(s *subnetRec) bool { return s.Public || s.Owner == q.u.UUID }

func (c *Cloud) serveSubnets(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "subnets", bSubnets, q.seesSubnet, q.subnetJSON)
			},
			"POST": func() error { return c.createSubnet(q) },
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok || len(q.seg) != 2 {
		return endpointNotFound()
	}
	load := func(t *txn) (*subnetRec, error) { return findRec(t, bSubnets, id, q.seesSubnet, "Subnet not found") }
	return route(q, map[string]func() error{
		"GET": func() error { return showRecord(c, q, "subnet", load, q.subnetJSON) },
		"PUT": func() error {
			m, err := bodyObject(q, "subnet")
			if err != nil {
				return err
			}
			name, ok, err := str(m, "name")
			if err != nil || !ok || len(m) != 1 {
				return badRequest("Only the name of a subnet can be updated")
			}
			return c.updateJSON(q, 200, "subnet", func(t *txn) (any, error) {
				s, err := load(t)
				if err != nil {
					return nil, err
				}
				if s.Owner != q.u.UUID {
					return nil, forbidden("Cannot update a subnet of another user")
				}
				s.Name = name
				return q.subnetJSON(s), putRec(t, bSubnets, id, s)
			})
		},
		"DELETE": func() error { return badRequest("Deletion of a subnet is not supported") },
	})
}

// networkIDField reads the required network_id of a subnet or port body.
func networkIDField(m map[string]json.RawMessage) (int64, error) {
	raw, ok := m["network_id"]
	if !ok {
		return 0, badRequest("Malformed request: 'network_id' is required")
	}
	nid, ok := intID(raw)
	if !ok {
		return 0, badRequest("Invalid network_id")
	}
	return nid, nil
}

func (c *Cloud) createSubnet(q *creq) error {
	m, err := bodyObject(q, "subnet")
	if err != nil {
		return err
	}
	nid, err := networkIDField(m)
	if err != nil {
		return err
	}
	cidr, ok, err := str(m, "cidr")
	if err != nil || !ok {
		return badRequest("Malformed request: 'cidr' is required")
	}
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		return badRequest("Malformed CIDR '" + cidr + "'")
	}
	version := 4
	if raw, ok := m["ip_version"]; ok {
		if err := json.Unmarshal(raw, &version); err != nil || version != 4 && version != 6 {
			return badRequest("Invalid IP version")
		}
	}
	if version == 4 != pfx.Addr().Is4() {
		return badRequest("CIDR and IP version do not match")
	}
	if version == 4 && pfx.Bits() > 29 {
		return badRequest("Network is too small")
	}
	name, _, err := str(m, "name")
	if err != nil {
		return err
	}
	sn := &subnetRec{Network: nid, Name: name, Owner: q.u.UUID, CIDR: pfx.Masked().String(), Version: version, DHCP: true}
	if raw, ok := m["gateway_ip"]; !ok {
		gw := pfx.Masked().Addr().Next().String()
		sn.Gateway = &gw
	} else if string(raw) != "null" {
		var gw string
		if json.Unmarshal(raw, &gw) != nil {
			return badRequest("Invalid gateway_ip")
		}
		if a, perr := netip.ParseAddr(gw); perr != nil || !pfx.Contains(a) {
			return badRequest("Gateway IP is not in the subnet")
		}
		sn.Gateway = &gw
	}
	if raw, ok := m["enable_dhcp"]; ok && json.Unmarshal(raw, &sn.DHCP) != nil {
		return badRequest("Invalid enable_dhcp")
	}
	if raw, ok := m["enable_slaac"]; ok && json.Unmarshal(raw, &sn.SLAAC) != nil {
		return badRequest("Invalid enable_slaac")
	}
	if raw, ok := m["dns_nameservers"]; ok && json.Unmarshal(raw, &sn.DNS) != nil {
		return badRequest("Invalid dns_nameservers")
	}
	if raw, ok := m["host_routes"]; ok && json.Unmarshal(raw, &sn.Routes) != nil {
		return badRequest("Invalid host_routes")
	}
	if raw, ok := m["allocation_pools"]; ok && version == 4 {
		if json.Unmarshal(raw, &sn.Pools) != nil {
			return badRequest("Malformed allocation pools")
		}
		for _, p := range sn.Pools {
			s, err1 := netip.ParseAddr(p.Start)
			e, err2 := netip.ParseAddr(p.End)
			if err1 != nil || err2 != nil || !pfx.Contains(s) || !pfx.Contains(e) || e.Less(s) {
				return badRequest("Invalid allocation pool")
			}
		}
	} else if version == 4 {
		sn.Pools = defaultPools(pfx.Masked(), sn.Gateway)
	} else {
		sn.Pools = []ipPool{}
	}
	return c.updateJSON(q, 201, "subnet", func(t *txn) (any, error) {
		n, err := t.visibleNetwork(q, nid)
		if err != nil {
			return nil, err
		}
		if n.Owner != q.u.UUID {
			return nil, forbidden("Cannot create subnet in network of another user")
		}
		if n.Deleted {
			return nil, badRequest("Network has been deleted.")
		}
		for _, sid := range n.Subnets {
			if s, ok := getRec[subnetRec](t, bSubnets, sid); ok && s.Version == version {
				return nil, badRequest(fmt.Sprintf("Network %d already has an IPv%d subnet", nid, version))
			}
		}
		used := false
		each(t, bPorts, func(p *portRec) bool { used = p.Network == nid; return !used })
		if used {
			return nil, badRequest("Cannot create a subnet in a network that is in use")
		}
		if sn.ID, err = t.nextSeq(bSubnets); err != nil {
			return nil, err
		}
		n.Subnets, n.Updated = append(n.Subnets, sn.ID), q.now
		if err := putRec(t, bNetworks, nid, n); err != nil {
			return nil, err
		}
		return q.subnetJSON(sn), putRec(t, bSubnets, sn.ID, sn)
	})
}

// ipv4Subnet is the network's IPv4 subnet, if any.
func (t *txn) ipv4Subnet(n *networkRec) (*subnetRec, bool) {
	for _, sid := range n.Subnets {
		if s, ok := getRec[subnetRec](t, bSubnets, sid); ok && s.Version == 4 {
			return s, true
		}
	}
	return nil, false
}

// usedAddrs lists the addresses taken on a network (ports and floating IPs).
func (t *txn) usedAddrs(nid int64) map[string]bool {
	used := map[string]bool{}
	each(t, bPorts, func(p *portRec) bool {
		if p.Network == nid {
			for _, ip := range p.IPs {
				used[ip.Addr] = true
			}
		}
		return true
	})
	each(t, bFloating, func(f *floatingRec) bool {
		if f.Network == nid && !f.Deleted {
			used[f.Addr] = true
		}
		return true
	})
	return used
}

// allocateIP takes want (if given) or the first free pool address.
func (t *txn) allocateIP(s *subnetRec, want string) (string, error) {
	used := t.usedAddrs(s.Network)
	if s.Gateway != nil {
		used[*s.Gateway] = true
	}
	if want != "" {
		a, err := netip.ParseAddr(want)
		pfx, _ := netip.ParsePrefix(s.CIDR)
		if err != nil || !a.Is4() || !pfx.Contains(a) {
			return "", badRequest("Invalid IP address '" + want + "'")
		}
		if used[a.String()] {
			return "", conflict("IP address '" + want + "' is already in use")
		}
		return a.String(), nil
	}
	for _, p := range s.Pools {
		a, _ := netip.ParseAddr(p.Start)
		end, _ := netip.ParseAddr(p.End)
		for ; a.IsValid() && !end.Less(a); a = a.Next() {
			if !used[a.String()] {
				return a.String(), nil
			}
		}
	}
	return "", conflict(fmt.Sprintf("No more IP addresses available on network %d", s.Network))
}

// ---- ports ----

func newMAC(id int64) string {
	return fmt.Sprintf("aa:00:00:%02x:%02x:%02x", byte(id>>16), byte(id>>8), byte(id))
}

func (q *creq) portJSON(p *portRec) map[string]any {
	ips := []any{}
	for _, ip := range p.IPs {
		ips = append(ips, map[string]any{"ip_address": ip.Addr, "subnet": itoa(ip.Subnet)})
	}
	var dev, owner any
	if p.Device != 0 {
		dev, owner = itoa(p.Device), "vm"
	}
	return map[string]any{
		"id": itoa(p.ID), "name": p.Name, "links": links(q.networkURL() + "/ports/" + itoa(p.ID)),
		"user_id": p.Owner, "tenant_id": p.Owner, "device_id": dev, "admin_state_up": true,
		"mac_address": p.MAC, "status": p.Status, "device_owner": owner, "network_id": itoa(p.Network),
		"created": isoDate(p.Created), "updated": isoDate(p.Updated), "fixed_ips": ips,
		"security_groups": nonNil(p.SecGroup),
	}
}

// newPort creates a port on n for owner, with an address from the IPv4
// subnet (want, or the first free one), or the floating IP fip.
func (t *txn) newPort(q *creq, n *networkRec, want string, fip *floatingRec, device int64, status string) (*portRec, error) {
	id, err := t.nextSeq(bPorts)
	if err != nil {
		return nil, err
	}
	p := &portRec{ID: id, Owner: q.u.UUID, Network: n.ID, Device: device, MAC: newMAC(id), Status: status, Created: q.now, Updated: q.now}
	if fip != nil {
		sn, _ := t.ipv4Subnet(n)
		var sid int64
		if sn != nil {
			sid = sn.ID
		}
		p.IPs = []portIP{{Addr: fip.Addr, Subnet: sid, Floating: fip.ID}}
		fip.Port, fip.Server = id, device
		if err := putRec(t, bFloating, fip.ID, fip); err != nil {
			return nil, err
		}
	} else if sn, ok := t.ipv4Subnet(n); ok {
		addr, err := t.allocateIP(sn, want)
		if err != nil {
			return nil, err
		}
		p.IPs = []portIP{{Addr: addr, Subnet: sn.ID}}
	} else if want != "" {
		return nil, badRequest(fmt.Sprintf("Network %d has no IPv4 subnet", n.ID))
	}
	return p, putRec(t, bPorts, id, p)
}

// attachNetworks creates the NICs of a new server (§3.3).
func (t *txn) attachNetworks(q *creq, s *serverRec, items []map[string]json.RawMessage) error {
	if len(items) > maxServerNICs {
		return badRequest("Maximum ports per server limit reached")
	}
	for _, it := range items {
		if raw, ok := it["port"]; ok {
			pid, ok := intID(raw)
			if !ok {
				return badRequest("Invalid port id")
			}
			p, ok := getRec[portRec](t, bPorts, pid)
			if !ok || p.Owner != q.u.UUID {
				return notFound(fmt.Sprintf("Port %d not found.", pid))
			}
			if p.Device != 0 {
				return conflict(fmt.Sprintf("Port %d is already in use.", pid))
			}
			p.Device, p.Status, p.Updated = s.ID, "BUILD", q.now
			if err := putRec(t, bPorts, pid, p); err != nil {
				return err
			}
			for _, ip := range p.IPs {
				if ip.Floating != 0 {
					if f, ok := getRec[floatingRec](t, bFloating, ip.Floating); ok {
						f.Server = s.ID
						if err := putRec(t, bFloating, f.ID, f); err != nil {
							return err
						}
					}
				}
			}
			s.Ports = append(s.Ports, pid)
			continue
		}
		raw, ok := it["uuid"]
		if !ok {
			return badRequest("Network 'uuid' or 'port' attribute is required.")
		}
		nid, ok := intID(raw)
		if !ok {
			return badRequest("Invalid network id")
		}
		n, err := t.visibleNetwork(q, nid)
		if err != nil {
			return err
		}
		if n.Deleted {
			return badRequest(fmt.Sprintf("Network %d has been deleted.", nid))
		}
		fixedRaw, hasFixed := it["fixed_ip"]
		var fixed string
		if hasFixed && string(fixedRaw) != "null" && json.Unmarshal(fixedRaw, &fixed) != nil {
			return badRequest("Invalid fixed_ip")
		}
		var fip *floatingRec
		if n.Public {
			if hasFixed && string(fixedRaw) == "null" {
				return badRequest("Invalid fixed_ip: null")
			}
			each(t, bFloating, func(f *floatingRec) bool {
				if f.Owner == q.u.UUID && f.Network == nid && !f.Deleted && f.Port == 0 && (fixed == "" || f.Addr == fixed) {
					fip = f
					return false
				}
				return true
			})
			if fip == nil && fixed != "" {
				return notFound("Floating IP '" + fixed + "' not found.")
			}
			if fip == nil {
				return conflict(fmt.Sprintf("Cannot find an unused floating IP to connect server to network '%d'.", nid))
			}
			fixed = ""
		}
		p, err := t.newPort(q, n, fixed, fip, s.ID, "BUILD")
		if err != nil {
			return err
		}
		s.Ports = append(s.Ports, p.ID)
	}
	return nil
}

func (t *txn) setPortsStatus(ids []int64, status string, at int64) error {
	for _, id := range ids {
		p, ok := getRec[portRec](t, bPorts, id)
		if !ok {
			continue
		}
		p.Status, p.Updated = status, at
		if err := putRec(t, bPorts, id, p); err != nil {
			return err
		}
	}
	return nil
}

// releaseServerPorts deletes a destroyed server's NICs and frees their IPs.
func (t *txn) releaseServerPorts(s *serverRec, at int64) error {
	for _, id := range s.Ports {
		if err := t.deletePort(id); err != nil {
			return err
		}
	}
	return nil
}

// deletePort removes a port, detaching any floating IP it carries.
func (t *txn) deletePort(id int64) error {
	p, ok := getRec[portRec](t, bPorts, id)
	if !ok {
		return nil
	}
	for _, ip := range p.IPs {
		if ip.Floating == 0 {
			continue
		}
		if f, ok := getRec[floatingRec](t, bFloating, ip.Floating); ok {
			f.Port, f.Server = 0, 0
			if err := putRec(t, bFloating, f.ID, f); err != nil {
				return err
			}
		}
	}
	if p.Device != 0 {
		if s, ok := getRec[serverRec](t, bServers, p.Device); ok {
			s.Ports = removeID(s.Ports, id)
			if err := putRec(t, bServers, s.ID, s); err != nil {
				return err
			}
		}
	}
	return t.tx.Bucket(bPorts).Delete(idKey(id))
}

func removeID(ids []int64, id int64) []int64 {
	out := ids[:0:0]
	for _, v := range ids {
		if v != id {
			out = append(out, v)
		}
	}
	return out
}

// ownsPort reports whether p is the caller's.
func (q *creq) ownsPort(p *portRec) bool { return p.Owner == q.u.UUID }

func (c *Cloud) servePorts(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "ports", bPorts, q.ownsPort, q.portJSON)
			},
			"POST": func() error { return c.createPort(q) },
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok || len(q.seg) != 2 {
		return endpointNotFound()
	}
	load := func(t *txn) (*portRec, error) { return findRec(t, bPorts, id, q.ownsPort, "Port not found.") }
	return route(q, map[string]func() error{
		"GET": func() error { return showRecord(c, q, "port", load, q.portJSON) },
		"PUT": func() error {
			m, err := bodyObject(q, "port")
			if err != nil {
				return err
			}
			for k := range m {
				if k != "name" && k != "security_groups" {
					return badRequest("Only 'name' and 'security_groups' of a port can be updated")
				}
			}
			name, hasName, err := str(m, "name")
			if err != nil {
				return err
			}
			var groups []string
			if raw, ok := m["security_groups"]; ok && json.Unmarshal(raw, &groups) != nil {
				return badRequest("Invalid security_groups")
			}
			return c.updateJSON(q, 200, "port", func(t *txn) (any, error) {
				p, err := load(t)
				if err != nil {
					return nil, err
				}
				if hasName {
					p.Name = name
				}
				if groups != nil {
					p.SecGroup = groups
				}
				p.Updated = q.now
				return q.portJSON(p), putRec(t, bPorts, id, p)
			})
		},
		"DELETE": func() error {
			return c.updateStatus(q, 204, func(t *txn) error {
				p, err := load(t)
				if err != nil {
					return err
				}
				n, _ := getRec[networkRec](t, bNetworks, p.Network)
				if n.Public && (len(p.IPs) == 0 || p.IPs[0].Floating == 0) {
					return forbidden("Cannot disconnect from public network.")
				}
				if p.Device != 0 {
					if s, ok := getRec[serverRec](t, bServers, p.Device); ok && s.Task == "BUILD" {
						return buildInProgress("Server is being built.")
					}
				}
				return t.deletePort(id)
			})
		},
	})
}

func (c *Cloud) createPort(q *creq) error {
	m, err := bodyObject(q, "port")
	if err != nil {
		return err
	}
	nid, err := networkIDField(m)
	if err != nil {
		return err
	}
	name, _, err := str(m, "name")
	if err != nil {
		return err
	}
	var device int64
	if raw, ok := m["device_id"]; ok && string(raw) != "null" {
		if device, ok = intID(raw); !ok {
			return badRequest("Invalid device_id")
		}
	}
	var want string
	if raw, ok := m["fixed_ips"]; ok {
		var fixed []map[string]string
		if json.Unmarshal(raw, &fixed) != nil || len(fixed) > 1 {
			return badRequest("Only one fixed IP (IPv4) is allowed")
		}
		if len(fixed) == 1 {
			if want = fixed[0]["ip_address"]; want == "" {
				return badRequest("Invalid fixed_ips")
			}
		}
	}
	var groups []string
	if raw, ok := m["security_groups"]; ok && json.Unmarshal(raw, &groups) != nil {
		return badRequest("Invalid security_groups")
	}
	return c.updateJSON(q, 201, "port", func(t *txn) (any, error) {
		n, err := t.visibleNetwork(q, nid)
		if err != nil {
			return nil, err
		}
		if n.Deleted {
			return nil, badRequest("Network has been deleted.")
		}
		status := "DOWN"
		var s *serverRec
		if device != 0 {
			if s, err = t.serverFor(q, device, "CONNECT"); err != nil {
				return nil, err
			}
			if len(s.Ports) >= maxServerNICs {
				return nil, badRequest("Maximum ports per server limit reached")
			}
			status = "BUILD"
		}
		var fip *floatingRec
		if n.Public {
			if want == "" {
				return nil, badRequest("A floating IP is required to create a port on a public network")
			}
			each(t, bFloating, func(f *floatingRec) bool {
				if f.Owner == q.u.UUID && f.Network == nid && !f.Deleted && f.Addr == want {
					fip = f
					return false
				}
				return true
			})
			if fip == nil {
				return nil, badRequest("Floating IP '" + want + "' is not allocated to the user")
			}
			if fip.Port != 0 {
				return nil, conflict("Floating IP '" + want + "' is already in use")
			}
			want = ""
		}
		p, err := t.newPort(q, n, want, fip, device, status)
		if err != nil {
			return nil, err
		}
		p.Name, p.SecGroup = name, groups
		if s != nil {
			s.Ports, s.Updated = append(s.Ports, p.ID), q.now
			if err := putRec(t, bServers, s.ID, s); err != nil {
				return nil, err
			}
			if err := t.schedule(duePort, itoa(p.ID), q.now+int64(c.actionDelay())); err != nil {
				return nil, err
			}
		}
		return q.portJSON(p), putRec(t, bPorts, p.ID, p)
	})
}

// settlePort activates a port attached to a running server.
func (t *txn) settlePort(sid string, at int64) error {
	id, _ := strconv.ParseInt(sid, 10, 64)
	p, ok := getRec[portRec](t, bPorts, id)
	if !ok || p.Status != "BUILD" || p.Device == 0 {
		return nil
	}
	p.Status, p.Updated = "ACTIVE", at
	return putRec(t, bPorts, id, p)
}

// ---- floating IPs ----

func (q *creq) floatingJSON(f *floatingRec) map[string]any {
	var port, inst any
	if f.Port != 0 {
		port = itoa(f.Port)
	}
	if f.Server != 0 {
		inst = itoa(f.Server)
	}
	return map[string]any{
		"id": itoa(f.ID), "floating_ip_address": f.Addr, "floating_network_id": itoa(f.Network),
		"fixed_ip_address": nil, "port_id": port, "instance_id": inst, "user_id": f.Owner,
		"tenant_id": f.Project, "shared_to_project": false, "deleted": f.Deleted,
	}
}

func (c *Cloud) serveFloatingIPs(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "floatingips", bFloating, q.ownsFloating, q.floatingJSON)
			},
			"POST": func() error {
				m, err := bodyObject(q, "floatingip")
				if err != nil {
					return err
				}
				f, err := c.allocateFloating(q, m)
				if err != nil {
					return err
				}
				writeJSON(q.w, 200, map[string]any{"floatingip": q.floatingJSON(f)})
				return nil
			},
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok {
		return endpointNotFound()
	}
	if len(q.seg) == 3 && q.seg[2] == "action" {
		return route(q, map[string]func() error{"POST": func() error {
			return c.reassignAction(q, map[string]int64{"cyclades.floating_ip": 1}, func(t *txn, project string) error {
				f, err := t.ownFloating(q, id)
				if err != nil {
					return err
				}
				f.Project = project
				return putRec(t, bFloating, id, f)
			})
		}})
	}
	if len(q.seg) != 2 {
		return endpointNotFound()
	}
	return route(q, map[string]func() error{
		"GET":    func() error { return c.getFloating(q, id) },
		"PUT":    func() error { return notImplemented("Updating a floating IP is not supported") },
		"DELETE": func() error { return c.releaseFloating(q, id) },
	})
}

// ownsFloating reports whether f is a live floating IP of the caller.
func (q *creq) ownsFloating(f *floatingRec) bool { return f.Owner == q.u.UUID && !f.Deleted }

func (t *txn) ownFloating(q *creq, id int64) (*floatingRec, error) {
	return findRec(t, bFloating, id, q.ownsFloating, "Floating IP not found.")
}

func (c *Cloud) getFloating(q *creq, id int64) error {
	return showRecord(c, q, "floatingip", func(t *txn) (*floatingRec, error) { return t.ownFloating(q, id) }, q.floatingJSON)
}

func (c *Cloud) releaseFloating(q *creq, id int64) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		f, err := t.ownFloating(q, id)
		if err != nil {
			return err
		}
		if f.Port != 0 {
			return conflict("Floating IP is in use")
		}
		f.Deleted = true
		return putRec(t, bFloating, id, f)
	})
}

// allocateFloating allocates a floating IP from the pool network.
func (c *Cloud) allocateFloating(q *creq, m map[string]json.RawMessage) (*floatingRec, error) {
	var nid int64
	if raw, ok := m["floating_network_id"]; ok && string(raw) != "null" {
		var ok bool
		if nid, ok = intID(raw); !ok {
			return nil, badRequest("Invalid floating_network_id")
		}
	}
	want, _, err := str(m, "floating_ip_address")
	if err != nil {
		return nil, err
	}
	project, ok, err := str(m, "project")
	if err != nil {
		return nil, err
	}
	if !ok {
		project = q.u.UUID
	}
	var f *floatingRec
	err = c.store.update(func(t *txn) error {
		var n *networkRec
		if nid == 0 {
			each(t, bNetworks, func(x *networkRec) bool {
				if x.FloatingPool && !x.Deleted {
					n = x
					return false
				}
				return true
			})
			if n == nil {
				return conflict("No network found with available floating IPs.")
			}
		} else {
			var err error
			if n, err = t.visibleNetwork(q, nid); err != nil {
				return err
			}
			if !n.FloatingPool {
				return badRequest(fmt.Sprintf("Network %d is not a floating IP pool", nid))
			}
		}
		sn, ok := t.ipv4Subnet(n)
		if !ok {
			return conflict("Network has no IPv4 subnet")
		}
		addr, err := t.allocateIP(sn, want)
		if err != nil {
			return err
		}
		id, err := t.nextSeq(bFloating)
		if err != nil {
			return err
		}
		f = &floatingRec{ID: id, Addr: addr, Network: n.ID, Owner: q.u.UUID, Project: project, Created: q.now}
		if err := putRec(t, bFloating, id, f); err != nil {
			return err
		}
		return t.commissionOne(c, q.u, project, "cyclades.floating_ip")
	})
	return f, err
}

// floatingIPAction is addFloatingIp / removeFloatingIp.
func (c *Cloud) floatingIPAction(q *creq, sid int64, addr string, add bool) error {
	return c.updateStatus(q, 202, func(t *txn) error {
		s, err := t.serverFor(q, sid, "CONNECT")
		if err != nil {
			return err
		}
		var f *floatingRec
		each(t, bFloating, func(x *floatingRec) bool {
			if x.Owner == q.u.UUID && !x.Deleted && x.Addr == addr {
				f = x
				return false
			}
			return true
		})
		if f == nil {
			return notFound("Floating IP '" + addr + "' not found.")
		}
		if !add {
			if f.Server != sid {
				return conflict("Floating IP '" + addr + "' is not attached to server")
			}
			return t.deletePort(f.Port)
		}
		if f.Port != 0 {
			return conflict("Floating IP '" + addr + "' already in use")
		}
		n, _ := getRec[networkRec](t, bNetworks, f.Network)
		p, err := t.newPort(q, n, "", f, sid, "BUILD")
		if err != nil {
			return err
		}
		s.Ports, s.Updated = append(s.Ports, p.ID), q.now
		if err := putRec(t, bServers, sid, s); err != nil {
			return err
		}
		return t.schedule(duePort, itoa(p.ID), q.now+int64(c.actionDelay()))
	})
}

// serveComputeFloatingIPs is the compute API's /os-floating-ips view.
func (c *Cloud) serveComputeFloatingIPs(q *creq) error {
	compute := func(f *floatingRec) map[string]any {
		var inst any
		if f.Server != 0 {
			inst = itoa(f.Server)
		}
		return map[string]any{"fixed_ip": nil, "id": f.ID, "instance_id": inst, "ip": f.Addr, "pool": nil}
	}
	if len(q.seg) == 1 || len(q.seg) == 2 && q.seg[1] == "" {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "floating_ips", bFloating, q.ownsFloating, compute)
			},
			"POST": func() error {
				f, err := c.allocateFloating(q, map[string]json.RawMessage{})
				if err != nil {
					return err
				}
				writeJSON(q.w, 200, map[string]any{"floating_ip": compute(f)})
				return nil
			},
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok || len(q.seg) != 2 {
		return endpointNotFound()
	}
	return route(q, map[string]func() error{
		"GET":    func() error { return c.getFloating(q, id) }, // Synnefo answers the Network-API shape here
		"DELETE": func() error { return c.releaseFloating(q, id) },
	})
}
