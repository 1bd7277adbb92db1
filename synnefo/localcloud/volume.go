package localcloud

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
)

func (c *Cloud) serveVolume(q *creq) error {
	return bySegment(q, map[string]func(*creq) error{
		"volumes":   c.serveVolumes,
		"snapshots": c.serveSnapshots,
		"types":     c.serveVolumeTypes,
	})
}

func (c *Cloud) serveVolumeTypes(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{"GET": func() error {
			out := volumeTypesReply{VolumeTypes: []volumeTypeView{}}
			for _, t := range volumeTypes {
				out.VolumeTypes = append(out.VolumeTypes, volumeTypeViewOf(t))
			}
			writeJSON(q.w, 200, out)
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
		writeJSON(q.w, 200, volumeTypeReply{volumeTypeViewOf(t)})
		return nil
	}})
}

func (t *txn) ownVolume(u *User, id int64) (*volumeRec, error) {
	return findRec(t, bVolumes, id, func(v *volumeRec) bool { return v.Owner == u.UUID }, fmt.Sprintf("Volume %d not found", id))
}

func (c *Cloud) serveVolumes(q *creq) error {
	if root, detail := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				keep := func(v *volumeRec) bool { return v.Owner == q.u.UUID && !v.Deleted }
				if detail {
					return listRecords(c, q, "volumes", bVolumes, keep, q.volumeDetail)
				}
				return listRecords(c, q, "volumes", bVolumes, keep, q.volumeSummary)
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
				return showRecord(c, q, "volume", func(t *txn) (*volumeRec, error) { return t.ownVolume(q.u, id) }, q.volumeDetail)
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
	return updateJSON(c, q, 202, "volume", func(t *txn) (*volumeSummary, error) {
		var s *serverRec
		if server != 0 {
			var err error
			if s, err = t.serverFor(q.u, server, "ATTACH_VOLUME"); err != nil {
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
			img, f := t.imageForUse(q.u, ref)
			if f != nil {
				return nil, f
			}
			sp.image = img
		}
		v, err := t.newChargedVolume(c, &q.caller, sp)
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
		return q.volumeSummary(v), t.schedule(dueVolume, itoa(v.ID), v.Until)
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
	return updateJSON(c, q, 200, "volume", func(t *txn) (*volumeDetail, error) {
		v, err := t.ownVolume(q.u, id)
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
		return q.volumeDetail(v), putRec(t, bVolumes, id, v)
	})
}

func (c *Cloud) deleteVolume(q *creq, id int64) error {
	return c.updateStatus(q, 202, func(t *txn) error {
		v, err := t.ownVolume(q.u, id)
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
	return replyJSON(c, q, write, 200, "metadata", func(t *txn) (map[string]string, error) {
		v, err := t.ownVolume(q.u, id)
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
		v, err := t.ownVolume(q.u, id)
		if err != nil {
			return err
		}
		charge["cyclades.disk"] = int64(v.Size) << 30
		v.Project, v.Updated = project, q.now
		return putRec(t, bVolumes, id, v)
	})
}

// ---- snapshots (§8.2) ----

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
