package localcloud

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// tagList reads GET /servers/{id}/tags as tag -> status.
func (e *cyEnv) tagList(path string) ([]string, []string) {
	e.t.Helper()
	r := e.do("GET", path+"/tags", nil).want(e.t, 200)
	var tags, statuses []string
	for _, v := range r.m["tags"].([]any) {
		tags = append(tags, v.(string))
	}
	for _, v := range r.m["statuses"].([]any) {
		statuses = append(statuses, v.(string))
	}
	if len(tags) != len(statuses) {
		e.t.Fatalf("tags %v with statuses %v", tags, statuses)
	}
	return tags, statuses
}

// tagStatus is GET /servers/{id}/tags/{tag}: 204 and the tag-status header.
func (e *cyEnv) tagStatus(path, tag string) string {
	e.t.Helper()
	r := e.do("GET", path+"/tags/"+tag, nil).want(e.t, 204)
	if len(r.body) != 0 {
		e.t.Fatalf("GET tag body %q, want empty", r.body)
	}
	return r.h.Get("tag-status")
}

func detailTags(m map[string]any) []string {
	var out []string
	for _, v := range m["tags"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func TestServerTags(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("tagged", img, 1, map[string]any{"tags": []string{"web"}})["id"]
	path := computeP + "/servers/" + jsonID(id)

	// During BUILD tags are PENDADD and absent from the details; writes are allowed.
	if tags, st := e.tagList(path); !slices.Equal(tags, []string{"web"}) || st[0] != "PENDADD" {
		t.Fatalf("tags while building %v %v", tags, st)
	}
	if got := e.tagStatus(path, "web"); got != "PENDADD" {
		t.Fatalf("tag-status %q while building", got)
	}
	r := e.do("PUT", path+"/tags/db", nil).want(t, 201)
	if loc := r.h.Get("Location"); !strings.HasSuffix(loc, path+"/tags/db") || !strings.HasPrefix(loc, "http://") {
		t.Fatalf("Location %q", loc)
	}
	if len(r.body) != 0 {
		t.Fatalf("201 body %q", r.body)
	}
	if got := detailTags(e.server(id)); len(got) != 0 {
		t.Fatalf("detail tags while building %v", got)
	}

	// After the build and the tag job, both are ACTIVE and shown.
	e.waitStatus(id, "ACTIVE")
	m := e.poll("tags ACTIVE", func() map[string]any { return e.server(id) }, func(m map[string]any) bool {
		return len(detailTags(m)) == 2
	})
	if got := detailTags(m); !slices.Equal(got, []string{"web", "db"}) {
		t.Fatalf("detail tags %v", got)
	}
	if got := e.tagStatus(path, "db"); got != "ACTIVE" {
		t.Fatalf("tag-status %q after the job", got)
	}
	e.do("PUT", path+"/tags/db", nil).want(t, 204) // existed

	// A new tag on a running server is PENDADD, then ACTIVE; it survives a restart meanwhile.
	before := e.server(id)["updated"]
	e.clk.step(time.Second) // "updated" has a resolution of a second
	e.do("PUT", path+"/tags/cache", nil).want(t, 201)
	if got := e.tagStatus(path, "cache"); got != "PENDADD" {
		t.Fatalf("new tag status %q", got)
	}
	after := e.server(id)
	if got := detailTags(after); slices.Contains(got, "cache") {
		t.Fatalf("pending tag shown in details %v", got)
	}
	if after["updated"] == before {
		t.Fatal("adding a tag must bump updated")
	}
	e.restart()
	e.poll("tag cache ACTIVE", func() map[string]any { return e.server(id) }, func(m map[string]any) bool {
		return slices.Contains(detailTags(m), "cache")
	})

	// Replace all: duplicates dropped, every tag PENDADD.
	r = e.do("PUT", path+"/tags", `{"tags": ["a", "b", "a"]}`).want(t, 200)
	if fmt.Sprint(r.m["tags"]) != "[a b]" || fmt.Sprint(r.m["statuses"]) != "[PENDADD PENDADD]" {
		t.Fatalf("replace reply %s", r.body)
	}
	if tags, _ := e.tagList(path); !slices.Equal(tags, []string{"a", "b"}) {
		t.Fatalf("tags after replace %v", tags)
	}
	e.do("GET", path+"/tags/web", nil).fault(t, 404, "itemNotFound", "web")

	// Delete one, then all; nothing left to delete is 404.
	e.do("DELETE", path+"/tags/a", nil).want(t, 204)
	e.do("DELETE", path+"/tags/a", nil).fault(t, 404, "itemNotFound", "")
	if tags, _ := e.tagList(path); !slices.Equal(tags, []string{"b"}) {
		t.Fatalf("tags after delete %v", tags)
	}
	e.do("DELETE", path+"/tags", nil).want(t, 204)
	if tags, _ := e.tagList(path); len(tags) != 0 {
		t.Fatalf("tags after delete all %v", tags)
	}
	e.do("DELETE", path+"/tags", nil).fault(t, 404, "itemNotFound", "")
	e.do("PUT", path+"/tags", `{"tags": []}`).want(t, 200)

	// The limit is 50 tags of at most 46 characters.
	fifty := make([]string, maxTags)
	for i := range fifty {
		fifty[i] = fmt.Sprintf("t%02d", i)
	}
	e.do("PUT", path+"/tags", map[string]any{"tags": fifty}).want(t, 200)
	e.do("PUT", path+"/tags/one-more", nil).fault(t, 400, "badRequest", "more than 50 tags")
	e.do("PUT", path+"/tags/t07", nil).want(t, 204)
	e.do("PUT", path+"/tags", `{"tags": []}`).want(t, 200)
	e.do("PUT", path+"/tags/"+strings.Repeat("x", maxTagLen), nil).want(t, 201)
}

// TestServerTagRefusals drives every refused tag call.
func TestServerTagRefusals(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("t", img, 1, map[string]any{"tags": []string{"web"}})["id"]
	path := computeP + "/servers/" + jsonID(id)
	fiftyOne := make([]string, maxTags+1)
	for i := range fiftyOne {
		fiftyOne[i] = fmt.Sprint(i)
	}
	long := strings.Repeat("x", maxTagLen+1)
	cases := []struct {
		name, method, path string
		body               any
		hdr                map[string]string
		tok                string
		code               int
		fault, msg         string
	}{
		{"replace without content type", "PUT", path + "/tags", `{"tags": []}`, map[string]string{"Content-Type": ""}, "", 400, "badRequest", "Missing Content-Type"},
		{"replace wrong content type", "PUT", path + "/tags", `{"tags": []}`, map[string]string{"Content-Type": "text/plain"}, "", 400, "badRequest", "Unsupported Content-type"},
		{"replace bad JSON", "PUT", path + "/tags", `{"tags": [`, nil, "", 400, "badRequest", ""},
		{"replace without tags", "PUT", path + "/tags", `{}`, nil, "", 400, "badRequest", "tags"},
		{"replace tags not a list", "PUT", path + "/tags", `{"tags": "web"}`, nil, "", 400, "badRequest", "tags"},
		{"replace tags not strings", "PUT", path + "/tags", `{"tags": [1]}`, nil, "", 400, "badRequest", "tags"},
		{"replace 51 tags", "PUT", path + "/tags", map[string]any{"tags": fiftyOne}, nil, "", 400, "badRequest", "more than 50 tags"},
		{"replace long tag", "PUT", path + "/tags", map[string]any{"tags": []string{long}}, nil, "", 400, "badRequest", "Tag too long"},
		{"replace empty tag", "PUT", path + "/tags", `{"tags": [""]}`, nil, "", 400, "badRequest", ""},
		{"add long tag", "PUT", path + "/tags/" + long, nil, nil, "", 400, "badRequest", "Tag too long"},
		{"get missing tag", "GET", path + "/tags/nope", nil, nil, "", 404, "itemNotFound", "nope"},
		{"delete missing tag", "DELETE", path + "/tags/nope", nil, nil, "", 404, "itemNotFound", "nope"},
		{"POST tags", "POST", path + "/tags", `{"tags": []}`, nil, "", 405, "notAllowed", ""},
		{"POST one tag", "POST", path + "/tags/web", nil, nil, "", 405, "notAllowed", ""},
		{"another user's server", "PUT", path + "/tags/x", nil, nil, "tok-bob", 404, "itemNotFound", "Server not found."},
		{"another user's list", "GET", path + "/tags", nil, nil, "tok-bob", 404, "itemNotFound", "Server not found."},
		{"unknown server", "DELETE", computeP + "/servers/99999/tags", nil, nil, "", 404, "itemNotFound", "Server not found."},
		{"non-numeric server", "GET", computeP + "/servers/abc/tags", nil, nil, "", 400, "badRequest", "API endpoint not found"},
		{"trailing segment", "GET", path + "/tags/web/x", nil, nil, "", 400, "badRequest", "API endpoint not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := c.tok
			if tok == "" {
				tok = "tok-alice"
			}
			r := e.call(tok, c.method, c.path, c.body, c.hdr)
			r.fault(t, c.code, c.fault, c.msg)
			if c.code == 405 && r.h.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	if tags, _ := e.tagList(path); !slices.Equal(tags, []string{"web"}) {
		t.Fatalf("refused calls changed the tags: %v", tags)
	}

	// A deleted server refuses tag writes (400) but still lists.
	e.waitStatus(id, "ACTIVE")
	e.do("DELETE", path, nil).want(t, 204)
	e.waitStatus(id, "DELETED")
	e.do("PUT", path+"/tags/x", nil).fault(t, 400, "badRequest", "Server has been deleted.")
	e.do("PUT", path+"/tags", `{"tags": ["x"]}`).fault(t, 400, "badRequest", "Server has been deleted.")
	e.do("DELETE", path+"/tags", nil).fault(t, 400, "badRequest", "Server has been deleted.")
	e.do("DELETE", path+"/tags/web", nil).fault(t, 400, "badRequest", "Server has been deleted.")
	e.do("GET", path+"/tags", nil).want(t, 200)
}

// volume reads GET /volumes/{id}.
func (e *cyEnv) volume(id string) map[string]any {
	e.t.Helper()
	return obj(e.do("GET", volumeP+"/volumes/"+id, nil).want(e.t, 200).m, "volume")
}

func (e *cyEnv) waitVolume(id, status string) map[string]any {
	e.t.Helper()
	return e.poll("volume "+id+" "+status, func() map[string]any { return e.volume(id) },
		func(m map[string]any) bool { return m["status"] == status })
}

// newDetachable creates an unattached ext_archipelago volume and returns its id.
func (e *cyEnv) newDetachable(name string) string {
	e.t.Helper()
	v := obj(e.do("POST", volumeP+"/volumes", map[string]any{"volume": map[string]any{"size": 2, "display_name": name, "volume_type": 2}}).want(e.t, 202).m, "volume")
	return v["id"].(string)
}

func TestVolumeAttachDetach(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	sid := e.createServer("vm", img, 1, nil)["id"]
	path := computeP + "/servers/" + jsonID(sid)
	vid := e.newDetachable("spare")
	e.waitVolume(vid, "available")
	attach := fmt.Sprintf(`{"volumeAttachment": {"volumeId": %q}}`, vid)

	// BUILD refuses with 409.
	e.do("POST", path+"/os-volume_attachments", attach).fault(t, 409, "buildInProgress", "")
	srv := e.waitStatus(sid, "ACTIVE")
	root := itoa(int64(srv["volumes"].([]any)[0].(float64)))

	r := e.do("POST", path+"/os-volume_attachments", attach).want(t, 202)
	a := obj(r.m, "volumeAttachment")
	if a["id"] != float64(mustAtoi(t, vid)) || a["volumeId"] != a["id"] || a["serverId"] != sid || a["device"] != "" {
		t.Fatalf("attach reply %s", r.body)
	}
	// Meanwhile: the volume is attaching, the server runs an ATTACH_VOLUME job.
	if v := e.volume(vid); v["status"] != "attaching" {
		t.Fatalf("volume status %v right after attach", v["status"])
	}
	if s := e.server(sid); s["status"] != "ACTIVE" || s["SNF:task_state"] != "ATTACHING_VOLUME" {
		t.Fatalf("server while attaching %v / %v", s["status"], s["SNF:task_state"])
	}
	e.do("POST", path+"/action", `{"shutdown": {}}`).fault(t, 400, "badRequest", "pending 'ATTACH_VOLUME'")
	e.do("POST", path+"/os-volume_attachments", attach).fault(t, 400, "badRequest", "'ATTACHING' status")
	e.do("DELETE", volumeP+"/volumes/"+vid, nil).fault(t, 400, "badRequest", "busy")

	// A restart does not lose the job.
	e.restart()
	v := e.waitVolume(vid, "in_use")
	atts := v["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["server_id"] != sid || atts[0].(map[string]any)["device_index"] != float64(1) {
		t.Fatalf("volume attachments %v", atts)
	}
	if s := e.server(sid); s["SNF:task_state"] != "" || len(s["volumes"].([]any)) != 2 {
		t.Fatalf("server after attach: task %v volumes %v", s["SNF:task_state"], s["volumes"])
	}
	list := e.do("GET", path+"/os-volume_attachments", nil).want(t, 200).m["volumeAttachments"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["volumeId"] != a["id"] || list[0].(map[string]any)["serverId"] != sid {
		t.Fatalf("attachment list %v", list)
	}
	got := obj(e.do("GET", path+"/os-volume_attachments/"+vid, nil).want(t, 200).m, "volumeAttachment")
	if fmt.Sprint(got) != fmt.Sprint(a) {
		t.Fatalf("GET attachment %v, want %v", got, a)
	}

	// The root volume stays; the spare one detaches asynchronously.
	e.do("DELETE", path+"/os-volume_attachments/"+root, nil).fault(t, 400, "badRequest", "Cannot detach the root volume of server "+jsonID(sid)+".")
	r = e.do("DELETE", path+"/os-volume_attachments/"+vid, nil).want(t, 202)
	if len(r.body) != 0 {
		t.Fatalf("detach body %q", r.body)
	}
	if v := e.volume(vid); v["status"] != "detaching" {
		t.Fatalf("volume status %v right after detach", v["status"])
	}
	if s := e.server(sid); s["SNF:task_state"] != "DETACHING_VOLUME" {
		t.Fatalf("server task while detaching %v", s["SNF:task_state"])
	}
	e.do("DELETE", path+"/os-volume_attachments/"+vid, nil).fault(t, 400, "badRequest", "'DETACHING' status")
	v = e.waitVolume(vid, "available")
	if len(v["attachments"].([]any)) != 0 {
		t.Fatalf("detached volume attachments %v", v["attachments"])
	}
	if s := e.server(sid); s["SNF:task_state"] != "" || len(s["volumes"].([]any)) != 1 {
		t.Fatalf("server after detach: task %v volumes %v", s["SNF:task_state"], s["volumes"])
	}
	if l := e.do("GET", path+"/os-volume_attachments", nil).want(t, 200).m["volumeAttachments"].([]any); len(l) != 1 {
		t.Fatalf("attachments after detach %v", l)
	}
	e.do("GET", path+"/os-volume_attachments/"+vid, nil).fault(t, 400, "badRequest", "is not attached to server")
	e.do("DELETE", path+"/os-volume_attachments/"+vid, nil).fault(t, 400, "badRequest", "is not attached to server")

	// A volume still being created may be attached: it goes straight to in_use.
	fresh := e.newDetachable("fresh")
	e.do("POST", path+"/os-volume_attachments", fmt.Sprintf(`{"volumeAttachment": {"volumeId": %s}}`, fresh)).want(t, 202)
	if v := e.volume(fresh); v["status"] != "creating" {
		t.Fatalf("attached while creating: %v", v["status"])
	}
	e.waitVolume(fresh, "in_use")
	// The detached spare can be attached again, with the next free disk index.
	e.poll("server idle", func() map[string]any { return e.server(sid) }, func(m map[string]any) bool { return m["SNF:task_state"] == "" })
	e.do("POST", path+"/os-volume_attachments", attach).want(t, 202)
	v = e.waitVolume(vid, "in_use")
	if idx := v["attachments"].([]any)[0].(map[string]any)["device_index"]; idx != float64(2) {
		t.Fatalf("device index %v, want 2", idx)
	}

	// Deleting the server deletes its attached volumes (delete_on_termination).
	e.poll("server idle", func() map[string]any { return e.server(sid) }, func(m map[string]any) bool { return m["SNF:task_state"] == "" })
	e.do("DELETE", path, nil).want(t, 204)
	e.waitStatus(sid, "DELETED")
	e.waitVolume(vid, "deleted")
	e.do("POST", path+"/os-volume_attachments", attach).fault(t, 400, "badRequest", "Server has been deleted.")
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, ok := parseNumID(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestVolumeAttachmentRefusals drives every refused attachment call.
func TestVolumeAttachmentRefusals(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	ext := e.createServer("ext", img, 1, nil)["id"]
	drbd := e.createServer("drbd", img, 7, nil)["id"]
	bobImg, _ := e.putObject("tok-bob", e.bob(), "images", "b", diskData)
	e.call("tok-bob", "POST", imageP+"/images/", nil, map[string]string{"X-Image-Meta-Name": "b", "X-Image-Meta-Location": "pithos://" + e.bob() + "/images/b"}).want(t, 200)
	bobSrv := obj(e.call("tok-bob", "POST", computeP+"/servers", map[string]any{"server": map[string]any{"name": "b", "imageRef": bobImg, "flavorRef": 1}}, nil).want(t, 202).m, "server")["id"]
	e.waitStatus(ext, "ACTIVE")
	d := e.waitStatus(drbd, "ACTIVE")
	drbdRoot := itoa(int64(d["volumes"].([]any)[0].(float64)))
	spare := e.newDetachable("spare")
	e.waitVolume(spare, "available")
	gone := e.newDetachable("gone")
	e.waitVolume(gone, "available")
	e.do("DELETE", volumeP+"/volumes/"+gone, nil).want(t, 202)
	e.waitVolume(gone, "deleted")

	extP := computeP + "/servers/" + jsonID(ext) + "/os-volume_attachments"
	drbdP := computeP + "/servers/" + jsonID(drbd) + "/os-volume_attachments"
	body := func(id string) string { return `{"volumeAttachment": {"volumeId": "` + id + `"}}` }
	cases := []struct {
		name, method, path string
		body               any
		hdr                map[string]string
		tok                string
		code               int
		fault, msg         string
	}{
		{"no content type", "POST", extP, body(spare), map[string]string{"Content-Type": ""}, "", 400, "badRequest", "Missing Content-Type"},
		{"bad JSON", "POST", extP, `{"volumeAttachment": `, nil, "", 400, "badRequest", ""},
		{"no wrapper", "POST", extP, `{"volumeId": 1}`, nil, "", 400, "badRequest", "Malformed request"},
		{"no volumeId", "POST", extP, `{"volumeAttachment": {}}`, nil, "", 400, "badRequest", "volumeId"},
		{"bad volumeId", "POST", extP, body("abc"), nil, "", 400, "badRequest", "volumeId"},
		{"unknown volume", "POST", extP, body("999999"), nil, "", 404, "itemNotFound", "Volume 999999 not found"},
		{"deleted volume", "POST", extP, body(gone), nil, "", 400, "badRequest", "deleted"},
		{"template mismatch", "POST", drbdP, body(spare), nil, "", 400, "badRequest", "same volume template"},
		{"volume in use", "POST", extP, body(drbdRoot), nil, "", 400, "badRequest", "'IN_USE' status"},
		{"another user's server", "POST", computeP + "/servers/" + jsonID(bobSrv) + "/os-volume_attachments", body(spare), nil, "", 404, "itemNotFound", "Server not found."},
		{"another user's volume", "POST", computeP + "/servers/" + jsonID(bobSrv) + "/os-volume_attachments", body(spare), nil, "tok-bob", 404, "itemNotFound", "not found"},
		{"detach non-detachable root", "DELETE", drbdP + "/" + drbdRoot, nil, nil, "", 400, "badRequest", "is not detachable"},
		{"detach unattached", "DELETE", extP + "/" + spare, nil, nil, "", 400, "badRequest", "is not attached to server"},
		{"detach unknown", "DELETE", extP + "/999999", nil, nil, "", 404, "itemNotFound", ""},
		{"detach other server's volume", "DELETE", extP + "/" + drbdRoot, nil, nil, "", 400, "badRequest", ""},
		{"get unknown", "GET", extP + "/999999", nil, nil, "", 404, "itemNotFound", ""},
		{"non-numeric volume", "DELETE", extP + "/abc", nil, nil, "", 400, "badRequest", "API endpoint not found"},
		{"trailing segment", "GET", extP + "/" + spare + "/x", nil, nil, "", 400, "badRequest", "API endpoint not found"},
		{"PUT collection", "PUT", extP, body(spare), nil, "", 405, "notAllowed", ""},
		{"POST item", "POST", extP + "/" + spare, body(spare), nil, "", 405, "notAllowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := c.tok
			if tok == "" {
				tok = "tok-alice"
			}
			r := e.call(tok, c.method, c.path, c.body, c.hdr)
			r.fault(t, c.code, c.fault, c.msg)
			if c.code == 405 && r.h.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	if v := e.volume(spare); v["status"] != "available" || len(v["attachments"].([]any)) != 0 {
		t.Fatalf("refused calls changed the spare volume: %v", v)
	}
	if s := e.server(ext); s["SNF:task_state"] != "" {
		t.Fatalf("refused calls left a task: %v", s["SNF:task_state"])
	}
}
