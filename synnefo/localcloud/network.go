package localcloud

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

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

func (t *txn) visibleNetwork(u *User, id int64) (*networkRec, error) {
	return findRec(t, bNetworks, id, u.seesNetwork, fmt.Sprintf("Network %d not found.", id))
}

// seesNetwork reports whether the caller may see n: public or their own.
func (u *User) seesNetwork(n *networkRec) bool { return n.Public || n.Owner == u.UUID }

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
			return showRecord(c, q, "network", func(t *txn) (*networkRec, error) { return t.visibleNetwork(q.u, id) }, q.networkView)
		},
		"PUT":    func() error { return c.renameNetwork(q, id) },
		"DELETE": func() error { return c.deleteNetwork(q, id) },
	})
}

func (c *Cloud) listNetworks(q *creq) error {
	return listSince(c, q, "networks", func(t *txn, f changesSince) []*networkView {
		out := []*networkView{}
		each(t, bNetworks, func(n *networkRec) bool {
			if q.u.seesNetwork(n) && f.shows(n.Updated, n.Deleted) {
				out = append(out, q.networkView(n))
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
	return updateJSON(c, q, 201, "network", func(t *txn) (*networkView, error) {
		id, err := t.nextSeq(bNetworks)
		if err != nil {
			return nil, err
		}
		n := &networkRec{ID: id, Name: name, Owner: q.u.UUID, Project: project, Shared: shared, Type: typ, Created: q.now, Updated: q.now}
		if err := putRec(t, bNetworks, id, n); err != nil {
			return nil, err
		}
		return q.networkView(n), t.commissionOne(c, q.u, project, "cyclades.network.private")
	})
}

func (t *txn) ownNetwork(u *User, id int64) (*networkRec, error) {
	n, err := t.visibleNetwork(u, id)
	if err != nil {
		return nil, err
	}
	if n.Public || n.Owner != u.UUID {
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
	return updateJSON(c, q, 200, "network", func(t *txn) (*networkView, error) {
		n, err := t.ownNetwork(q.u, id)
		if err != nil {
			return nil, err
		}
		n.Name, n.Updated = name, q.now
		return q.networkView(n), putRec(t, bNetworks, id, n)
	})
}

func (c *Cloud) deleteNetwork(q *creq, id int64) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		n, err := t.ownNetwork(q.u, id)
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
		n, err := t.ownNetwork(q.u, id)
		if err != nil {
			return err
		}
		n.Project, n.Updated = project, q.now
		return putRec(t, bNetworks, id, n)
	})
}

// ---- subnets ----

// seesSubnet reports whether the caller may see s: public or their own.
func (u *User) seesSubnet(s *subnetRec) bool { return s.Public || s.Owner == u.UUID }

func (c *Cloud) serveSubnets(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "subnets", bSubnets, q.u.seesSubnet, q.subnetView)
			},
			"POST": func() error { return c.createSubnet(q) },
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok || len(q.seg) != 2 {
		return endpointNotFound()
	}
	load := func(t *txn) (*subnetRec, error) { return findRec(t, bSubnets, id, q.u.seesSubnet, "Subnet not found") }
	return route(q, map[string]func() error{
		"GET": func() error { return showRecord(c, q, "subnet", load, q.subnetView) },
		"PUT": func() error {
			m, err := bodyObject(q, "subnet")
			if err != nil {
				return err
			}
			name, ok, err := str(m, "name")
			if err != nil || !ok || len(m) != 1 {
				return badRequest("Only the name of a subnet can be updated")
			}
			return updateJSON(c, q, 200, "subnet", func(t *txn) (*subnetView, error) {
				s, err := load(t)
				if err != nil {
					return nil, err
				}
				if s.Owner != q.u.UUID {
					return nil, forbidden("Cannot update a subnet of another user")
				}
				s.Name = name
				return q.subnetView(s), putRec(t, bSubnets, id, s)
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
	sn, err := parseSubnet(m)
	if err != nil {
		return err
	}
	sn.Owner = q.u.UUID
	return updateJSON(c, q, 201, "subnet", func(t *txn) (*subnetView, error) {
		n, err := t.visibleNetwork(q.u, sn.Network)
		if err != nil {
			return nil, err
		}
		if err := t.addSubnet(n, sn, q.now); err != nil {
			return nil, err
		}
		return q.subnetView(sn), nil
	})
}

// parseSubnet reads the body of POST /subnets (§7.2) into a new subnet
// (without id and owner).
func parseSubnet(m map[string]json.RawMessage) (*subnetRec, error) {
	nid, err := networkIDField(m)
	if err != nil {
		return nil, err
	}
	cidr, ok, err := str(m, "cidr")
	if err != nil || !ok {
		return nil, badRequest("Malformed request: 'cidr' is required")
	}
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, badRequest("Malformed CIDR '" + cidr + "'")
	}
	version := 4
	if raw, ok := m["ip_version"]; ok {
		if err := json.Unmarshal(raw, &version); err != nil || version != 4 && version != 6 {
			return nil, badRequest("Invalid IP version")
		}
	}
	if version == 4 != pfx.Addr().Is4() {
		return nil, badRequest("CIDR and IP version do not match")
	}
	if version == 4 && pfx.Bits() > 29 {
		return nil, badRequest("Network is too small")
	}
	name, _, err := str(m, "name")
	if err != nil {
		return nil, err
	}
	sn := &subnetRec{Network: nid, Name: name, CIDR: pfx.Masked().String(), Version: version, DHCP: true}
	if err := parseSubnetOptions(m, pfx, sn); err != nil {
		return nil, err
	}
	return sn, nil
}

// parseSubnetOptions reads a new subnet's optional fields: gateway, DHCP,
// SLAAC, name servers, host routes and allocation pools.
func parseSubnetOptions(m map[string]json.RawMessage, pfx netip.Prefix, sn *subnetRec) error {
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
	raw, ok := m["allocation_pools"]
	switch {
	case ok && sn.Version == 4:
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
	case sn.Version == 4:
		sn.Pools = defaultPools(pfx.Masked(), sn.Gateway)
	default:
		sn.Pools = []ipPool{}
	}
	return nil
}

// ---- ports ----

// ---- floating IPs ----
