package localcloud

import (
	"bytes"
	"net/url"
	"testing"
)

func TestSnapshotBecomesRegisteredImage(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("base.diskdump", diskData, map[string]string{"X-Image-Meta-Property-OS": "debian"})
	_, srcHash := e.putObject("tok-alice", e.alice(), "images", "base.diskdump", diskData) // same content: same hash
	s := e.createServer("srv", img, 3, map[string]any{"metadata": map[string]string{"os": "debian", "users": "root"}})
	a := e.waitStatus(s["id"], "ACTIVE")
	volID := a["volumes"].([]any)[0].(float64)

	vol := obj(e.do("GET", volumeP+"/volumes/"+itoa(int64(volID)), nil).want(t, 200).m, "volume")
	att := vol["attachments"].([]any)
	if vol["status"] != "in_use" || vol["id"] != itoa(int64(volID)) || len(att) != 1 || att[0].(map[string]any)["server_id"] != s["id"] || vol["image_id"] != img {
		t.Fatalf("root volume %v", vol)
	}
	if vols := e.do("GET", volumeP+"/volumes/detail", nil).want(t, 200).m["volumes"].([]any); len(vols) != 1 {
		t.Fatalf("volumes %v", vols)
	}

	name := "Srv " + jsonID(s["id"]) + " BackUp"
	r := e.do("POST", volumeP+"/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": itoa(int64(volID)), "display_name": name}}).want(t, 202)
	snap := obj(r.m, "snapshot")
	if snap["status"] != "CREATING" || snap["display_name"] != name || snap["volume_id"] != itoa(int64(volID)) {
		t.Fatalf("snapshot %v", snap)
	}
	id := snap["id"].(string)
	head := e.do("HEAD", imageP+"/images/"+id, nil).want(t, 200)
	if head.h.Get("X-Image-Meta-Status") != "SAVING" || head.h.Get("X-Image-Meta-Is-Snapshot") != "True" {
		t.Fatalf("snapshot image while creating: %v", head.h)
	}
	e.poll("snapshot AVAILABLE", func() map[string]any {
		return obj(e.do("GET", volumeP+"/snapshots/"+id, nil).want(t, 200).m, "snapshot")
	}, func(m map[string]any) bool { return m["status"] == "AVAILABLE" })

	head = e.do("HEAD", imageP+"/images/"+id, nil).want(t, 200)
	loc := "pithos://" + e.alice() + "/snapshots/" + url.PathEscape(name)
	if head.h.Get("X-Image-Meta-Status") != "AVAILABLE" || head.h.Get("X-Image-Meta-Location") != loc ||
		head.h.Get("X-Image-Meta-Property-Os") != "debian" || head.h.Get("X-Image-Meta-Property-Users") != "root" ||
		head.h.Get("X-Image-Meta-Property-Exclude-All-Tasks") != "yes" || head.h.Get("X-Image-Meta-Checksum") != srcHash {
		t.Fatalf("snapshot image: %v (want location %s, hash %s)", head.h, loc, srcHash)
	}
	// The snapshot is a real Pithos object with the volume's content.
	got := e.do("GET", "/pithos/object-store/v1/"+e.alice()+"/snapshots/"+url.PathEscape(name), nil).want(t, 200)
	if !bytes.Equal(got.body, diskData) || got.h.Get("X-Object-Uuid") != id {
		t.Fatalf("snapshot object %q uuid %s", got.body, got.h.Get("X-Object-Uuid"))
	}
	if list := e.do("GET", volumeP+"/snapshots/detail", nil).want(t, 200).m["snapshots"].([]any); len(list) != 1 {
		t.Fatalf("snapshots %v", list)
	}
	detail := e.do("GET", imageP+"/images/detail", nil).want(t, 200).m["images"].([]any)
	if len(detail) != 2 {
		t.Fatalf("images %v", detail)
	}
	// Restore: a server from the snapshot image builds.
	restored := e.createServer("restored", id, 3, nil)
	e.waitStatus(restored["id"], "ACTIVE")

	// Snapshot metadata and rename.
	e.do("POST", volumeP+"/snapshots/"+id+"/metadata", `{"metadata": {"k": "v"}}`).want(t, 200)
	if m := obj(e.do("GET", volumeP+"/snapshots/"+id+"/metadata", nil).want(t, 200).m, "metadata"); m["k"] != "v" {
		t.Fatalf("snapshot metadata %v", m)
	}
	e.do("PUT", volumeP+"/snapshots/"+id, `{"snapshot": {"display_description": "nightly"}}`).want(t, 200)
	// Delete removes the object and the image.
	e.do("DELETE", volumeP+"/snapshots/"+id, nil).want(t, 202)
	e.do("HEAD", "/pithos/object-store/v1/"+e.alice()+"/snapshots/"+url.PathEscape(name), nil).want(t, 404)
	e.do("GET", volumeP+"/snapshots/"+id, nil).fault(t, 404, "itemNotFound", "")
}

func TestSnapshotAndVolumeErrors(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	drbd := e.createServer("drbd", img, 7, nil)
	building := e.createServer("ext", img, 2, nil)
	bvol := itoa(int64(building["volumes"].([]any)[0].(float64)))
	cases := []struct {
		body string
		code int
		msg  string
	}{
		{`{"snapshot": {"volume_id": "9999"}}`, 400, "Volume 9999 not found"},
		{`{"snapshot": {}}`, 400, ""},
		{`{"volume": {"volume_id": "1"}}`, 400, "Malformed request"},
		{`{"snapshot": {"volume_id": "` + bvol + `"}}`, 400, "creating"},
	}
	for _, c := range cases {
		e.do("POST", volumeP+"/snapshots", c.body).fault(t, c.code, "badRequest", c.msg)
	}
	a := e.waitStatus(drbd["id"], "ACTIVE")
	dvol := itoa(int64(a["volumes"].([]any)[0].(float64)))
	e.do("POST", volumeP+"/snapshots", `{"snapshot": {"volume_id": "`+dvol+`"}}`).fault(t, 400, "badRequest", "drbd")

	// Volumes: create, detach rules, delete.
	e.waitStatus(building["id"], "ACTIVE")
	e.do("POST", volumeP+"/volumes", `{"volume": {"size": 0, "display_name": "x", "volume_type": 2}}`).fault(t, 400, "badRequest", "size")
	e.do("POST", volumeP+"/volumes", `{"volume": {"size": 1, "volume_type": 2}}`).fault(t, 400, "badRequest", "display_name")
	e.do("POST", volumeP+"/volumes", `{"volume": {"size": 1, "display_name": "x", "volume_type": 1}}`).fault(t, 400, "badRequest", "")
	v := obj(e.do("POST", volumeP+"/volumes", `{"volume": {"size": 2, "display_name": "data", "server_id": `+jsonID(building["id"])+`}}`).want(t, 202).m, "volume")
	if len(v) != 3 {
		t.Fatalf("create reply must be the short form: %v", v)
	}
	vid := v["id"].(string)
	if got := e.server(building["id"]); got["SNF:task_state"] != "ATTACHING_VOLUME" {
		t.Fatalf("server task %v while its new volume is created", got["SNF:task_state"])
	}
	e.do("POST", volumeP+"/volumes", `{"volume": {"size": 2, "display_name": "data", "server_id": `+jsonID(building["id"])+`}}`).fault(t, 400, "badRequest", "pending 'ATTACH_VOLUME'")
	e.poll("volume in_use", func() map[string]any {
		return obj(e.do("GET", volumeP+"/volumes/"+vid, nil).want(t, 200).m, "volume")
	}, func(m map[string]any) bool { return m["status"] == "in_use" })
	if vols := e.server(building["id"])["volumes"].([]any); len(vols) != 2 {
		t.Fatalf("server volumes %v", vols)
	}
	e.do("DELETE", volumeP+"/volumes/"+bvol, nil).fault(t, 400, "badRequest", "root volume")
	e.do("PUT", volumeP+"/volumes/"+vid, `{"volume": {}}`).fault(t, 400, "badRequest", "")
	e.do("PUT", volumeP+"/volumes/"+vid, `{"volume": {"display_name": "data2"}}`).want(t, 200)
	e.do("DELETE", volumeP+"/volumes/"+vid, nil).want(t, 202)
	e.poll("volume deleted", func() map[string]any {
		return obj(e.do("GET", volumeP+"/volumes/"+vid, nil).want(t, 200).m, "volume")
	}, func(m map[string]any) bool { return m["status"] == "deleted" })
	if vols := e.server(building["id"])["volumes"].([]any); len(vols) != 1 {
		t.Fatalf("server volumes after delete %v", vols)
	}
	types := e.do("GET", volumeP+"/types", nil).want(t, 200).m["volume_types"].([]any)
	if len(types) != 2 {
		t.Fatalf("types %v", types)
	}
	e.do("GET", "/cyclades/volume/v2/volumes", nil).want(t, 200)
}
