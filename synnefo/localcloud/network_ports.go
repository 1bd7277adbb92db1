package localcloud

import (
	"encoding/json"
	"fmt"
)

// newPort creates a port on n for owner, with an address from the IPv4
// subnet (want, or the first free one), or the floating IP fip.
func (t *txn) newPort(q *caller, n *networkRec, want string, fip *floatingRec, device int64, status string) (*portRec, error) {
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
func (t *txn) attachNetworks(q *caller, s *serverRec, items []map[string]json.RawMessage) error {
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
		n, err := t.visibleNetwork(q.u, nid)
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

// ownsPort reports whether p is the caller's.
func (u *User) ownsPort(p *portRec) bool { return p.Owner == u.UUID }

func (c *Cloud) servePorts(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "ports", bPorts, q.u.ownsPort, q.portView)
			},
			"POST": func() error { return c.createPort(q) },
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok || len(q.seg) != 2 {
		return endpointNotFound()
	}
	load := func(t *txn) (*portRec, error) { return findRec(t, bPorts, id, q.u.ownsPort, "Port not found.") }
	return route(q, map[string]func() error{
		"GET": func() error { return showRecord(c, q, "port", load, q.portView) },
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
			return updateJSON(c, q, 200, "port", func(t *txn) (*portView, error) {
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
				return q.portView(p), putRec(t, bPorts, id, p)
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
	return updateJSON(c, q, 201, "port", func(t *txn) (*portView, error) {
		n, err := t.visibleNetwork(q.u, nid)
		if err != nil {
			return nil, err
		}
		if n.Deleted {
			return nil, badRequest("Network has been deleted.")
		}
		status := "DOWN"
		var s *serverRec
		if device != 0 {
			if s, err = t.serverFor(q.u, device, "CONNECT"); err != nil {
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
		p, err := t.newPort(&q.caller, n, want, fip, device, status)
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
		return q.portView(p), putRec(t, bPorts, p.ID, p)
	})
}
