package cyclades

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// FlavorFilter narrows ListFlavorsFiltered with Cyclades' flavor query parameters.
type FlavorFilter struct {
	Detail    bool
	IsPublic  *bool  // SNF:is_public
	ProjectID string // SNF:flavor-access
}

// ListFlavorsFiltered lists flavors with Cyclades' SNF:is_public / SNF:flavor-access filters (kamaki's
// CycladesComputeClient.list_flavors).
func (c *ComputeClient) ListFlavorsFiltered(ctx context.Context, f FlavorFilter) ([]Flavor, error) {
	q := url.Values{}
	if f.IsPublic != nil {
		q.Set("SNF:is_public", strconv.FormatBool(*f.IsPublic))
	}
	if f.ProjectID != "" {
		q.Set("SNF:flavor-access", f.ProjectID)
	}
	var out struct {
		Flavors []Flavor `json:"flavors"`
	}
	err := c.get(ctx, detailPath("/flavors", f.Detail), q, &out)
	return out.Flavors, err
}

// Keypair is an SSH key pair (/os-keypairs).
type Keypair struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint,omitempty"`
	PublicKey   string `json:"public_key,omitempty"`
	PrivateKey  string `json:"private_key,omitempty"` // only when the server generated the pair
	ID          int64  `json:"id,omitempty"`
	CreatedAt   string `json:"created_at,omitempty"`
	UpdatedAt   string `json:"updated_at,omitempty"`
}

// ListKeypairs lists the caller's key pairs (GET /os-keypairs; each item is wrapped in {"keypair": …}).
func (c *ComputeClient) ListKeypairs(ctx context.Context) ([]Keypair, error) {
	var out struct {
		Keypairs []struct {
			Keypair Keypair `json:"keypair"`
		} `json:"keypairs"`
	}
	if err := c.get(ctx, "/os-keypairs", nil, &out); err != nil {
		return nil, err
	}
	ks := make([]Keypair, len(out.Keypairs))
	for i, k := range out.Keypairs {
		ks[i] = k.Keypair
	}
	return ks, nil
}

// GetKeypair returns one key pair (GET /os-keypairs/{name}).
func (c *ComputeClient) GetKeypair(ctx context.Context, name string) (*Keypair, error) {
	var out struct {
		Keypair *Keypair `json:"keypair"`
	}
	if err := c.get(ctx, "/os-keypairs/"+name, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.Keypair, "keypair")
}

// CreateKeypair uploads publicKey under name, or lets the server generate a pair when publicKey is ""
// (the reply then carries PrivateKey) (POST /os-keypairs → 201; 409 for a duplicate name).
func (c *ComputeClient) CreateKeypair(ctx context.Context, name, publicKey string) (*Keypair, error) {
	k := map[string]string{"name": name}
	if publicKey != "" {
		k["public_key"] = publicKey
	}
	var out struct {
		Keypair *Keypair `json:"keypair"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/os-keypairs", map[string]any{"keypair": k}, &out, http.StatusCreated); err != nil {
		return nil, err
	}
	return nonNil(out.Keypair, "keypair")
}

// DeleteKeypair deletes a key pair (DELETE /os-keypairs/{name} → 204).
func (c *ComputeClient) DeleteKeypair(ctx context.Context, name string) error {
	_, err := c.send(ctx, http.MethodDelete, "/os-keypairs/"+name, nil, nil, http.StatusNoContent)
	return err
}

// VolumeAttachmentInfo is one attachment of a volume to a server (compute API).
type VolumeAttachmentInfo struct {
	ID       json.Number `json:"id"`
	VolumeID json.Number `json:"volumeId"`
	ServerID json.Number `json:"serverId"`
	Device   string      `json:"device"`
}

// ListVolumeAttachments lists a server's volume attachments (GET /servers/{id}/os-volume_attachments).
func (c *ComputeClient) ListVolumeAttachments(ctx context.Context, serverID int64) ([]VolumeAttachmentInfo, error) {
	var out struct {
		VolumeAttachments []VolumeAttachmentInfo `json:"volumeAttachments"`
	}
	err := c.get(ctx, serverPath(serverID)+"/os-volume_attachments", nil, &out)
	return out.VolumeAttachments, err
}

// AttachVolume attaches a volume to a server (POST /servers/{id}/os-volume_attachments → 202).
func (c *ComputeClient) AttachVolume(ctx context.Context, serverID int64, volumeID string) (*VolumeAttachmentInfo, error) {
	var out struct {
		VolumeAttachment *VolumeAttachmentInfo `json:"volumeAttachment"`
	}
	if _, err := c.send(ctx, http.MethodPost, serverPath(serverID)+"/os-volume_attachments",
		map[string]any{"volumeAttachment": map[string]string{"volumeId": volumeID}}, &out, http.StatusAccepted); err != nil {
		return nil, err
	}
	return nonNil(out.VolumeAttachment, "volumeAttachment")
}

// DetachVolume detaches a volume from a server (DELETE /servers/{id}/os-volume_attachments/{volume} → 202).
func (c *ComputeClient) DetachVolume(ctx context.Context, serverID int64, volumeID string) error {
	_, err := c.send(ctx, http.MethodDelete, serverPath(serverID)+"/os-volume_attachments/"+volumeID, nil, nil, http.StatusAccepted)
	return err
}

// ServerTags is the reply of the tag list calls: tags with their statuses (PENDADD until the build ends).
type ServerTags struct {
	Tags     []string `json:"tags"`
	Statuses []string `json:"statuses"`
}

// ListServerTags returns a server's tags (GET /servers/{id}/tags).
func (c *ComputeClient) ListServerTags(ctx context.Context, id int64) (*ServerTags, error) {
	var out ServerTags
	if err := c.get(ctx, serverPath(id)+"/tags", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReplaceServerTags replaces a server's tags (PUT /servers/{id}/tags → 200).
func (c *ComputeClient) ReplaceServerTags(ctx context.Context, id int64, tags []string) (*ServerTags, error) {
	var out ServerTags
	if _, err := c.send(ctx, http.MethodPut, serverPath(id)+"/tags", map[string]any{"tags": tags}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddServerTag adds one tag (PUT /servers/{id}/tags/{tag} → 201, or 204 when it existed).
func (c *ComputeClient) AddServerTag(ctx context.Context, id int64, tag string) error {
	_, err := c.send(ctx, http.MethodPut, serverPath(id)+"/tags/"+tag, nil, nil, http.StatusCreated, http.StatusNoContent)
	return err
}

// DeleteServerTag deletes one tag (DELETE /servers/{id}/tags/{tag} → 204; 404 when absent).
func (c *ComputeClient) DeleteServerTag(ctx context.Context, id int64, tag string) error {
	_, err := c.send(ctx, http.MethodDelete, serverPath(id)+"/tags/"+tag, nil, nil, http.StatusNoContent)
	return err
}

// DeleteServerTags deletes all tags (DELETE /servers/{id}/tags → 204; 404 when there are none).
func (c *ComputeClient) DeleteServerTags(ctx context.Context, id int64) error {
	_, err := c.send(ctx, http.MethodDelete, serverPath(id)+"/tags", nil, nil, http.StatusNoContent)
	return err
}

// GetServerStats returns a server's statistics document (GET /servers/{id}/stats, the "stats" object).
func (c *ComputeClient) GetServerStats(ctx context.Context, id int64) (map[string]any, error) {
	var out struct {
		Stats map[string]any `json:"stats"`
	}
	err := c.get(ctx, serverPath(id)+"/stats", nil, &out)
	return out.Stats, err
}

// GetServerDiagnostics returns a server's diagnostics (GET /servers/{id}/diagnostics, a bare list).
func (c *ComputeClient) GetServerDiagnostics(ctx context.Context, id int64) ([]map[string]any, error) {
	var out []map[string]any
	err := c.get(ctx, serverPath(id)+"/diagnostics", nil, &out)
	return out, err
}

// GetServerPassword returns the admin password of a recently created server from the server's short-lived
// cache (GET /servers/{id}/password; 404 once it expired).
func (c *ComputeClient) GetServerPassword(ctx context.Context, id int64) (string, error) {
	var out struct {
		Password string `json:"password"`
	}
	err := c.get(ctx, serverPath(id)+"/password", nil, &out)
	return out.Password, err
}

// DeleteServerPassword clears the cached admin password (DELETE /servers/{id}/password → 204).
func (c *ComputeClient) DeleteServerPassword(ctx context.Context, id int64) error {
	_, err := c.send(ctx, http.MethodDelete, serverPath(id)+"/password", nil, nil, http.StatusNoContent)
	return err
}
