package localcloud

import (
	"encoding/json"
	"fmt"
)

func (c *Cloud) serveFloatingIPs(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "floatingips", bFloating, q.u.ownsFloating, floatingViewOf)
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
				writeJSON(q.w, 200, floatingIPReply{floatingViewOf(f)})
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
				f, err := t.ownFloating(q.u, id)
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
func (u *User) ownsFloating(f *floatingRec) bool { return f.Owner == u.UUID && !f.Deleted }

func (t *txn) ownFloating(u *User, id int64) (*floatingRec, error) {
	return findRec(t, bFloating, id, u.ownsFloating, "Floating IP not found.")
}

func (c *Cloud) getFloating(q *creq, id int64) error {
	return showRecord(c, q, "floatingip", func(t *txn) (*floatingRec, error) { return t.ownFloating(q.u, id) }, floatingViewOf)
}

func (c *Cloud) releaseFloating(q *creq, id int64) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		f, err := t.ownFloating(q.u, id)
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
			if n, err = t.visibleNetwork(q.u, nid); err != nil {
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
		s, err := t.serverFor(q.u, sid, "CONNECT")
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
		p, err := t.newPort(&q.caller, n, "", f, sid, "BUILD")
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
	if len(q.seg) == 1 || len(q.seg) == 2 && q.seg[1] == "" {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "floating_ips", bFloating, q.u.ownsFloating, computeFloatingViewOf)
			},
			"POST": func() error {
				f, err := c.allocateFloating(q, map[string]json.RawMessage{})
				if err != nil {
					return err
				}
				writeJSON(q.w, 200, computeFloatingIPReply{computeFloatingViewOf(f)})
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
