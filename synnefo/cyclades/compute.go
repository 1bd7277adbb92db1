package cyclades

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// ComputeServiceType is the catalogue type of the compute service; ComputeVersion is kamaki's default
// version for it.
const (
	ComputeServiceType = "compute"
	ComputeVersion     = "2.0"
)

// Server status values.
const (
	StatusBuild   = "BUILD"
	StatusActive  = "ACTIVE"
	StatusStopped = "STOPPED"
	StatusReboot  = "REBOOT"
	StatusResize  = "RESIZE"
	StatusError   = "ERROR"
	StatusDeleted = "DELETED"
	StatusUnknown = "UNKNOWN"
)

// ComputeClient is the client of the Cyclades compute API (kamaki's CycladesComputeClient).
type ComputeClient struct{ service }

// NewCompute returns a compute client for the catalogue's compute publicURL ("/v2.0" is appended when the
// URL has no version).
func NewCompute(endpointURL, token string, opts synnefo.Options) (*ComputeClient, error) {
	s, err := newService(endpointURL, token, ComputeVersion, opts)
	if err != nil {
		return nil, err
	}
	return &ComputeClient{s}, nil
}

// ServiceType returns ComputeServiceType.
func (*ComputeClient) ServiceType() string { return ComputeServiceType }

// HTTP returns the underlying core client.
func (c *ComputeClient) HTTP() *synnefo.Client { return c.http }

// FlavorRef is the flavor of a server.
type FlavorRef struct {
	ID    int64  `json:"id"`
	Links []Link `json:"links,omitempty"`
}

// ImageRef is the image of a server.
type ImageRef struct {
	ID    string `json:"id"`
	Links []Link `json:"links,omitempty"`
}

// Address is one IP of a server on a network.
type Address struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type,omitempty"`
}

// Attachment is one NIC of a server.
type Attachment struct {
	ID              int64  `json:"id"`
	NetworkID       string `json:"network_id"`
	MACAddress      string `json:"mac_address"`
	IPv4            string `json:"ipv4"`
	IPv6            string `json:"ipv6"`
	FirewallProfile string `json:"firewallProfile,omitempty"`
	IPType          string `json:"OS-EXT-IPS:type,omitempty"`
}

// Server is a server as the compute API renders it (detail form; the list form fills ID, Name, Links).
type Server struct {
	ID              int64                `json:"id"`
	Name            string               `json:"name"`
	Links           []Link               `json:"links,omitempty"`
	UserID          string               `json:"user_id,omitempty"`
	TenantID        string               `json:"tenant_id,omitempty"`
	SharedToProject bool                 `json:"shared_to_project,omitempty"`
	Status          string               `json:"status,omitempty"`
	TaskState       string               `json:"SNF:task_state,omitempty"`
	Progress        int                  `json:"progress,omitempty"`
	HostID          string               `json:"hostId,omitempty"`
	Created         string               `json:"created,omitempty"`
	Updated         string               `json:"updated,omitempty"`
	Flavor          FlavorRef            `json:"flavor"`
	Image           ImageRef             `json:"image"`
	Suspended       bool                 `json:"suspended,omitempty"`
	Metadata        map[string]string    `json:"metadata,omitempty"`
	Tags            []string             `json:"tags,omitempty"`
	Attachments     []Attachment         `json:"attachments,omitempty"`
	Addresses       map[string][]Address `json:"addresses,omitempty"`
	Volumes         []int64              `json:"volumes,omitempty"`
	Diagnostics     []map[string]any     `json:"diagnostics,omitempty"`
	SecurityGroups  []map[string]string  `json:"security_groups,omitempty"`
	KeyName         string               `json:"key_name,omitempty"`
	KeyNames        []string             `json:"SNF:key_names,omitempty"`
	FQDN            string               `json:"SNF:fqdn,omitempty"`
	PortForwarding  map[string]any       `json:"SNF:port_forwarding,omitempty"`
	Deleted         bool                 `json:"deleted,omitempty"`
	Rescue          bool                 `json:"SNF:rescue,omitempty"`
	AdminPass       string               `json:"adminPass,omitempty"` // create reply only
}

// ListOptions selects the list form and the changes-since filter (the only parameter Cyclades honours).
type ListOptions struct {
	Detail       bool
	ChangesSince time.Time // zero → all non-deleted; else changed since, deleted ones included
}

func (o ListOptions) query() url.Values {
	if o.ChangesSince.IsZero() {
		return nil
	}
	return url.Values{"changes-since": {o.ChangesSince.UTC().Format(time.RFC3339Nano)}}
}

// ListServers lists the servers (GET /servers or /servers/detail). A 304 reply to a changes-since query
// gives an empty list.
func (c *ComputeClient) ListServers(ctx context.Context, opts ListOptions) ([]Server, error) {
	var out struct {
		Servers []Server `json:"servers"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: detailPath("/servers", opts.Detail),
		Query: opts.query(), Success: []int{http.StatusOK, http.StatusNotModified}}, nil, &out)
	return out.Servers, err
}

func serverPath(id int64) string { return "/servers/" + strconv.FormatInt(id, 10) }

// GetServer returns a server's details (GET /servers/{id}); deleted servers are returned too.
func (c *ComputeClient) GetServer(ctx context.Context, id int64) (*Server, error) {
	var out struct {
		Server *Server `json:"server"`
	}
	if err := c.get(ctx, serverPath(id), nil, &out); err != nil {
		return nil, err
	}
	if out.Server == nil {
		return nil, &synnefo.ClientError{Message: "reply has no server", Status: http.StatusOK}
	}
	return out.Server, nil
}

// ServerNetwork is one item of CreateServerRequest.Networks: a network (UUID, optionally with a fixed IP)
// or an existing port.
type ServerNetwork struct {
	UUID    string `json:"uuid,omitempty"`
	FixedIP string `json:"fixed_ip,omitempty"`
	Port    string `json:"port,omitempty"`
}

// PersonalityFile is a file injected into a new server. Contents is base64-encoded on the wire.
type PersonalityFile struct {
	Path     string
	Contents []byte
	Owner    string
	Group    string
	Mode     int // e.g. 0o600; 0 → omitted
}

// CreateServerRequest describes a new server. Only Name, FlavorID and ImageID are required.
type CreateServerRequest struct {
	Name     string
	FlavorID int64
	ImageID  string
	Metadata map[string]string
	// Networks: nil → the operator's default policy (key omitted); an empty non-nil slice → no networks
	// ("networks": []); else the listed networks/ports.
	Networks        []ServerNetwork
	Personality     []PersonalityFile
	KeyNames        []string // sent as SNF:key_names
	UserData        []byte   // base64-encoded on the wire
	AdminPass       string
	Tags            []string
	Project         string
	SharedToProject bool
	// SkipImageMetadata disables kamaki's copy of the image's "os" and "users" metadata into Metadata
	// (which costs a GET /images/{id} first).
	SkipImageMetadata bool
}

// CreateServer creates a server (POST /servers → 202) the way kamaki's CycladesComputeClient does: unless
// SkipImageMetadata, it first reads the image (GET /images/{id}) and copies its "os" and "users" metadata
// into the server's metadata where not set. The reply carries AdminPass (only here). A create is never
// retried.
func (c *ComputeClient) CreateServer(ctx context.Context, req CreateServerRequest) (*Server, error) {
	meta := make(map[string]string, len(req.Metadata)+2)
	for k, v := range req.Metadata {
		meta[k] = v
	}
	if !req.SkipImageMetadata {
		img, err := c.GetImage(ctx, req.ImageID)
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"os", "users"} {
			if v, ok := img.Metadata[k]; ok {
				if _, set := meta[k]; !set {
					meta[k] = v
				}
			}
		}
	}
	s := map[string]any{"name": req.Name, "flavorRef": req.FlavorID, "imageRef": req.ImageID}
	if len(meta) > 0 {
		s["metadata"] = meta
	}
	if req.Networks != nil {
		s["networks"] = req.Networks
	}
	if len(req.Personality) > 0 {
		ps := make([]map[string]any, len(req.Personality))
		for i, p := range req.Personality {
			m := map[string]any{"path": p.Path, "contents": base64.StdEncoding.EncodeToString(p.Contents)}
			if p.Owner != "" {
				m["owner"] = p.Owner
			}
			if p.Group != "" {
				m["group"] = p.Group
			}
			if p.Mode != 0 {
				m["mode"] = p.Mode
			}
			ps[i] = m
		}
		s["personality"] = ps
	}
	if len(req.KeyNames) > 0 {
		s["SNF:key_names"] = req.KeyNames
	}
	if req.UserData != nil {
		s["user_data"] = base64.StdEncoding.EncodeToString(req.UserData)
	}
	if req.AdminPass != "" {
		s["adminPass"] = req.AdminPass
	}
	if len(req.Tags) > 0 {
		s["tags"] = req.Tags
	}
	if req.Project != "" {
		s["project"] = req.Project
	}
	if req.SharedToProject {
		s["shared_to_project"] = true
	}
	var out struct {
		Server *Server `json:"server"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/servers", map[string]any{"server": s}, &out, http.StatusAccepted); err != nil {
		return nil, err
	}
	if out.Server == nil {
		return nil, &synnefo.ClientError{Message: "create reply has no server", Status: http.StatusAccepted}
	}
	return out.Server, nil
}

// UpdateServerName renames a server (PUT /servers/{id} → 204).
func (c *ComputeClient) UpdateServerName(ctx context.Context, id int64, name string) error {
	_, err := c.send(ctx, http.MethodPut, serverPath(id), map[string]any{"server": map[string]string{"name": name}}, nil, http.StatusNoContent)
	return err
}

// DeleteServer deletes a server (DELETE /servers/{id} → 204; the deletion itself is asynchronous).
func (c *ComputeClient) DeleteServer(ctx context.Context, id int64) error {
	_, err := c.send(ctx, http.MethodDelete, serverPath(id), nil, nil, http.StatusNoContent)
	return err
}

// Action posts a one-key action body to /servers/{id}/action and decodes the reply into out (nil →
// discarded). success lists the accepted statuses (empty → 202).
func (c *ComputeClient) Action(ctx context.Context, id int64, action string, args, out any, success ...int) error {
	if len(success) == 0 {
		success = []int{http.StatusAccepted}
	}
	_, err := c.send(ctx, http.MethodPost, serverPath(id)+"/action", map[string]any{action: args}, out, success...)
	return err
}

// StartServer starts a STOPPED server ({"start": {}} → 202).
func (c *ComputeClient) StartServer(ctx context.Context, id int64) error {
	return c.Action(ctx, id, "start", empty, nil)
}

// ShutdownServer stops an ACTIVE server ({"shutdown": {}} → 202).
func (c *ComputeClient) ShutdownServer(ctx context.Context, id int64) error {
	return c.Action(ctx, id, "shutdown", empty, nil)
}

// RebootServer reboots a server ({"reboot": {"type": "SOFT"|"HARD"}} → 202).
func (c *ComputeClient) RebootServer(ctx context.Context, id int64, hard bool) error {
	t := "SOFT"
	if hard {
		t = "HARD"
	}
	return c.Action(ctx, id, "reboot", map[string]string{"type": t}, nil)
}

// ResizeServer changes a STOPPED server's flavor ({"resize": {"flavorRef": N}} → 202).
func (c *ComputeClient) ResizeServer(ctx context.Context, id, flavorID int64) error {
	return c.Action(ctx, id, "resize", map[string]int64{"flavorRef": flavorID}, nil)
}

// Console is the reply of the console action.
type Console struct {
	Type     string `json:"type"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Password string `json:"password"`
	URL      string `json:"url,omitempty"`
}

// GetServerConsole asks for a console of an ACTIVE server ({"console": {"type": T}} → 200); consoleType
// "" means "vnc".
func (c *ComputeClient) GetServerConsole(ctx context.Context, id int64, consoleType string) (*Console, error) {
	if consoleType == "" {
		consoleType = "vnc"
	}
	var out struct {
		Console Console `json:"console"`
	}
	if err := c.Action(ctx, id, "console", map[string]string{"type": consoleType}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out.Console, nil
}

// SetFirewallProfile sets a NIC's firewall profile (ENABLED, DISABLED or PROTECTED) → 202.
func (c *ComputeClient) SetFirewallProfile(ctx context.Context, id int64, profile, portID string) error {
	return c.Action(ctx, id, "firewallProfile", map[string]string{"profile": profile, "nic": portID}, nil)
}

// ReassignServer moves a server to another project ({"reassign": {"project": P}} → 200).
func (c *ComputeClient) ReassignServer(ctx context.Context, id int64, project string) error {
	return c.Action(ctx, id, "reassign", map[string]string{"project": project}, nil, http.StatusOK)
}

// GetServerMetadata returns all metadata of a server (GET /servers/{id}/metadata).
func (c *ComputeClient) GetServerMetadata(ctx context.Context, id int64) (map[string]string, error) {
	var out struct {
		Metadata map[string]string `json:"metadata"`
	}
	err := c.get(ctx, serverPath(id)+"/metadata", nil, &out)
	return out.Metadata, err
}

// GetServerMetadataKey returns one metadata value (GET /servers/{id}/metadata/{key}, reply {"meta": …});
// a missing key is a 404 *synnefo.ClientError.
func (c *ComputeClient) GetServerMetadataKey(ctx context.Context, id int64, key string) (string, error) {
	var out struct {
		Meta map[string]string `json:"meta"`
	}
	if err := c.get(ctx, serverPath(id)+"/metadata/"+key, nil, &out); err != nil {
		return "", err
	}
	return out.Meta[key], nil
}

// SetServerMetadata sets one key (PUT /servers/{id}/metadata/{key} {"meta": {key: value}} → 201).
func (c *ComputeClient) SetServerMetadata(ctx context.Context, id int64, key, value string) error {
	_, err := c.send(ctx, http.MethodPut, serverPath(id)+"/metadata/"+key,
		map[string]any{"meta": map[string]string{key: value}}, nil, http.StatusCreated)
	return err
}

// UpdateServerMetadata merges meta into the server's metadata (POST /servers/{id}/metadata → 201) and
// returns the whole resulting metadata.
func (c *ComputeClient) UpdateServerMetadata(ctx context.Context, id int64, meta map[string]string) (map[string]string, error) {
	var out struct {
		Metadata map[string]string `json:"metadata"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodPost, Path: serverPath(id) + "/metadata",
		Idempotent: true, Success: []int{http.StatusCreated}}, map[string]any{"metadata": meta}, &out)
	return out.Metadata, err
}

// DeleteServerMetadata deletes one key (DELETE /servers/{id}/metadata/{key} → 204; 404 if missing).
func (c *ComputeClient) DeleteServerMetadata(ctx context.Context, id int64, key string) error {
	_, err := c.send(ctx, http.MethodDelete, serverPath(id)+"/metadata/"+key, nil, nil, http.StatusNoContent)
	return err
}

// ServerNICs is the reply of GET /servers/{id}/ips.
type ServerNICs struct {
	Addresses   map[string][]Address `json:"addresses"`
	Attachments []Attachment         `json:"attachments"`
}

// GetServerNICs returns a server's addresses and NICs (GET /servers/{id}/ips).
func (c *ComputeClient) GetServerNICs(ctx context.Context, id int64) (*ServerNICs, error) {
	var out ServerNICs
	if err := c.get(ctx, serverPath(id)+"/ips", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Flavor is a flavor (detail form; the list form fills ID, Name, Links).
type Flavor struct {
	ID           int64    `json:"id"`
	Name         string   `json:"name"`
	Links        []Link   `json:"links,omitempty"`
	RAM          int      `json:"ram,omitempty"`   // MiB
	VCPUs        int      `json:"vcpus,omitempty"` // count
	Disk         int      `json:"disk,omitempty"`  // GiB
	DiskTemplate string   `json:"SNF:disk_template,omitempty"`
	VolumeType   int64    `json:"SNF:volume_type,omitempty"`
	AllowCreate  bool     `json:"SNF:allow_create,omitempty"`
	IsPublic     bool     `json:"os-flavor-access:is_public,omitempty"`
	FlavorAccess []string `json:"SNF:flavor-access,omitempty"`
}

// ListFlavors lists flavors (GET /flavors or /flavors/detail).
func (c *ComputeClient) ListFlavors(ctx context.Context, detail bool) ([]Flavor, error) {
	var out struct {
		Flavors []Flavor `json:"flavors"`
	}
	err := c.get(ctx, detailPath("/flavors", detail), nil, &out)
	return out.Flavors, err
}

// GetFlavor returns a flavor's details (GET /flavors/{id}).
func (c *ComputeClient) GetFlavor(ctx context.Context, id int64) (*Flavor, error) {
	var out struct {
		Flavor *Flavor `json:"flavor"`
	}
	if err := c.get(ctx, "/flavors/"+strconv.FormatInt(id, 10), nil, &out); err != nil {
		return nil, err
	}
	if out.Flavor == nil {
		return nil, &synnefo.ClientError{Message: "reply has no flavor", Status: http.StatusOK}
	}
	return out.Flavor, nil
}

// Image is an image as the compute API renders it (detail form; the list form fills ID and Name).
type Image struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Created    string            `json:"created,omitempty"`
	Updated    string            `json:"updated,omitempty"`
	Status     string            `json:"status,omitempty"`
	Progress   int               `json:"progress,omitempty"`
	UserID     string            `json:"user_id,omitempty"`
	TenantID   string            `json:"tenant_id,omitempty"`
	Public     bool              `json:"public,omitempty"`
	Links      []Link            `json:"links,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	IsSnapshot bool              `json:"is_snapshot,omitempty"`
}

// ListImages lists images through the compute API (GET /images or /images/detail).
func (c *ComputeClient) ListImages(ctx context.Context, detail bool) ([]Image, error) {
	var out struct {
		Images []Image `json:"images"`
	}
	err := c.get(ctx, detailPath("/images", detail), nil, &out)
	return out.Images, err
}

// GetImage returns an image's details through the compute API (GET /images/{id}).
func (c *ComputeClient) GetImage(ctx context.Context, id string) (*Image, error) {
	var out struct {
		Image *Image `json:"image"`
	}
	if err := c.get(ctx, "/images/"+id, nil, &out); err != nil {
		return nil, err
	}
	if out.Image == nil {
		return nil, &synnefo.ClientError{Message: "reply has no image", Status: http.StatusOK}
	}
	return out.Image, nil
}

// DeleteImage unregisters an image through the compute API (DELETE /images/{id} → 204).
func (c *ComputeClient) DeleteImage(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/images/"+id, nil, nil, http.StatusNoContent)
	return err
}
