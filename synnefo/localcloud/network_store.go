package localcloud

import (
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

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// addSubnet stores sn (whose owner is set) in network n at now: the
// owner's own network, not deleted, without a subnet of that IP version
// and without ports yet.
func (t *txn) addSubnet(n *networkRec, sn *subnetRec, now int64) error {
	if n.Owner != sn.Owner {
		return forbidden("Cannot create subnet in network of another user")
	}
	if n.Deleted {
		return badRequest("Network has been deleted.")
	}
	for _, sid := range n.Subnets {
		if s, ok := getRec[subnetRec](t, bSubnets, sid); ok && s.Version == sn.Version {
			return badRequest(fmt.Sprintf("Network %d already has an IPv%d subnet", n.ID, sn.Version))
		}
	}
	used := false
	each(t, bPorts, func(p *portRec) bool { used = p.Network == n.ID; return !used })
	if used {
		return badRequest("Cannot create a subnet in a network that is in use")
	}
	var err error
	if sn.ID, err = t.nextSeq(bSubnets); err != nil {
		return err
	}
	n.Subnets, n.Updated = append(n.Subnets, sn.ID), now
	if err := putRec(t, bNetworks, n.ID, n); err != nil {
		return err
	}
	return putRec(t, bSubnets, sn.ID, sn)
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

func newMAC(id int64) string {
	return fmt.Sprintf("aa:00:00:%02x:%02x:%02x", byte(id>>16), byte(id>>8), byte(id))
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
