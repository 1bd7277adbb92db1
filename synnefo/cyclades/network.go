package cyclades

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/pithosfs/pithosfs/synnefo"
)

// NetworkServiceType is the catalogue type of the network service; NetworkVersion is kamaki's default
// version for it (the catalogue publishes the URL without it).
const (
	NetworkServiceType = "network"
	NetworkVersion     = "2.0"
)

// Network types a user may ask for (Cyclades allows only MAC_FILTERED by default).
const (
	NetworkCustom       = "CUSTOM"
	NetworkMACFiltered  = "MAC_FILTERED"
	NetworkIPLessRouted = "IP_LESS_ROUTED"
	NetworkPhysicalVLAN = "PHYSICAL_VLAN"
)

// NetworkTypes lists the valid network types (kamaki's network_types).
var NetworkTypes = []string{NetworkCustom, NetworkMACFiltered, NetworkIPLessRouted, NetworkPhysicalVLAN}

// NetworkClient is the client of the Cyclades network API (kamaki's CycladesNetworkClient).
type NetworkClient struct{ service }

// NewNetwork returns a network client for the catalogue's network publicURL ("/v2.0" is appended when the
// URL has no version).
func NewNetwork(endpointURL, token string, opts synnefo.Options) (*NetworkClient, error) {
	s, err := newService(endpointURL, token, NetworkVersion, opts)
	if err != nil {
		return nil, err
	}
	return &NetworkClient{s}, nil
}

// ServiceType returns NetworkServiceType.
func (*NetworkClient) ServiceType() string { return NetworkServiceType }

// HTTP returns the underlying core client.
func (c *NetworkClient) HTTP() *synnefo.Client { return c.http }

// Network is a network.
type Network struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Links           []Link   `json:"links,omitempty"`
	UserID          string   `json:"user_id,omitempty"`
	TenantID        string   `json:"tenant_id,omitempty"`
	SharedToProject bool     `json:"shared_to_project,omitempty"`
	Type            string   `json:"type,omitempty"`
	Created         string   `json:"created,omitempty"`
	Updated         string   `json:"updated,omitempty"`
	Status          string   `json:"status,omitempty"`
	Public          bool     `json:"public,omitempty"`
	Shared          bool     `json:"shared,omitempty"`
	RouterExternal  bool     `json:"router:external,omitempty"`
	AdminStateUp    bool     `json:"admin_state_up,omitempty"`
	Subnets         []string `json:"subnets,omitempty"`
	FloatingIPPool  bool     `json:"SNF:floating_ip_pool,omitempty"`
	Deleted         bool     `json:"deleted,omitempty"`
}

// ListNetworks lists the visible networks (GET /networks or /networks/detail; both are detailed).
func (c *NetworkClient) ListNetworks(ctx context.Context, detail bool) ([]Network, error) {
	var out struct {
		Networks []Network `json:"networks"`
	}
	err := c.get(ctx, detailPath("/networks", detail), nil, &out)
	return out.Networks, err
}

// GetNetwork returns a network (GET /networks/{id}).
func (c *NetworkClient) GetNetwork(ctx context.Context, id string) (*Network, error) {
	var out struct {
		Network *Network `json:"network"`
	}
	if err := c.get(ctx, "/networks/"+id, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.Network, "network")
}

func nonNil[T any](v *T, what string) (*T, error) {
	if v == nil {
		return nil, &synnefo.ClientError{Message: "reply has no " + what}
	}
	return v, nil
}

// CreateNetworkRequest describes a new private network.
type CreateNetworkRequest struct {
	Type            string // one of NetworkTypes; "" → MAC_FILTERED
	Name            string
	Project         string
	SharedToProject bool
}

// CreateNetwork creates a network (POST /networks {"network": {"type", "admin_state_up": true, …}} → 201).
// An unknown type is refused before sending.
func (c *NetworkClient) CreateNetwork(ctx context.Context, req CreateNetworkRequest) (*Network, error) {
	if req.Type == "" {
		req.Type = NetworkMACFiltered
	}
	if !slices.Contains(NetworkTypes, req.Type) {
		return nil, &synnefo.ClientError{Message: fmt.Sprintf("invalid network type %q (valid: %v)", req.Type, NetworkTypes)}
	}
	n := map[string]any{"type": req.Type, "admin_state_up": true}
	if req.Name != "" {
		n["name"] = req.Name
	}
	if req.Project != "" {
		n["project"] = req.Project
	}
	if req.SharedToProject {
		n["shared_to_project"] = true
	}
	var out struct {
		Network *Network `json:"network"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/networks", map[string]any{"network": n}, &out, http.StatusCreated); err != nil {
		return nil, err
	}
	return nonNil(out.Network, "network")
}

// UpdateNetwork renames a network (PUT /networks/{id} {"network": {"name": …}} → 200).
func (c *NetworkClient) UpdateNetwork(ctx context.Context, id, name string) (*Network, error) {
	var out struct {
		Network *Network `json:"network"`
	}
	if _, err := c.send(ctx, http.MethodPut, "/networks/"+id, map[string]any{"network": map[string]string{"name": name}}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return nonNil(out.Network, "network")
}

// DeleteNetwork deletes a network (DELETE /networks/{id} → 204; 409 while ports or floating IPs use it).
func (c *NetworkClient) DeleteNetwork(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/networks/"+id, nil, nil, http.StatusNoContent)
	return err
}

// ReassignNetwork moves a network to another project (POST /networks/{id}/action → 200).
func (c *NetworkClient) ReassignNetwork(ctx context.Context, id, project string) error {
	_, err := c.send(ctx, http.MethodPost, "/networks/"+id+"/action",
		map[string]any{"reassign": map[string]string{"project": project}}, nil, http.StatusOK)
	return err
}

// AllocationPool is an address range of a subnet.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Subnet is a subnet.
type Subnet struct {
	ID              string           `json:"id"`
	NetworkID       string           `json:"network_id"`
	Name            string           `json:"name"`
	TenantID        string           `json:"tenant_id,omitempty"`
	UserID          string           `json:"user_id,omitempty"`
	Public          bool             `json:"public,omitempty"`
	GatewayIP       *string          `json:"gateway_ip"` // nil: no gateway
	IPVersion       int              `json:"ip_version"`
	CIDR            string           `json:"cidr"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	EnableSLAAC     bool             `json:"enable_slaac,omitempty"`
	DNSNameservers  []string         `json:"dns_nameservers,omitempty"`
	HostRoutes      []any            `json:"host_routes,omitempty"`
	AllocationPools []AllocationPool `json:"allocation_pools,omitempty"`
	Deleted         bool             `json:"deleted,omitempty"`
	Links           []Link           `json:"links,omitempty"`
}

// ListSubnets lists subnets (GET /subnets).
func (c *NetworkClient) ListSubnets(ctx context.Context) ([]Subnet, error) {
	var out struct {
		Subnets []Subnet `json:"subnets"`
	}
	err := c.get(ctx, "/subnets", nil, &out)
	return out.Subnets, err
}

// GetSubnet returns a subnet (GET /subnets/{id}).
func (c *NetworkClient) GetSubnet(ctx context.Context, id string) (*Subnet, error) {
	var out struct {
		Subnet *Subnet `json:"subnet"`
	}
	if err := c.get(ctx, "/subnets/"+id, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.Subnet, "subnet")
}

// CreateSubnetRequest describes a new subnet. Zero values are omitted.
type CreateSubnetRequest struct {
	NetworkID       string
	CIDR            string
	Name            string
	IPVersion       int    // 4 or 6; 0 → server default (4)
	GatewayIP       string // "" → the server picks the CIDR's first host (unless NoGateway)
	NoGateway       bool   // send "gateway_ip": null
	EnableDHCP      *bool
	EnableSLAAC     *bool
	AllocationPools []AllocationPool
	DNSNameservers  []string
}

// CreateSubnet creates a subnet (POST /subnets → 201).
func (c *NetworkClient) CreateSubnet(ctx context.Context, req CreateSubnetRequest) (*Subnet, error) {
	s := map[string]any{"network_id": req.NetworkID, "cidr": req.CIDR}
	if req.Name != "" {
		s["name"] = req.Name
	}
	if req.IPVersion != 0 {
		s["ip_version"] = req.IPVersion
	}
	switch {
	case req.NoGateway:
		s["gateway_ip"] = nil
	case req.GatewayIP != "":
		s["gateway_ip"] = req.GatewayIP
	}
	if req.EnableDHCP != nil {
		s["enable_dhcp"] = *req.EnableDHCP
	}
	if req.EnableSLAAC != nil {
		s["enable_slaac"] = *req.EnableSLAAC
	}
	if len(req.AllocationPools) > 0 {
		s["allocation_pools"] = req.AllocationPools
	}
	if len(req.DNSNameservers) > 0 {
		s["dns_nameservers"] = req.DNSNameservers
	}
	var out struct {
		Subnet *Subnet `json:"subnet"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/subnets", map[string]any{"subnet": s}, &out, http.StatusCreated); err != nil {
		return nil, err
	}
	return nonNil(out.Subnet, "subnet")
}

// UpdateSubnet renames a subnet (PUT /subnets/{id} {"subnet": {"name": …}} → 200; only the name may change).
func (c *NetworkClient) UpdateSubnet(ctx context.Context, id, name string) (*Subnet, error) {
	var out struct {
		Subnet *Subnet `json:"subnet"`
	}
	if _, err := c.send(ctx, http.MethodPut, "/subnets/"+id, map[string]any{"subnet": map[string]string{"name": name}}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return nonNil(out.Subnet, "subnet")
}

// DeleteSubnet sends DELETE /subnets/{id}; Cyclades always refuses it with 400.
func (c *NetworkClient) DeleteSubnet(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/subnets/"+id, nil, nil, http.StatusNoContent)
	return err
}

// FixedIP is one fixed IP of a port.
type FixedIP struct {
	IPAddress string `json:"ip_address,omitempty"`
	Subnet    string `json:"subnet,omitempty"`
}

// Port is a port (a server's NIC on a network).
type Port struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Links          []Link    `json:"links,omitempty"`
	UserID         string    `json:"user_id,omitempty"`
	TenantID       string    `json:"tenant_id,omitempty"`
	DeviceID       *string   `json:"device_id"` // nil when not attached
	AdminStateUp   bool      `json:"admin_state_up,omitempty"`
	MACAddress     string    `json:"mac_address,omitempty"`
	Status         string    `json:"status,omitempty"`
	DeviceOwner    string    `json:"device_owner,omitempty"`
	NetworkID      string    `json:"network_id"`
	Created        string    `json:"created,omitempty"`
	Updated        string    `json:"updated,omitempty"`
	FixedIPs       []FixedIP `json:"fixed_ips,omitempty"`
	SecurityGroups []any     `json:"security_groups,omitempty"`
}

// ListPorts lists ports (GET /ports or /ports/detail).
func (c *NetworkClient) ListPorts(ctx context.Context, detail bool) ([]Port, error) {
	var out struct {
		Ports []Port `json:"ports"`
	}
	err := c.get(ctx, detailPath("/ports", detail), nil, &out)
	return out.Ports, err
}

// GetPort returns a port (GET /ports/{id}).
func (c *NetworkClient) GetPort(ctx context.Context, id string) (*Port, error) {
	var out struct {
		Port *Port `json:"port"`
	}
	if err := c.get(ctx, "/ports/"+id, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.Port, "port")
}

// CreatePortRequest connects a server (DeviceID) to a network.
type CreatePortRequest struct {
	NetworkID      string
	DeviceID       string // server id
	Name           string
	FixedIPs       []FixedIP // at most one IPv4; on a public network one of the caller's floating IPs
	SecurityGroups []string
}

// CreatePort creates a port (POST /ports → 201).
func (c *NetworkClient) CreatePort(ctx context.Context, req CreatePortRequest) (*Port, error) {
	p := map[string]any{"network_id": req.NetworkID}
	if req.DeviceID != "" {
		p["device_id"] = req.DeviceID
	}
	if req.Name != "" {
		p["name"] = req.Name
	}
	if len(req.FixedIPs) > 0 {
		p["fixed_ips"] = req.FixedIPs
	}
	if len(req.SecurityGroups) > 0 {
		p["security_groups"] = req.SecurityGroups
	}
	var out struct {
		Port *Port `json:"port"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/ports", map[string]any{"port": p}, &out, http.StatusCreated); err != nil {
		return nil, err
	}
	return nonNil(out.Port, "port")
}

// UpdatePort renames a port (PUT /ports/{id} → 200).
func (c *NetworkClient) UpdatePort(ctx context.Context, id, name string) (*Port, error) {
	var out struct {
		Port *Port `json:"port"`
	}
	if _, err := c.send(ctx, http.MethodPut, "/ports/"+id, map[string]any{"port": map[string]string{"name": name}}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return nonNil(out.Port, "port")
}

// DeletePort deletes a port, detaching it from its server (DELETE /ports/{id} → 204).
func (c *NetworkClient) DeletePort(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/ports/"+id, nil, nil, http.StatusNoContent)
	return err
}

// WaitPort polls GET /ports/{id} while the status equals currentStatus ("" → BUILD).
func (c *NetworkClient) WaitPort(ctx context.Context, id, currentStatus string, opts *WaitOptions) (*Port, error) {
	if currentStatus == "" {
		currentStatus = "BUILD"
	}
	return waitFor(ctx, "port "+id, opts, func(ctx context.Context) (*Port, string, error) {
		p, err := c.GetPort(ctx, id)
		if err != nil {
			return nil, "", err
		}
		return p, p.Status, nil
	}, func(s string) bool { return s != currentStatus })
}

// FloatingIP is a floating IP (network API form).
type FloatingIP struct {
	ID                string  `json:"id"`
	FloatingIPAddress string  `json:"floating_ip_address"`
	FloatingNetworkID string  `json:"floating_network_id"`
	FixedIPAddress    *string `json:"fixed_ip_address"`
	PortID            *string `json:"port_id"`
	InstanceID        *string `json:"instance_id"`
	UserID            string  `json:"user_id,omitempty"`
	TenantID          string  `json:"tenant_id,omitempty"`
	SharedToProject   bool    `json:"shared_to_project,omitempty"`
	Deleted           bool    `json:"deleted,omitempty"`
}

// ListFloatingIPs lists the caller's floating IPs (GET /floatingips).
func (c *NetworkClient) ListFloatingIPs(ctx context.Context) ([]FloatingIP, error) {
	var out struct {
		FloatingIPs []FloatingIP `json:"floatingips"`
	}
	err := c.get(ctx, "/floatingips", nil, &out)
	return out.FloatingIPs, err
}

// GetFloatingIP returns a floating IP (GET /floatingips/{id}).
func (c *NetworkClient) GetFloatingIP(ctx context.Context, id string) (*FloatingIP, error) {
	var out struct {
		FloatingIP *FloatingIP `json:"floatingip"`
	}
	if err := c.get(ctx, "/floatingips/"+id, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.FloatingIP, "floatingip")
}

// CreateFloatingIPRequest reserves a floating IP; every field is optional.
type CreateFloatingIPRequest struct {
	FloatingNetworkID string
	FloatingIPAddress string
	Project           string
}

// CreateFloatingIP reserves a floating IP (POST /floatingips {"floatingip": {…}} → 200).
func (c *NetworkClient) CreateFloatingIP(ctx context.Context, req CreateFloatingIPRequest) (*FloatingIP, error) {
	f := map[string]any{}
	if req.FloatingNetworkID != "" {
		f["floating_network_id"] = req.FloatingNetworkID
	}
	if req.FloatingIPAddress != "" {
		f["floating_ip_address"] = req.FloatingIPAddress
	}
	if req.Project != "" {
		f["project"] = req.Project
	}
	var out struct {
		FloatingIP *FloatingIP `json:"floatingip"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/floatingips", map[string]any{"floatingip": f}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return nonNil(out.FloatingIP, "floatingip")
}

// DeleteFloatingIP releases a floating IP (DELETE /floatingips/{id} → 204; 409 while attached).
func (c *NetworkClient) DeleteFloatingIP(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/floatingips/"+id, nil, nil, http.StatusNoContent)
	return err
}

// ReassignFloatingIP moves a floating IP to another project (POST /floatingips/{id}/action → 200).
func (c *NetworkClient) ReassignFloatingIP(ctx context.Context, id, project string) error {
	_, err := c.send(ctx, http.MethodPost, "/floatingips/"+id+"/action",
		map[string]any{"reassign": map[string]string{"project": project}}, nil, http.StatusOK)
	return err
}
