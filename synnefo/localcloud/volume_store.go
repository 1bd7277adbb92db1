package localcloud

import (
	"fmt"
	"strconv"
	"strings"
)

// volumeRec is a block storage volume. Its content is a Pithos hashmap
// (copied from the image it was created from), so a snapshot of it is a
// real object that shares the image's blocks.
type volumeRec struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	Description  string            `json:"description,omitempty"`
	Size         int               `json:"size"` // GiB
	Owner        string            `json:"owner"`
	Project      string            `json:"project"`
	Server       int64             `json:"server,omitempty"`
	DeviceIndex  int               `json:"device_index"`
	Status       string            `json:"status"`
	Type         int64             `json:"type"`
	Image        string            `json:"image,omitempty"`
	Snapshot     string            `json:"snapshot,omitempty"`
	Source       int64             `json:"source,omitempty"`
	Meta         map[string]string `json:"meta,omitempty"`
	Created      int64             `json:"created"`
	Updated      int64             `json:"updated"`
	Deleted      bool              `json:"deleted,omitempty"`
	DeleteOnTerm bool              `json:"delete_on_termination"`
	Bytes        int64             `json:"bytes"`
	Hashes       []string          `json:"hashes,omitempty"`
	Next         string            `json:"next,omitempty"` // status when the pending job ends
	Until        int64             `json:"until,omitempty"`
}

type volumeSpec struct {
	name, desc   string
	size         int
	typ          int64
	server       int64
	image        *imageView
	deleteOnTerm bool
	meta         map[string]string
	project      string
}

// newVolume stores a volume in status "creating"; the caller schedules its
// completion (the server build does it for root volumes).
func (t *txn) newVolume(q *caller, sp volumeSpec) (*volumeRec, error) {
	id, err := t.nextSeq(bVolumes)
	if err != nil {
		return nil, err
	}
	if sp.project == "" {
		sp.project = q.u.UUID
	}
	v := &volumeRec{ID: id, Name: sp.name, Description: sp.desc, Size: sp.size, Owner: q.u.UUID, Project: sp.project,
		Server: sp.server, Status: "creating", Type: sp.typ, Meta: sp.meta, Created: q.now, Updated: q.now,
		DeleteOnTerm: sp.deleteOnTerm}
	if sp.image != nil {
		v.Image = sp.image.rec.ID
		v.Bytes, v.Hashes = sp.image.obj.Bytes, sp.image.obj.Hashes
	}
	if sp.server != 0 {
		v.DeviceIndex = t.nextDeviceIndex(sp.server)
	}
	return v, putRec(t, bVolumes, id, v)
}

func (t *txn) setVolumesStatus(ids []int64, status string, at int64) error {
	for _, id := range ids {
		v, ok := getRec[volumeRec](t, bVolumes, id)
		if !ok || v.Deleted {
			continue
		}
		v.Status, v.Updated, v.Next, v.Until = status, at, "", 0
		if err := putRec(t, bVolumes, id, v); err != nil {
			return err
		}
	}
	return nil
}

// releaseServerVolumes deletes a destroyed server's volumes marked
// delete_on_termination and detaches the rest.
func (t *txn) releaseServerVolumes(s *serverRec, at int64) error {
	for _, id := range s.Volumes {
		v, ok := getRec[volumeRec](t, bVolumes, id)
		if !ok || v.Deleted {
			continue
		}
		if v.DeleteOnTerm {
			v.Status, v.Deleted = "deleted", true
		} else {
			v.Status, v.Server = "available", 0
		}
		v.Updated, v.Next, v.Until = at, "", 0
		if err := putRec(t, bVolumes, id, v); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) settleVolume(sid string, at int64) error {
	id, _ := strconv.ParseInt(sid, 10, 64)
	v, ok := getRec[volumeRec](t, bVolumes, id)
	if !ok || v.Next == "" || v.Until != at {
		return nil
	}
	detached := v.Status == "detaching" && v.Next == "available"
	v.Status, v.Updated, v.Next, v.Until = v.Next, at, "", 0
	if detached {
		if s, ok := getRec[serverRec](t, bServers, v.Server); ok {
			s.Volumes = removeID(s.Volumes, id)
			if err := putRec(t, bServers, s.ID, s); err != nil {
				return err
			}
		}
		v.Server, v.DeviceIndex = 0, 0
	}
	if v.Status == "deleted" {
		v.Deleted = true
		if v.Server != 0 {
			if s, ok := getRec[serverRec](t, bServers, v.Server); ok {
				s.Volumes = removeID(s.Volumes, id)
				if err := putRec(t, bServers, s.ID, s); err != nil {
					return err
				}
			}
		}
	}
	return putRec(t, bVolumes, id, v)
}

const snapshotsContainer = "snapshots"

// snapshotSpec is a validated POST /snapshots body.
type snapshotSpec struct {
	volume     int64
	name, desc string
	meta       map[string]string
}

// snapshotVolume snapshots user's volume sp.volume at now: the volume's
// data becomes an object of the user's snapshots container, registered as a
// snapshot image that is CREATING until until.
func (t *txn) snapshotVolume(user string, now, until int64, sp *snapshotSpec) (*imageView, error) {
	vol, err := t.snapshottable(user, sp.volume)
	if err != nil {
		return nil, err
	}
	acct, name := user, sp.name
	if _, err := t.ensureAccount(acct); err != nil {
		return nil, err
	}
	cr, exists := t.container(acct, snapshotsContainer)
	if !exists {
		cr = &containerRec{Versioning: "auto", Project: acct}
		if err := t.touch(acct, snapshotsContainer, cr, now); err != nil {
			return nil, err
		}
	}
	obj := &objectRec{version: version{Bytes: vol.Bytes, Hashes: vol.Hashes, Type: "application/octet-stream", ModifiedBy: acct}}
	if cur, ok := t.object(acct, snapshotsContainer, name); ok {
		obj.Sharing, obj.Public = cur.Sharing, cur.Public
	}
	if len(obj.Hashes) == 0 {
		obj.Hashes = []string{}
	}
	if err := t.putObject(acct, snapshotsContainer, name, cr, obj); err != nil {
		return nil, err
	}
	if err := t.checkQuota(acct, cr, vol.Bytes); err != nil {
		return nil, err
	}
	props, err := t.snapshotProps(vol, sp)
	if err != nil {
		return nil, err
	}
	rec := &imageRec{
		ID: obj.UUID, Acct: acct, Cont: snapshotsContainer, Name: name, Title: name,
		DiskFormat: "diskdump", ContFormat: "bare", CreatedAt: strconv.FormatFloat(float64(now)/1e9, 'f', 6, 64),
		Desc: sp.desc, VolumeID: itoa(sp.volume), Props: props, IsSnapshot: true, SnapStatus: "CREATING", SnapUntil: until,
		SnapSize: int64(vol.Size) << 30,
	}
	if err := t.putImageRec(rec); err != nil {
		return nil, err
	}
	if err := t.schedule(dueSnapshot, rec.ID, until); err != nil {
		return nil, err
	}
	return &imageView{rec: rec, obj: obj, acct: acct, cont: snapshotsContainer, nam: name}, nil
}

// snapshottable is user's volume id when it may be snapshotted: attached,
// available or in use, on an ext_* disk template.
func (t *txn) snapshottable(user string, id int64) (*volumeRec, error) {
	vol, ok := getRec[volumeRec](t, bVolumes, id)
	if !ok || vol.Owner != user {
		return nil, badRequest(fmt.Sprintf("Volume %d not found", id))
	}
	if vol.Deleted {
		return nil, badRequest(fmt.Sprintf("Volume %d has been deleted", id))
	}
	if vol.Server == 0 {
		return nil, badRequest("Cannot snapshot a detached volume!")
	}
	if vol.Status != "available" && vol.Status != "in_use" {
		return nil, badRequest(fmt.Sprintf("Cannot create snapshot while volume is in '%s' status", vol.Status))
	}
	vt, _ := volumeTypeByID(vol.Type)
	if !strings.HasPrefix(vt.Template, "ext_") {
		return nil, badRequest(fmt.Sprintf("Cannot take a snapshot of a volume with disk template '%s'", vt.Template))
	}
	return vol, nil
}

// snapshotProps are a new snapshot image's properties: its description,
// the os and users of the server's root volume, and the request's metadata.
func (t *txn) snapshotProps(vol *volumeRec, sp *snapshotSpec) (map[string]string, error) {
	props := map[string]string{"exclude_all_tasks": "yes"}
	if sp.desc != "" {
		props["description"] = sp.desc
	}
	if vol.DeviceIndex == 0 {
		if s, ok := getRec[serverRec](t, bServers, vol.Server); ok {
			for _, k := range []string{"os", "users", "OS", "USERS"} {
				if v, ok := s.Meta[k]; ok {
					props[strings.ToLower(k)] = v
				}
			}
		}
	}
	for k, v := range sp.meta {
		props[strings.ToLower(k)] = v
	}
	if err := checkProps(props); err != nil {
		return nil, err
	}
	return props, nil
}

// settleSnapshot marks a snapshot's object map available.
func (t *txn) settleSnapshot(id string, at int64) error {
	r, ok := t.imageRec(id)
	if !ok || r.SnapStatus != "CREATING" || r.SnapUntil != at {
		return nil
	}
	r.SnapStatus, r.SnapUntil = "AVAILABLE", 0
	return t.putImageRec(r)
}
