package localcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Server tags (cyclades-api.md §3.1). A tag is PENDADD while its Ganeti job
// runs (its due time sits in serverRec.TagsPending and in the due queue) and
// while the server builds; ACTIVE afterwards. Deleting a tag is immediate.

// tagStatus is the status of a tag the server has.
func (s *serverRec) tagStatus(tag string) string {
	if _, pending := s.TagsPending[tag]; pending || s.Oper == "BUILD" {
		return "PENDADD"
	}
	return "ACTIVE"
}

// activeTags are the tags shown in the server's details.
func (s *serverRec) activeTags() []string {
	out := []string{}
	for _, tg := range s.Tags {
		if s.tagStatus(tg) == "ACTIVE" {
			out = append(out, tg)
		}
	}
	return out
}

// tagsView is a server's tags and their statuses, in the same order.
type tagsView struct {
	Tags     []string `json:"tags"`
	Statuses []string `json:"statuses"`
}

func (s *serverRec) tagsReply() *tagsView {
	statuses := make([]string, len(s.Tags))
	for i, tg := range s.Tags {
		statuses[i] = s.tagStatus(tg)
	}
	return &tagsView{Tags: nonNil(s.Tags), Statuses: statuses}
}

// checkTags applies the creation limits (§3.2) to a server's full tag list.
func checkTags(tags []string) error {
	if len(tags) > maxTags {
		return badRequest(fmt.Sprintf("Virtual servers cannot have more than %d tags", maxTags))
	}
	for _, tg := range tags {
		if tg == "" {
			return badRequest("Malformed request. Empty tag")
		}
		if len(tg) > maxTagLen {
			return badRequest("Tag too long")
		}
	}
	return nil
}

// addTagJob marks tag PENDADD until now+delay and queues its completion.
func (t *txn) addTagJob(s *serverRec, tag string, until int64) error {
	if s.TagsPending == nil {
		s.TagsPending = map[string]int64{}
	}
	s.TagsPending[tag] = until
	return t.schedule(dueTags, itoa(s.ID), until)
}

// settleTags activates the tags of a server whose jobs ended by at.
func (t *txn) settleTags(sid string, at int64) error {
	id, _ := strconv.ParseInt(sid, 10, 64)
	s, ok := getRec[serverRec](t, bServers, id)
	if !ok || len(s.TagsPending) == 0 {
		return nil
	}
	changed := false
	for tg, due := range s.TagsPending {
		if due <= at {
			delete(s.TagsPending, tg)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if len(s.TagsPending) == 0 {
		s.TagsPending = nil
	}
	s.Updated = max(s.Updated, at)
	return putRec(t, bServers, id, s)
}

// serveServerTags routes /servers/{id}/tags[/{tag}]; tag is "" for the collection.
func (c *Cloud) serveServerTags(q *creq, id int64, tag string) error {
	if tag == "" {
		return route(q, map[string]func() error{
			"GET":    func() error { return c.listServerTags(q, id) },
			"PUT":    func() error { return c.replaceServerTags(q, id) },
			"DELETE": func() error { return c.editServerTags(q, id, "", 204) },
		})
	}
	return route(q, map[string]func() error{
		"GET":    func() error { return c.getServerTag(q, id, tag) },
		"PUT":    func() error { return c.addServerTag(q, id, tag) },
		"DELETE": func() error { return c.editServerTags(q, id, tag, 204) },
	})
}

func (c *Cloud) listServerTags(q *creq, id int64) error {
	var out *tagsView
	err := c.store.view(func(t *txn) error {
		s, err := t.visibleServer(q.u, id)
		if err == nil {
			out = s.tagsReply()
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, 200, out)
	return nil
}

// getServerTag answers 204 with the tag's status in a header, or 404.
func (c *Cloud) getServerTag(q *creq, id int64, tag string) error {
	var status string
	err := c.store.view(func(t *txn) error {
		s, err := t.visibleServer(q.u, id)
		if err != nil {
			return err
		}
		if !slices.Contains(s.Tags, tag) {
			return notFound("Tag '" + tag + "' not found.")
		}
		status = s.tagStatus(tag)
		return nil
	})
	if err != nil {
		return err
	}
	q.w.Header().Set("tag-status", status)
	q.w.WriteHeader(204)
	return nil
}

// addServerTag is PUT /servers/{id}/tags/{tag}: 201 with Location when new,
// 204 when the server already had it. No body is read.
func (c *Cloud) addServerTag(q *creq, id int64, tag string) error {
	created := false
	err := c.store.update(func(t *txn) error {
		s, err := t.writableServer(q.u, id)
		if err != nil {
			return err
		}
		if slices.Contains(s.Tags, tag) {
			return nil
		}
		tags := append(slices.Clone(s.Tags), tag)
		if err := checkTags(tags); err != nil {
			return err
		}
		s.Tags, s.Updated, created = tags, q.now, true
		if err := t.addTagJob(s, tag, q.now+int64(c.actionDelay())); err != nil {
			return err
		}
		return putRec(t, bServers, id, s)
	})
	if err != nil {
		return err
	}
	if !created {
		q.w.WriteHeader(204)
		return nil
	}
	q.w.Header().Set("Location", q.computeURL()+"/servers/"+itoa(id)+"/tags/"+tag)
	q.w.WriteHeader(201)
	return nil
}

// replaceServerTags is PUT /servers/{id}/tags {"tags": [...]}: the server
// gets exactly these tags (duplicates dropped), each PENDADD until its job ends.
func (c *Cloud) replaceServerTags(q *creq, id int64) error {
	var body map[string]json.RawMessage
	if err := readBody(q, &body); err != nil {
		return err
	}
	var sent []string
	raw, ok := body["tags"]
	if !ok || json.Unmarshal(raw, &sent) != nil || sent == nil {
		return badRequest("Malformed request. Invalid 'tags' field")
	}
	var tags []string
	for _, tg := range sent {
		if !slices.Contains(tags, tg) {
			tags = append(tags, tg)
		}
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	var out *tagsView
	err := c.store.update(func(t *txn) error {
		s, err := t.writableServer(q.u, id)
		if err != nil {
			return err
		}
		s.Tags, s.TagsPending, s.Updated = tags, nil, q.now
		until := q.now + int64(c.actionDelay())
		for _, tg := range tags {
			if err := t.addTagJob(s, tg, until); err != nil {
				return err
			}
		}
		out = s.tagsReply()
		return putRec(t, bServers, id, s)
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, 200, out)
	return nil
}

// editServerTags deletes one tag (tag != "") or all of them; 404 when there
// is nothing to delete.
func (c *Cloud) editServerTags(q *creq, id int64, tag string, code int) error {
	return c.updateStatus(q, code, func(t *txn) error {
		s, err := t.writableServer(q.u, id)
		if err != nil {
			return err
		}
		switch {
		case tag == "" && len(s.Tags) == 0:
			return notFound("Server has no tags.")
		case tag == "":
			s.Tags, s.TagsPending = nil, nil
		case !slices.Contains(s.Tags, tag):
			return notFound("Tag '" + tag + "' not found.")
		default:
			s.Tags = slices.DeleteFunc(slices.Clone(s.Tags), func(x string) bool { return x == tag })
			delete(s.TagsPending, tag)
		}
		s.Updated = q.now
		return putRec(t, bServers, id, s)
	})
}

// ---- volume attachments (§3.1 os-volume_attachments) ----

// maxServerVolumes is Synnefo's GANETI_MAX_DISKS_PER_INSTANCE default.
const maxServerVolumes = 8

// attachmentView is a volume attachment in the compute API.
type attachmentView struct {
	ID       int64  `json:"id"`
	VolumeID int64  `json:"volumeId"`
	ServerID int64  `json:"serverId"`
	Device   string `json:"device"`
}

func attachmentOf(v *volumeRec) *attachmentView {
	return &attachmentView{ID: v.ID, VolumeID: v.ID, ServerID: v.Server}
}

// serveVolumeAttachments routes /servers/{id}/os-volume_attachments[/{vol}];
// rest holds the segments after os-volume_attachments.
func (c *Cloud) serveVolumeAttachments(q *creq, id int64, rest []string) error {
	if len(rest) == 0 {
		return route(q, map[string]func() error{
			"GET":  func() error { return c.listVolumeAttachments(q, id) },
			"POST": func() error { return c.attachVolume(q, id) },
		})
	}
	vid, ok := parseNumID(rest[0])
	if len(rest) != 1 || !ok {
		return endpointNotFound()
	}
	return route(q, map[string]func() error{
		"GET":    func() error { return c.getVolumeAttachment(q, id, vid) },
		"DELETE": func() error { return c.detachVolume(q, id, vid) },
	})
}

// attachedVolumes are the non-deleted volumes attached to s, in id order.
func (t *txn) attachedVolumes(s *serverRec) []*volumeRec {
	var out []*volumeRec
	for _, vid := range s.Volumes {
		if v, ok := getRec[volumeRec](t, bVolumes, vid); ok && !v.Deleted && v.Server == s.ID {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *volumeRec) int { return int(a.ID - b.ID) })
	return out
}

func (c *Cloud) listVolumeAttachments(q *creq, id int64) error {
	return viewJSON(c, q, "volumeAttachments", func(t *txn) ([]*attachmentView, error) {
		s, err := t.visibleServer(q.u, id)
		if err != nil {
			return nil, err
		}
		atts := []*attachmentView{}
		for _, v := range t.attachedVolumes(s) {
			atts = append(atts, attachmentOf(v))
		}
		return atts, nil
	})
}

// attachmentParties loads the server (not deleted) and the caller's volume
// (not deleted) of an attachment call.
func (t *txn) attachmentParties(u *User, sid, vid int64) (*serverRec, *volumeRec, error) {
	s, err := t.writableServer(u, sid)
	if err != nil {
		return nil, nil, err
	}
	v, err := t.ownVolume(u, vid)
	if err != nil {
		return nil, nil, err
	}
	if v.Deleted {
		return nil, nil, badRequest("Volume has been deleted.")
	}
	return s, v, nil
}

func notAttached(v *volumeRec, s *serverRec) error {
	return badRequest(fmt.Sprintf("Volume '%d' is not attached to server '%d'", v.ID, s.ID))
}

func (c *Cloud) getVolumeAttachment(q *creq, sid, vid int64) error {
	return viewJSON(c, q, "volumeAttachment", func(t *txn) (*attachmentView, error) {
		s, v, err := t.attachmentParties(q.u, sid, vid)
		if err != nil {
			return nil, err
		}
		if v.Server != s.ID {
			return nil, notAttached(v, s)
		}
		return attachmentOf(v), nil
	})
}

// upperStatus is a volume status as Synnefo names it in messages.
func upperStatus(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'a' <= ch && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	return string(b)
}

func notDetachable(vt volumeType) error {
	return badRequest(fmt.Sprintf("Volume type '%s' is not detachable", vt.Template))
}

// attachVolume is POST /servers/{id}/os-volume_attachments (Synnefo's
// server_attachments.attach_volume): the volume must be available (and of
// a detachable type) or still creating and unattached, of the server's
// disk template, and the server must accept an ATTACH_VOLUME job. The
// volume is "attaching" (or stays "creating") until the job ends, then
// "in_use"; the server shows ATTACHING_VOLUME meanwhile.
func (c *Cloud) attachVolume(q *creq, sid int64) error {
	m, err := bodyObject(q, "volumeAttachment")
	if err != nil {
		return err
	}
	raw, ok := m["volumeId"]
	if !ok || string(raw) == "null" {
		return badRequest("Malformed request. Missing attribute 'volumeId'.")
	}
	vid, ok := intID(raw)
	if !ok {
		return badRequest("Malformed request. Invalid 'volumeId' field")
	}
	return updateJSON(c, q, 202, "volumeAttachment", func(t *txn) (*attachmentView, error) {
		s, v, err := t.attachmentParties(q.u, sid, vid)
		if err != nil {
			return nil, err
		}
		vt, _ := volumeTypeByID(v.Type)
		switch {
		case v.Status == "available" && v.Server == 0:
			if !vt.Detachable {
				return nil, notDetachable(vt)
			}
		case v.Status == "creating" && v.Server == 0:
		default:
			return nil, badRequest(fmt.Sprintf("Cannot attach volume while volume is in '%s' status.", upperStatus(v.Status)))
		}
		fl, _ := flavorByID(s.Flavor)
		if sv, _ := volumeTypeByID(fl.VolType); sv.Template != vt.Template {
			return nil, badRequest(fmt.Sprintf("Volume and server must have the same volume template. Volume has volume template '%s' while server has '%s'", vt.Template, sv.Template))
		}
		if len(t.attachedVolumes(s)) >= maxServerVolumes {
			return nil, badRequest("Maximum volumes per server limit reached")
		}
		if err := validateAction(s, "ATTACH_VOLUME"); err != nil {
			return nil, err
		}
		until := q.now + int64(c.actionDelay())
		v.Server, v.DeviceIndex, v.Updated = s.ID, t.nextDeviceIndex(s.ID), q.now
		if v.Status == "available" {
			v.Status, v.Next, v.Until = "attaching", "in_use", until
			if err := t.schedule(dueVolume, itoa(v.ID), until); err != nil {
				return nil, err
			}
		} else {
			v.Next = "in_use" // the creation job also attaches it
		}
		if err := putRec(t, bVolumes, v.ID, v); err != nil {
			return nil, err
		}
		s.Volumes = append(removeID(s.Volumes, v.ID), v.ID)
		return attachmentOf(v), t.startTask(s, "ATTACH_VOLUME", q.now, until)
	})
}

// detachVolume is DELETE /servers/{id}/os-volume_attachments/{vol}
// (server_attachments.detach_volume): a detachable, non-root volume of
// this server in status in_use or error goes "detaching", then "available"
// and unattached when the DETACH_VOLUME job ends.
func (c *Cloud) detachVolume(q *creq, sid, vid int64) error {
	return c.updateStatus(q, http.StatusAccepted, func(t *txn) error {
		s, v, err := t.attachmentParties(q.u, sid, vid)
		if err != nil {
			return err
		}
		vt, _ := volumeTypeByID(v.Type)
		if !vt.Detachable {
			return notDetachable(vt)
		}
		if v.Server != s.ID {
			return notAttached(v, s)
		}
		if v.Status != "in_use" && v.Status != "error" {
			return badRequest(fmt.Sprintf("Cannot detach volume while volume is in '%s' status.", upperStatus(v.Status)))
		}
		if v.DeviceIndex == 0 {
			return badRequest(fmt.Sprintf("Cannot detach the root volume of server %d.", s.ID))
		}
		if err := validateAction(s, "DETACH_VOLUME"); err != nil {
			return err
		}
		until := q.now + int64(c.actionDelay())
		v.Status, v.Next, v.Until, v.Updated = "detaching", "available", until, q.now
		if err := putRec(t, bVolumes, v.ID, v); err != nil {
			return err
		}
		if err := t.schedule(dueVolume, itoa(v.ID), until); err != nil {
			return err
		}
		return t.startTask(s, "DETACH_VOLUME", q.now, until)
	})
}

// nextDeviceIndex is the disk index a volume attached to server gets: one
// past the highest index in use (0 for the root volume).
func (t *txn) nextDeviceIndex(server int64) int {
	n := 0
	each(t, bVolumes, func(o *volumeRec) bool {
		if o.Server == server && !o.Deleted {
			n = max(n, o.DeviceIndex+1)
		}
		return true
	})
	return n
}
