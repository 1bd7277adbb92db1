package cyclades

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/pithosfs/pithosfs/synnefo"
)

// VolumeServiceType is the catalogue type of the block storage service; VolumeVersion is kamaki's default
// version for it (the catalogue publishes the URL without it).
const (
	VolumeServiceType = "volume"
	VolumeVersion     = "2.0"
)

// BlockStorageClient is the client of the Cyclades block storage API (kamaki's CycladesBlockStorageClient).
type BlockStorageClient struct{ service }

// NewBlockStorage returns a block storage client for the catalogue's volume publicURL ("/v2.0" is appended
// when the URL has no version).
func NewBlockStorage(endpointURL, token string, opts synnefo.Options) (*BlockStorageClient, error) {
	s, err := newService(endpointURL, token, VolumeVersion, opts)
	if err != nil {
		return nil, err
	}
	return &BlockStorageClient{s}, nil
}

// ServiceType returns VolumeServiceType.
func (*BlockStorageClient) ServiceType() string { return VolumeServiceType }

// HTTP returns the underlying core client.
func (c *BlockStorageClient) HTTP() *synnefo.Client { return c.http }

// VolumeAttachment is one attachment of a volume.
type VolumeAttachment struct {
	ServerID    int64 `json:"server_id"`
	VolumeID    int64 `json:"volume_id"`
	DeviceIndex int   `json:"device_index"`
}

// Volume is a volume (detail form; the list and create replies fill ID, DisplayName, Links). Status values
// are lower-case: creating, available, attaching, detaching, in_use, deleting, deleted, error, ….
type Volume struct {
	ID                  string             `json:"id"`
	DisplayName         string             `json:"display_name"`
	Links               []Link             `json:"links,omitempty"`
	Status              string             `json:"status,omitempty"`
	Size                int64              `json:"size,omitempty"` // GiB
	DisplayDescription  string             `json:"display_description,omitempty"`
	CreatedAt           string             `json:"created_at,omitempty"`
	Metadata            map[string]string  `json:"metadata,omitempty"`
	SnapshotID          *string            `json:"snapshot_id,omitempty"`
	SourceVolID         *string            `json:"source_volid,omitempty"`
	ImageID             *string            `json:"image_id,omitempty"`
	Attachments         []VolumeAttachment `json:"attachments,omitempty"`
	VolumeType          int64              `json:"volume_type,omitempty"`
	Deleted             bool               `json:"deleted,omitempty"`
	DeleteOnTermination bool               `json:"delete_on_termination,omitempty"`
	UserID              string             `json:"user_id,omitempty"`
	TenantID            string             `json:"tenant_id,omitempty"`
	SharedToProject     bool               `json:"shared_to_project,omitempty"`
}

// ListVolumes lists volumes (GET /volumes or /volumes/detail).
func (c *BlockStorageClient) ListVolumes(ctx context.Context, detail bool) ([]Volume, error) {
	var out struct {
		Volumes []Volume `json:"volumes"`
	}
	err := c.get(ctx, detailPath("/volumes", detail), nil, &out)
	return out.Volumes, err
}

// GetVolume returns a volume's details (GET /volumes/{id}; deleted volumes too).
func (c *BlockStorageClient) GetVolume(ctx context.Context, id string) (*Volume, error) {
	var out struct {
		Volume *Volume `json:"volume"`
	}
	if err := c.get(ctx, "/volumes/"+id, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.Volume, "volume")
}

// CreateVolumeRequest describes a new volume. Size and DisplayName are required; ServerID is required
// for non-detachable volume types, VolumeType otherwise.
type CreateVolumeRequest struct {
	Size               int64 // GiB, > 0
	DisplayName        string
	ServerID           int64 // 0 → omitted
	VolumeType         int64 // 0 → omitted
	DisplayDescription string
	Metadata           map[string]string
	SnapshotID         string
	ImageRef           string
	SourceVolID        string
	Project            string
	SharedToProject    bool
}

// CreateVolume creates a volume (POST /volumes → 202). The reply is the short form (id, display_name,
// links); poll GetVolume/WaitVolume for the rest.
func (c *BlockStorageClient) CreateVolume(ctx context.Context, req CreateVolumeRequest) (*Volume, error) {
	v := map[string]any{"size": req.Size, "display_name": req.DisplayName}
	if req.ServerID != 0 {
		v["server_id"] = strconv.FormatInt(req.ServerID, 10)
	}
	if req.VolumeType != 0 {
		v["volume_type"] = strconv.FormatInt(req.VolumeType, 10)
	}
	for k, s := range map[string]string{"display_description": req.DisplayDescription, "snapshot_id": req.SnapshotID,
		"imageRef": req.ImageRef, "source_volid": req.SourceVolID, "project": req.Project} {
		if s != "" {
			v[k] = s
		}
	}
	if len(req.Metadata) > 0 {
		v["metadata"] = req.Metadata
	}
	if req.SharedToProject {
		v["shared_to_project"] = true
	}
	var out struct {
		Volume *Volume `json:"volume"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/volumes", map[string]any{"volume": v}, &out, http.StatusAccepted); err != nil {
		return nil, err
	}
	return nonNil(out.Volume, "volume")
}

// VolumeUpdate lists the fields to change; nil fields are left alone (at least one must be set).
type VolumeUpdate struct {
	DisplayName         *string
	DisplayDescription  *string
	DeleteOnTermination *bool
}

// UpdateVolume changes a volume's name, description or delete_on_termination (PUT /volumes/{id} → 200).
func (c *BlockStorageClient) UpdateVolume(ctx context.Context, id string, u VolumeUpdate) (*Volume, error) {
	v := map[string]any{}
	if u.DisplayName != nil {
		v["display_name"] = *u.DisplayName
	}
	if u.DisplayDescription != nil {
		v["display_description"] = *u.DisplayDescription
	}
	if u.DeleteOnTermination != nil {
		v["delete_on_termination"] = *u.DeleteOnTermination
	}
	var out struct {
		Volume *Volume `json:"volume"`
	}
	if _, err := c.send(ctx, http.MethodPut, "/volumes/"+id, map[string]any{"volume": v}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return nonNil(out.Volume, "volume")
}

// DeleteVolume deletes a volume (DELETE /volumes/{id} → 202).
func (c *BlockStorageClient) DeleteVolume(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/volumes/"+id, nil, nil, http.StatusAccepted)
	return err
}

// ReassignVolume moves a volume to another project (POST /volumes/{id}/action → 200).
func (c *BlockStorageClient) ReassignVolume(ctx context.Context, id, project string) error {
	_, err := c.send(ctx, http.MethodPost, "/volumes/"+id+"/action",
		map[string]any{"reassign": map[string]string{"project": project}}, nil, http.StatusOK)
	return err
}

// WaitVolume polls GET /volumes/{id} while the status equals currentStatus ("" → creating).
func (c *BlockStorageClient) WaitVolume(ctx context.Context, id, currentStatus string, opts *WaitOptions) (*Volume, error) {
	if currentStatus == "" {
		currentStatus = "creating"
	}
	return waitFor(ctx, "volume "+id, opts, c.pollVolume(id), func(s string) bool { return s != currentStatus })
}

// WaitVolumeUntil polls GET /volumes/{id} until the status equals targetStatus ("" → in_use).
func (c *BlockStorageClient) WaitVolumeUntil(ctx context.Context, id, targetStatus string, opts *WaitOptions) (*Volume, error) {
	if targetStatus == "" {
		targetStatus = "in_use"
	}
	return waitFor(ctx, "volume "+id, opts, c.pollVolume(id), func(s string) bool { return s == targetStatus })
}

func (c *BlockStorageClient) pollVolume(id string) func(context.Context) (*Volume, string, error) {
	return func(ctx context.Context) (*Volume, string, error) {
		v, err := c.GetVolume(ctx, id)
		if err != nil {
			return nil, "", err
		}
		return v, v.Status, nil
	}
}

// Snapshot is a volume snapshot (also a registered image and a Pithos object snapshots/<name>). Status
// values are upper-case: CREATING, AVAILABLE, ERROR, DELETED, UNKNOWN.
type Snapshot struct {
	ID                 string            `json:"id"`
	Size               int64             `json:"size"` // GiB
	DisplayName        string            `json:"display_name"`
	DisplayDescription string            `json:"display_description"`
	Status             string            `json:"status"`
	UserID             string            `json:"user_id,omitempty"`
	TenantID           string            `json:"tenant_id,omitempty"`
	Progress           json.RawMessage   `json:"os-extended-snapshot-attribute:progress,omitempty"` // "100%" or 0
	CreatedAt          string            `json:"created_at,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	VolumeID           string            `json:"volume_id"`
	Links              []Link            `json:"links,omitempty"`
}

// ListSnapshots lists snapshots (GET /snapshots or /snapshots/detail; both are detailed).
func (c *BlockStorageClient) ListSnapshots(ctx context.Context, detail bool) ([]Snapshot, error) {
	var out struct {
		Snapshots []Snapshot `json:"snapshots"`
	}
	err := c.get(ctx, detailPath("/snapshots", detail), nil, &out)
	return out.Snapshots, err
}

// GetSnapshot returns a snapshot (GET /snapshots/{id}).
func (c *BlockStorageClient) GetSnapshot(ctx context.Context, id string) (*Snapshot, error) {
	var out struct {
		Snapshot *Snapshot `json:"snapshot"`
	}
	if err := c.get(ctx, "/snapshots/"+id, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.Snapshot, "snapshot")
}

// CreateSnapshot snapshots a volume (POST /snapshots {"snapshot": {"volume_id", "display_name"?,
// "display_description"?}} → 202), as kamaki sends it; empty name/description are omitted.
func (c *BlockStorageClient) CreateSnapshot(ctx context.Context, volumeID, displayName, displayDescription string) (*Snapshot, error) {
	s := map[string]any{"volume_id": volumeID}
	if displayName != "" {
		s["display_name"] = displayName
	}
	if displayDescription != "" {
		s["display_description"] = displayDescription
	}
	var out struct {
		Snapshot *Snapshot `json:"snapshot"`
	}
	if _, err := c.send(ctx, http.MethodPost, "/snapshots", map[string]any{"snapshot": s}, &out, http.StatusAccepted); err != nil {
		return nil, err
	}
	return nonNil(out.Snapshot, "snapshot")
}

// UpdateSnapshot changes a snapshot's name and/or description (nil → unchanged; PUT /snapshots/{id} → 200).
func (c *BlockStorageClient) UpdateSnapshot(ctx context.Context, id string, displayName, displayDescription *string) (*Snapshot, error) {
	s := map[string]any{}
	if displayName != nil {
		s["display_name"] = *displayName
	}
	if displayDescription != nil {
		s["display_description"] = *displayDescription
	}
	var out struct {
		Snapshot *Snapshot `json:"snapshot"`
	}
	if _, err := c.send(ctx, http.MethodPut, "/snapshots/"+id, map[string]any{"snapshot": s}, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return nonNil(out.Snapshot, "snapshot")
}

// DeleteSnapshot deletes a snapshot and its Pithos object (DELETE /snapshots/{id} → 202).
func (c *BlockStorageClient) DeleteSnapshot(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "/snapshots/"+id, nil, nil, http.StatusAccepted)
	return err
}

// VolumeType is a volume type.
type VolumeType struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Deleted      bool   `json:"deleted,omitempty"`
	DiskTemplate string `json:"SNF:disk_template,omitempty"`
	Detachable   bool   `json:"SNF:detachable,omitempty"`
}

// ListVolumeTypes lists volume types (GET /types).
func (c *BlockStorageClient) ListVolumeTypes(ctx context.Context) ([]VolumeType, error) {
	var out struct {
		VolumeTypes []VolumeType `json:"volume_types"`
	}
	err := c.get(ctx, "/types", nil, &out)
	return out.VolumeTypes, err
}

// GetVolumeType returns a volume type (GET /types/{id}).
func (c *BlockStorageClient) GetVolumeType(ctx context.Context, id int64) (*VolumeType, error) {
	var out struct {
		VolumeType *VolumeType `json:"volume_type"`
	}
	if err := c.get(ctx, "/types/"+strconv.FormatInt(id, 10), nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.VolumeType, "volume_type")
}
