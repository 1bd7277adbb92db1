package localcloud

// The network API's replies, typed (cyclades-api.md §7): the handlers render
// stored records with the request's URLs and encoding/json writes them.

// nullable is s, or JSON null for "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// idString is a non-zero id as a string, else JSON null.
func idString(id int64) *string {
	if id == 0 {
		return nil
	}
	return nullable(itoa(id))
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

// networkView is a network (§7.1).
type networkView struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Links           []link   `json:"links"`
	UserID          *string  `json:"user_id"`
	TenantID        *string  `json:"tenant_id"`
	SharedToProject bool     `json:"shared_to_project"`
	Type            string   `json:"type"`
	Created         string   `json:"created"`
	Updated         string   `json:"updated"`
	Status          string   `json:"status"`
	Public          bool     `json:"public"`
	Shared          bool     `json:"shared"`
	External        bool     `json:"router:external"`
	AdminStateUp    bool     `json:"admin_state_up"`
	Subnets         []string `json:"subnets"`
	FloatingIPPool  bool     `json:"SNF:floating_ip_pool"`
	Deleted         bool     `json:"deleted"`
}

func (q *caller) networkView(n *networkRec) *networkView {
	subnets := []string{}
	for _, s := range n.Subnets {
		subnets = append(subnets, itoa(s))
	}
	status := "ACTIVE"
	if n.Deleted {
		status = "DELETED"
	}
	return &networkView{
		ID: itoa(n.ID), Name: n.Name, Links: links(q.networkURL() + "/networks/" + itoa(n.ID)),
		UserID: nullable(n.Owner), TenantID: nullable(n.Project), SharedToProject: n.Shared,
		Type: n.Type, Created: isoDate(n.Created), Updated: isoDate(n.Updated), Status: status,
		Public: n.Public, Shared: n.Public, External: n.Public, AdminStateUp: true,
		Subnets: subnets, FloatingIPPool: n.FloatingPool, Deleted: n.Deleted,
	}
}

// subnetView is a subnet (§7.2); enable_slaac only for IPv6.
type subnetView struct {
	ID         string   `json:"id"`
	NetworkID  string   `json:"network_id"`
	Name       string   `json:"name"`
	TenantID   *string  `json:"tenant_id"`
	UserID     *string  `json:"user_id"`
	Public     bool     `json:"public"`
	Gateway    *string  `json:"gateway_ip"`
	IPVersion  int      `json:"ip_version"`
	CIDR       string   `json:"cidr"`
	DHCP       bool     `json:"enable_dhcp"`
	SLAAC      *bool    `json:"enable_slaac,omitempty"`
	DNS        []string `json:"dns_nameservers"`
	HostRoutes []any    `json:"host_routes"`
	Pools      []ipPool `json:"allocation_pools"`
	Deleted    bool     `json:"deleted"`
	Links      []link   `json:"links"`
}

func (q *caller) subnetView(s *subnetRec) *subnetView {
	out := &subnetView{
		ID: itoa(s.ID), NetworkID: itoa(s.Network), Name: s.Name,
		TenantID: nullable(s.Owner), UserID: nullable(s.Owner), Public: s.Public,
		Gateway: s.Gateway, IPVersion: s.Version, CIDR: s.CIDR, DHCP: s.DHCP,
		DNS: nonNil(s.DNS), HostRoutes: nonNilAny(s.Routes), Pools: s.Pools,
		Links: links(q.networkURL() + "/subnets/" + itoa(s.ID)),
	}
	if s.Version == 6 {
		slaac := s.SLAAC
		out.SLAAC = &slaac
	}
	return out
}

// fixedIP is one address of a port.
type fixedIP struct {
	Addr   string `json:"ip_address"`
	Subnet string `json:"subnet"`
}

// portView is a port (§7.3).
type portView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Links          []link    `json:"links"`
	UserID         string    `json:"user_id"`
	TenantID       string    `json:"tenant_id"`
	DeviceID       *string   `json:"device_id"`
	AdminStateUp   bool      `json:"admin_state_up"`
	MAC            string    `json:"mac_address"`
	Status         string    `json:"status"`
	DeviceOwner    *string   `json:"device_owner"`
	NetworkID      string    `json:"network_id"`
	Created        string    `json:"created"`
	Updated        string    `json:"updated"`
	FixedIPs       []fixedIP `json:"fixed_ips"`
	SecurityGroups []string  `json:"security_groups"`
}

func (q *caller) portView(p *portRec) *portView {
	ips := []fixedIP{}
	for _, ip := range p.IPs {
		ips = append(ips, fixedIP{Addr: ip.Addr, Subnet: itoa(ip.Subnet)})
	}
	var owner *string
	if p.Device != 0 {
		owner = nullable("vm")
	}
	return &portView{
		ID: itoa(p.ID), Name: p.Name, Links: links(q.networkURL() + "/ports/" + itoa(p.ID)),
		UserID: p.Owner, TenantID: p.Owner, DeviceID: idString(p.Device), AdminStateUp: true,
		MAC: p.MAC, Status: p.Status, DeviceOwner: owner, NetworkID: itoa(p.Network),
		Created: isoDate(p.Created), Updated: isoDate(p.Updated), FixedIPs: ips,
		SecurityGroups: nonNil(p.SecGroup),
	}
}

// floatingView is a floating IP in the network API (§7.4).
type floatingView struct {
	ID              string  `json:"id"`
	Addr            string  `json:"floating_ip_address"`
	NetworkID       string  `json:"floating_network_id"`
	FixedIP         *string `json:"fixed_ip_address"`
	PortID          *string `json:"port_id"`
	InstanceID      *string `json:"instance_id"`
	UserID          string  `json:"user_id"`
	TenantID        string  `json:"tenant_id"`
	SharedToProject bool    `json:"shared_to_project"`
	Deleted         bool    `json:"deleted"`
}

func floatingViewOf(f *floatingRec) *floatingView {
	return &floatingView{
		ID: itoa(f.ID), Addr: f.Addr, NetworkID: itoa(f.Network),
		PortID: idString(f.Port), InstanceID: idString(f.Server), UserID: f.Owner,
		TenantID: f.Project, Deleted: f.Deleted,
	}
}

// computeFloatingView is a floating IP in the compute API's
// /os-floating-ips.
type computeFloatingView struct {
	FixedIP    *string `json:"fixed_ip"`
	ID         int64   `json:"id"`
	InstanceID *string `json:"instance_id"`
	IP         string  `json:"ip"`
	Pool       *string `json:"pool"`
}

func computeFloatingViewOf(f *floatingRec) *computeFloatingView {
	return &computeFloatingView{ID: f.ID, InstanceID: idString(f.Server), IP: f.Addr}
}

type floatingIPReply struct {
	FloatingIP *floatingView `json:"floatingip"`
}

type computeFloatingIPReply struct {
	FloatingIP *computeFloatingView `json:"floating_ip"`
}
