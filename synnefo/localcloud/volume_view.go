package localcloud

// The block storage API's replies, typed (cyclades-api.md §8).

// volumeSummary is the list form of a volume.
type volumeSummary struct {
	ID    string `json:"id"`
	Name  string `json:"display_name"`
	Links []link `json:"links"`
}

// volumeAttachment is a volume's attachment to its server.
type volumeAttachment struct {
	ServerID    int64 `json:"server_id"`
	VolumeID    int64 `json:"volume_id"`
	DeviceIndex int   `json:"device_index"`
}

// volumeDetail is the detail form of a volume.
type volumeDetail struct {
	volumeSummary
	Status          string             `json:"status"`
	Size            int                `json:"size"`
	Description     string             `json:"display_description"`
	Created         string             `json:"created_at"`
	Metadata        map[string]string  `json:"metadata"`
	SnapshotID      *string            `json:"snapshot_id"`
	SourceVolID     *string            `json:"source_volid"`
	ImageID         *string            `json:"image_id"`
	Attachments     []volumeAttachment `json:"attachments"`
	VolumeType      int64              `json:"volume_type"`
	Deleted         bool               `json:"deleted"`
	DeleteOnTerm    bool               `json:"delete_on_termination"`
	UserID          string             `json:"user_id"`
	TenantID        string             `json:"tenant_id"`
	SharedToProject bool               `json:"shared_to_project"`
}

// volumeSummary renders a volume's summary.
func (q *caller) volumeSummary(v *volumeRec) *volumeSummary {
	return &volumeSummary{ID: itoa(v.ID), Name: v.Name, Links: links(q.volumeURL() + "/volumes/" + itoa(v.ID))}
}

// volumeDetail renders a volume's detail form.
func (q *caller) volumeDetail(v *volumeRec) *volumeDetail {
	sum := *q.volumeSummary(v)
	atts := []volumeAttachment{}
	if v.Server != 0 && !v.Deleted {
		atts = append(atts, volumeAttachment{ServerID: v.Server, VolumeID: v.ID, DeviceIndex: v.DeviceIndex})
	}
	meta := v.Meta
	if meta == nil {
		meta = map[string]string{}
	}
	return &volumeDetail{
		volumeSummary: sum, Status: v.Status, Size: v.Size, Description: v.Description,
		Created: isoDate(v.Created), Metadata: meta, SnapshotID: nullable(v.Snapshot),
		SourceVolID: idString(v.Source), ImageID: nullable(v.Image), Attachments: atts,
		VolumeType: v.Type, Deleted: v.Deleted, DeleteOnTerm: v.DeleteOnTerm,
		UserID: v.Owner, TenantID: v.Project,
	}
}

// volumeTypeView is a volume type.
type volumeTypeView struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Deleted      bool   `json:"deleted"`
	DiskTemplate string `json:"SNF:disk_template"`
	Detachable   bool   `json:"SNF:detachable"`
}

func volumeTypeViewOf(t volumeType) volumeTypeView {
	return volumeTypeView{ID: t.ID, Name: t.Template, DiskTemplate: t.Template, Detachable: t.Detachable}
}

// snapshotView is a snapshot (§8.2).
type snapshotView struct {
	ID          string `json:"id"`
	Size        int64  `json:"size"`
	Name        string `json:"display_name"`
	Description string `json:"display_description"`
	Status      string `json:"status"`
	UserID      string `json:"user_id"`
	TenantID    string `json:"tenant_id"`
	// Progress is 0 until the snapshot is available, then "100%".
	Progress any               `json:"os-extended-snapshot-attribute:progress"`
	Created  string            `json:"created_at"`
	Metadata map[string]string `json:"metadata"`
	VolumeID string            `json:"volume_id"`
	Links    []link            `json:"links"`
}

func (q *caller) snapshotView(v *imageView) *snapshotView {
	status := "AVAILABLE"
	switch {
	case v.rec.SnapStatus == "CREATING":
		status = "CREATING"
	case v.rec.SnapStatus == "ERROR":
		status = "ERROR"
	}
	var progress any = 0
	if status == "AVAILABLE" {
		progress = "100%"
	}
	return &snapshotView{
		ID: v.rec.ID, Size: v.size() >> 30, Name: v.rec.Title,
		Description: v.rec.Desc, Status: status, UserID: v.acct, TenantID: v.acct,
		Progress: progress, Created: isoDate(v.obj.Mtime),
		Metadata: map[string]string{}, VolumeID: v.rec.VolumeID,
		Links: links(q.volumeURL() + "/snapshots/" + v.rec.ID),
	}
}

type volumeTypesReply struct {
	VolumeTypes []volumeTypeView `json:"volume_types"`
}

type volumeTypeReply struct {
	VolumeType volumeTypeView `json:"volume_type"`
}
