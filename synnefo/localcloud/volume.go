package localcloud

import (
	"encoding/json"
	"fmt"
	"maps"
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
func (t *txn) newVolume(q *creq, sp volumeSpec) (*volumeRec, error) {
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

func (q *creq) volumeJSON(v *volumeRec, detail bool) map[string]any {
	m := map[string]any{"id": itoa(v.ID), "display_name": v.Name, "links": links(q.volumeURL() + "/volumes/" + itoa(v.ID))}
	if !detail {
		return m
	}
	atts := []any{}
	if v.Server != 0 && !v.Deleted {
		atts = append(atts, map[string]any{"server_id": v.Server, "volume_id": v.ID, "device_index": v.DeviceIndex})
	}
	meta := v.Meta
	if meta == nil {
		meta = map[string]string{}
	}
	var src any
	if v.Source != 0 {
		src = itoa(v.Source)
	}
	m["status"] = v.Status
	m["size"] = v.Size
	m["display_description"] = v.Description
	m["created_at"] = isoDate(v.Created)
	m["metadata"] = meta
	m["snapshot_id"] = nullable(v.Snapshot)
	m["source_volid"] = src
	m["image_id"] = nullable(v.Image)
	m["attachments"] = atts
	m["volume_type"] = v.Type
	m["deleted"] = v.Deleted
	m["delete_on_termination"] = v.DeleteOnTerm
	m["user_id"] = v.Owner
	m["tenant_id"] = v.Project
	m["shared_to_project"] = false
	return m
}

func (c *Cloud) serveVolume(q *creq) error {
	return bySegment(q, map[string]func(*creq) error{
		"volumes":   c.serveVolumes,
		"snapshots": c.serveSnapshots,
		"types":     c.serveVolumeTypes,
	})
}

func typeJSON(t volumeType) map[string]any {
	return map[string]any{"id": t.ID, "name": t.Template, "deleted": false, "SNF:disk_template": t.Template, "SNF:detachable": t.Detachable}
}

func (c *Cloud) serveVolumeTypes(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{"GET": func() error {
			out := []any{}
			for _, t := range volumeTypes {
				out = append(out, typeJSON(t))
			}
			writeJSON(q.w, 200, map[string]any{"volume_types": out})
			return nil
		}})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok || len(q.seg) != 2 {
		return endpointNotFound()
	}
	return route(q, map[string]func() error{"GET": func() error {
		t, ok := volumeTypeByID(id)
		if !ok {
			return notFound("Volume type not found.")
		}
		writeJSON(q.w, 200, map[string]any{"volume_type": typeJSON(t)})
		return nil
	}})
}

func (t *txn) ownVolume(q *creq, id int64) (*volumeRec, error) {
	return findRec(t, bVolumes, id, func(v *volumeRec) bool { return v.Owner == q.u.UUID }, fmt.Sprintf("Volume %d not found", id))
}

func (c *Cloud) serveVolumes(q *creq) error {
	if root, detail := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return listRecords(c, q, "volumes", bVolumes,
					func(v *volumeRec) bool { return v.Owner == q.u.UUID && !v.Deleted },
					func(v *volumeRec) map[string]any { return q.volumeJSON(v, detail) })
			},
			"POST": func() error { return c.createVolume(q) },
		})
	}
	id, ok := parseNumID(q.seg[1])
	if !ok {
		return endpointNotFound()
	}
	if len(q.seg) == 2 {
		return route(q, map[string]func() error{
			"GET": func() error {
				return showRecord(c, q, "volume", func(t *txn) (*volumeRec, error) { return t.ownVolume(q, id) },
					func(v *volumeRec) map[string]any { return q.volumeJSON(v, true) })
			},
			"PUT":    func() error { return c.updateVolume(q, id) },
			"DELETE": func() error { return c.deleteVolume(q, id) },
		})
	}
	switch {
	case q.seg[2] == "metadata" && len(q.seg) == 3:
		return route(q, map[string]func() error{
			"GET":  func() error { return c.volumeMeta(q, id, nil, false) },
			"POST": func() error { return c.volumeMetaWrite(q, id, false) },
			"PUT":  func() error { return c.volumeMetaWrite(q, id, true) },
		})
	case q.seg[2] == "metadata" && len(q.seg) == 4 && q.seg[3] != "":
		key := q.seg[3]
		return route(q, map[string]func() error{"DELETE": func() error {
			return c.volumeMeta(q, id, func(m map[string]string) error {
				if _, ok := m[key]; !ok {
					return badRequest("Metadata key '" + key + "' not found")
				}
				delete(m, key)
				return nil
			}, true)
		}})
	case q.seg[2] == "action" && len(q.seg) == 3:
		return route(q, map[string]func() error{"POST": func() error { return c.reassignVolume(q, id) }})
	}
	return endpointNotFound()
}

func (c *Cloud) createVolume(q *creq) error {
	m, err := bodyObject(q, "volume")
	if err != nil {
		return err
	}
	var size int
	if raw, ok := m["size"]; !ok || json.Unmarshal(raw, &size) != nil || size <= 0 {
		var s string
		if !ok || json.Unmarshal(raw, &s) != nil {
			return badRequest("Invalid 'size' field")
		}
		if size, err = strconv.Atoi(s); err != nil || size <= 0 {
			return badRequest("Invalid 'size' field")
		}
	}
	name, ok, err := str(m, "display_name")
	if err != nil || !ok {
		return badRequest("Malformed request: 'display_name' is required")
	}
	desc, _, err := str(m, "display_description")
	if err != nil {
		return err
	}
	var server, typ int64
	if raw, ok := m["server_id"]; ok && string(raw) != "null" {
		if server, ok = intID(raw); !ok {
			return badRequest("Invalid 'server_id' field")
		}
	}
	if raw, ok := m["volume_type"]; ok && string(raw) != "null" {
		if typ, ok = intID(raw); !ok {
			return badRequest("Invalid 'volume_type' field")
		}
	}
	meta, err := parseMeta(m["metadata"])
	if err != nil {
		return err
	}
	imageRef, _, err := str(m, "imageRef")
	if err != nil {
		return err
	}
	snapID, _, err := str(m, "snapshot_id")
	if err != nil {
		return err
	}
	if server == 0 && typ == 0 {
		return badRequest("Volume type is required when no server is given")
	}
	return c.updateJSON(q, 202, "volume", func(t *txn) (any, error) {
		var s *serverRec
		if server != 0 {
			var err error
			if s, err = t.serverFor(q, server, "ATTACH_VOLUME"); err != nil {
				return nil, err
			}
			if typ == 0 {
				fl, _ := flavorByID(s.Flavor)
				typ = fl.VolType
			}
		}
		vt, ok := volumeTypeByID(typ)
		if !ok {
			return nil, notFound(fmt.Sprintf("Volume type %d not found", typ))
		}
		if !vt.Detachable && server == 0 {
			return nil, badRequest("Server id is required for volumes of non-detachable type")
		}
		sp := volumeSpec{name: name, desc: desc, size: size, typ: typ, server: server, meta: meta, deleteOnTerm: true}
		for _, ref := range []string{imageRef, snapID} {
			if ref == "" {
				continue
			}
			img, f := t.imageForUse(q, ref)
			if f != nil {
				return nil, f
			}
			sp.image = img
		}
		v, err := t.newChargedVolume(c, q, sp)
		if err != nil {
			return nil, err
		}
		v.Snapshot = snapID
		v.Next, v.Until = "available", q.now+int64(c.actionDelay())
		if s != nil {
			// Synnefo attaches it with an ATTACH_VOLUME job on the server.
			v.Next = "in_use"
			s.Volumes = append(s.Volumes, v.ID)
			if err := t.startTask(s, "ATTACH_VOLUME", q.now, v.Until); err != nil {
				return nil, err
			}
		}
		if err := putRec(t, bVolumes, v.ID, v); err != nil {
			return nil, err
		}
		return q.volumeJSON(v, false), t.schedule(dueVolume, itoa(v.ID), v.Until)
	})
}

func (c *Cloud) updateVolume(q *creq, id int64) error {
	m, name, hasName, desc, hasDesc, err := displayBody(q, "volume")
	if err != nil {
		return err
	}
	_, hasDOT := m["delete_on_termination"]
	dot, err := boolField(m, "delete_on_termination")
	if err != nil {
		return err
	}
	if !hasName && !hasDesc && !hasDOT {
		return badRequest("Nothing to update")
	}
	return c.updateJSON(q, 200, "volume", func(t *txn) (any, error) {
		v, err := t.ownVolume(q, id)
		if err != nil {
			return nil, err
		}
		if v.Deleted {
			return nil, badRequest("Volume has been deleted.")
		}
		if hasName {
			v.Name = name
		}
		if hasDesc {
			v.Description = desc
		}
		if hasDOT {
			v.DeleteOnTerm = dot
		}
		v.Updated = q.now
		return q.volumeJSON(v, true), putRec(t, bVolumes, id, v)
	})
}

func (c *Cloud) deleteVolume(q *creq, id int64) error {
	return c.updateStatus(q, 202, func(t *txn) error {
		v, err := t.ownVolume(q, id)
		if err != nil {
			return err
		}
		if v.Deleted {
			return badRequest("Volume has been deleted.")
		}
		if v.Next != "" {
			return badRequest("Volume is busy (" + v.Status + ")")
		}
		if v.Server != 0 {
			vt, _ := volumeTypeByID(v.Type)
			if !vt.Detachable || v.DeviceIndex == 0 {
				return badRequest("Cannot detach the root volume of a server or a non-detachable volume")
			}
			s, _ := getRec[serverRec](t, bServers, v.Server)
			if err := validateAction(s, "DETACH_VOLUME"); err != nil {
				return err
			}
		}
		v.Status, v.Next, v.Until, v.Updated = "deleting", "deleted", q.now+int64(c.actionDelay()), q.now
		if err := putRec(t, bVolumes, id, v); err != nil {
			return err
		}
		return t.schedule(dueVolume, itoa(id), v.Until)
	})
}

// volumeMeta reads (edit nil) or edits the metadata of a volume.
func (c *Cloud) volumeMeta(q *creq, id int64, edit func(map[string]string) error, write bool) error {
	return c.replyJSON(q, write, 200, "metadata", func(t *txn) (any, error) {
		v, err := t.ownVolume(q, id)
		if err != nil {
			return nil, err
		}
		if v.Meta == nil {
			v.Meta = map[string]string{}
		}
		if edit != nil {
			if v.Deleted {
				return nil, badRequest("Volume has been deleted.")
			}
			if err := edit(v.Meta); err != nil {
				return nil, err
			}
			v.Updated = q.now
			if err := putRec(t, bVolumes, id, v); err != nil {
				return nil, err
			}
		}
		return v.Meta, nil
	})
}

func (c *Cloud) volumeMetaWrite(q *creq, id int64, replace bool) error {
	sent, err := metadataBody(q)
	if err != nil {
		return err
	}
	return c.volumeMeta(q, id, func(m map[string]string) error {
		if replace {
			clear(m)
		}
		maps.Copy(m, sent)
		return nil
	}, true)
}

func (c *Cloud) reassignVolume(q *creq, id int64) error {
	charge := map[string]int64{}
	return c.reassignAction(q, charge, func(t *txn, project string) error {
		v, err := t.ownVolume(q, id)
		if err != nil {
			return err
		}
		charge["cyclades.disk"] = int64(v.Size) << 30
		v.Project, v.Updated = project, q.now
		return putRec(t, bVolumes, id, v)
	})
}

// ---- snapshots (§8.2) ----

const snapshotsContainer = "snapshots"

func (q *creq) snapshotJSON(v *imageView) map[string]any {
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
	return map[string]any{
		"id": v.rec.ID, "size": v.size() >> 30, "display_name": v.rec.Title,
		"display_description": v.rec.Desc, "status": status, "user_id": v.acct, "tenant_id": v.acct,
		"os-extended-snapshot-attribute:progress": progress, "created_at": isoDate(v.obj.Mtime),
		"metadata": map[string]any{}, "volume_id": v.rec.VolumeID,
		"links": links(q.volumeURL() + "/snapshots/" + v.rec.ID),
	}
}

// ownSnapshot resolves a snapshot image owned by the caller.
func (t *txn) ownSnapshot(q *creq, id string) (*imageView, error) {
	v, ok := t.imageByID(id)
	if !ok || !v.rec.IsSnapshot || !t.canRead(v, q.u.UUID) {
		return nil, notFound("Snapshot " + id + " not found")
	}
	return v, nil
}

func (c *Cloud) serveSnapshots(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return c.viewJSON(q, "snapshots", func(t *txn) (any, error) {
					out := []any{}
					for _, v := range t.visibleImages(q.u.UUID) {
						if v.rec.IsSnapshot {
							out = append(out, q.snapshotJSON(v))
						}
					}
					return out, nil
				})
			},
			"POST": func() error { return c.createSnapshot(q) },
		})
	}
	id := q.seg[1]
	if len(q.seg) == 2 {
		return route(q, map[string]func() error{
			"GET": func() error {
				return showRecord(c, q, "snapshot", func(t *txn) (*imageView, error) { return t.ownSnapshot(q, id) }, q.snapshotJSON)
			},
			"PUT":    func() error { return c.updateSnapshot(q, id) },
			"DELETE": func() error { return c.deleteSnapshot(q, id) },
		})
	}
	if q.seg[2] != "metadata" || len(q.seg) > 4 {
		return endpointNotFound()
	}
	edit := func(fn func(map[string]string) error) error {
		write := fn != nil
		return c.replyJSON(q, write, 200, "metadata", func(t *txn) (any, error) {
			v, err := t.ownSnapshot(q, id)
			if err != nil {
				return nil, err
			}
			if v.rec.Props == nil {
				v.rec.Props = map[string]string{}
			}
			if write {
				if v.acct != q.u.UUID {
					return nil, forbidden("")
				}
				if err := fn(v.rec.Props); err != nil {
					return nil, err
				}
				if err := checkProps(v.rec.Props); err != nil {
					return nil, err
				}
				if err := t.putImageRec(v.rec); err != nil {
					return nil, err
				}
			}
			return v.rec.Props, nil
		})
	}
	if len(q.seg) == 4 {
		key := q.seg[3]
		return route(q, map[string]func() error{"DELETE": func() error {
			return edit(func(m map[string]string) error {
				if _, ok := m[key]; !ok {
					return notFound("Metadata key not found.")
				}
				delete(m, key)
				return nil
			})
		}})
	}
	metaWrite := func(replace bool) func() error {
		return func() error {
			sent, err := metadataBody(q)
			if err != nil {
				return err
			}
			return edit(func(m map[string]string) error {
				if replace {
					clear(m)
				}
				for k, v := range sent {
					m[strings.ToLower(k)] = v
				}
				return nil
			})
		}
	}
	return route(q, map[string]func() error{
		"GET":  func() error { return edit(nil) },
		"POST": metaWrite(false),
		"PUT":  metaWrite(true),
	})
}

func (c *Cloud) createSnapshot(q *creq) error {
	m, err := bodyObject(q, "snapshot")
	if err != nil {
		return err
	}
	raw, ok := m["volume_id"]
	if !ok {
		return badRequest("Invalid request: 'volume_id' is required")
	}
	vid, ok := intID(raw)
	if !ok {
		return badRequest("Invalid 'volume_id' field")
	}
	name, hasName, err := str(m, "display_name")
	if err != nil {
		return err
	}
	if !hasName {
		name = fmt.Sprintf("Snapshot of volume '%d'", vid)
	}
	if name == "" || strings.Contains(name, "\x00") {
		return badRequest("Invalid snapshot name")
	}
	desc, _, err := str(m, "display_description")
	if err != nil {
		return err
	}
	meta, err := parseMeta(m["metadata"])
	if err != nil {
		return err
	}
	return c.updateJSON(q, 202, "snapshot", func(t *txn) (any, error) {
		vol, ok := getRec[volumeRec](t, bVolumes, vid)
		if !ok || vol.Owner != q.u.UUID {
			return nil, badRequest(fmt.Sprintf("Volume %d not found", vid))
		}
		if vol.Deleted {
			return nil, badRequest(fmt.Sprintf("Volume %d has been deleted", vid))
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
		acct := q.u.UUID
		if _, err := t.ensureAccount(acct); err != nil {
			return nil, err
		}
		cr, exists := t.container(acct, snapshotsContainer)
		if !exists {
			cr = &containerRec{Versioning: "auto", Project: acct}
			if err := t.touch(acct, snapshotsContainer, cr, q.now); err != nil {
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
		props := map[string]string{"exclude_all_tasks": "yes"}
		if desc != "" {
			props["description"] = desc
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
		for k, v := range meta {
			props[strings.ToLower(k)] = v
		}
		if err := checkProps(props); err != nil {
			return nil, err
		}
		until := q.now + int64(c.actionDelay())
		rec := &imageRec{
			ID: obj.UUID, Acct: acct, Cont: snapshotsContainer, Name: name, Title: name,
			DiskFormat: "diskdump", ContFormat: "bare", CreatedAt: strconv.FormatFloat(float64(q.now)/1e9, 'f', 6, 64),
			Desc: desc, VolumeID: itoa(vid), Props: props, IsSnapshot: true, SnapStatus: "CREATING", SnapUntil: until,
			SnapSize: int64(vol.Size) << 30,
		}
		if err := t.putImageRec(rec); err != nil {
			return nil, err
		}
		if err := t.schedule(dueSnapshot, rec.ID, until); err != nil {
			return nil, err
		}
		return q.snapshotJSON(&imageView{rec: rec, obj: obj, acct: acct, cont: snapshotsContainer, nam: name}), nil
	})
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

func (c *Cloud) updateSnapshot(q *creq, id string) error {
	_, name, hasName, desc, hasDesc, err := displayBody(q, "snapshot")
	if err != nil {
		return err
	}
	if hasName && name == "" {
		return badRequest("Invalid snapshot name")
	}
	return c.updateJSON(q, 200, "snapshot", func(t *txn) (any, error) {
		v, err := t.ownSnapshot(q, id)
		if err != nil {
			return nil, err
		}
		if v.acct != q.u.UUID {
			return nil, forbidden("")
		}
		if hasName {
			v.rec.Title = name
		}
		if hasDesc {
			v.rec.Desc = desc
		}
		if err := t.putImageRec(v.rec); err != nil {
			return nil, err
		}
		return q.snapshotJSON(v), nil
	})
}

func (c *Cloud) deleteSnapshot(q *creq, id string) error {
	return c.updateStatus(q, 202, func(t *txn) error {
		v, err := t.ownSnapshot(q, id)
		if err != nil {
			return err
		}
		if v.acct != q.u.UUID {
			return forbidden("")
		}
		cr, _ := t.container(v.acct, v.cont)
		if err := t.deleteObject(v.acct, v.cont, v.nam, q.u.UUID, cr); err != nil {
			return err
		}
		return t.tx.Bucket(bImages).Delete([]byte(id))
	})
}

// displayBody reads an update body {"<kind>": {...}} and its optional
// display_name and display_description, which volumes and snapshots share.
func displayBody(q *creq, kind string) (m map[string]json.RawMessage, name string, hasName bool, desc string, hasDesc bool, err error) {
	if m, err = bodyObject(q, kind); err != nil {
		return
	}
	if name, hasName, err = str(m, "display_name"); err != nil {
		return
	}
	desc, hasDesc, err = str(m, "display_description")
	return
}
