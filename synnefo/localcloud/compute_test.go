package localcloud

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestServerLifeCycle(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("debian.diskdump", diskData, map[string]string{"X-Image-Meta-Property-OS": "debian"})
	s := e.createServer("web1", img, 3, map[string]any{"metadata": map[string]string{"os": "debian"}, "networks": []any{}})

	if s["status"] != "BUILD" || s["progress"] != float64(0) || s["SNF:task_state"] != "BUILDING" {
		t.Fatalf("create reply: status %v progress %v task %v", s["status"], s["progress"], s["SNF:task_state"])
	}
	if pw, _ := s["adminPass"].(string); !strongPassword(pw) {
		t.Fatalf("adminPass %q", s["adminPass"])
	}
	if _, ok := s["id"].(float64); !ok {
		t.Fatalf("server id %T, want a JSON number", s["id"])
	}
	if vols, _ := s["volumes"].([]any); len(vols) != 1 {
		t.Fatalf("volumes %v, want one root volume", s["volumes"])
	}
	if fl := obj(s, "flavor"); fl["id"] != float64(3) {
		t.Fatalf("flavor %v", fl)
	}
	if im := obj(s, "image"); im["id"] != img {
		t.Fatalf("image %v", im)
	}
	id := s["id"]

	// Progress moves during BUILD (observed by polling, not guessed).
	mid := e.poll("progress during BUILD", func() map[string]any { return e.server(id) }, func(m map[string]any) bool {
		p := m["progress"].(float64)
		return m["status"] != "BUILD" || p > 0 && p < 100
	})
	if mid["status"] != "BUILD" {
		t.Logf("build finished before an intermediate progress was seen")
	}
	if _, ok := mid["adminPass"]; ok {
		t.Fatal("adminPass must only appear in the create reply")
	}
	active := e.waitStatus(id, "ACTIVE")
	if active["progress"] != float64(100) || active["SNF:task_state"] != "" {
		t.Fatalf("ACTIVE: progress %v task %v", active["progress"], active["SNF:task_state"])
	}
	if obj(active, "metadata")["os"] != "debian" {
		t.Fatalf("metadata %v", active["metadata"])
	}
	path := computeP + "/servers/" + jsonID(id)

	// Password endpoint serves the cached adminPass.
	pw := e.do("GET", path+"/password", nil).want(t, 200).m["password"]
	if pw != s["adminPass"] {
		t.Fatalf("password %v, want %v", pw, s["adminPass"])
	}

	// shutdown → STOPPED; a second shutdown is a state error (400).
	e.do("POST", path+"/action", `{"shutdown": {}}`).want(t, 202)
	if got := e.server(id); got["SNF:task_state"] != "STOPPING" || got["status"] != "ACTIVE" {
		t.Fatalf("while stopping: %v / %v", got["status"], got["SNF:task_state"])
	}
	e.do("POST", path+"/action", `{"start": {}}`).fault(t, 400, "badRequest", "pending")
	e.waitStatus(id, "STOPPED")
	e.do("POST", path+"/action", `{"os-stop": null}`).fault(t, 400, "badRequest", "Cannot perform 'STOP' action while server is in 'STOPPED' state.")
	e.do("POST", path+"/action", `{"console": {"type": "vnc"}}`).fault(t, 400, "badRequest", "Server not in ACTIVE state.")

	// resize needs STOPPED; same flavor → 400.
	e.do("POST", path+"/action", `{"resize": {"flavorRef": 3}}`).fault(t, 400, "badRequest", "")
	e.do("POST", path+"/action", `{"resize": {"flavorRef": 999}}`).fault(t, 404, "itemNotFound", "Flavor not found.")

	// start (kamaki's plain client form) → ACTIVE.
	e.do("POST", path+"/action", `{"os-start": null}`).want(t, 202)
	e.waitStatus(id, "ACTIVE")

	// reboot shows REBOOT then ACTIVE.
	e.do("POST", path+"/action", `{"reboot": {"type": "HARD"}}`).want(t, 202)
	if got := e.server(id); got["status"] != "REBOOT" {
		t.Fatalf("after reboot: %v", got["status"])
	}
	e.do("POST", path+"/action", `{"reboot": {"type": "WARM"}}`).fault(t, 400, "badRequest", "")
	e.waitStatus(id, "ACTIVE")

	con := e.do("POST", path+"/action", `{"console": {"type": "vnc"}}`).want(t, 200)
	if c := obj(con.m, "console"); c["type"] != "vnc" || c["password"] == "" {
		t.Fatalf("console %v", c)
	}

	// Rename is 204; list shows the new name.
	e.do("PUT", path, `{"server": {"name": "web-one"}}`).want(t, 204)
	list := e.do("GET", computeP+"/servers", nil).want(t, 200)
	if srvs := list.m["servers"].([]any); len(srvs) != 1 || srvs[0].(map[string]any)["name"] != "web-one" {
		t.Fatalf("list %s", list.body)
	}

	// delete: 204 now, DELETED later; still fetchable, hidden from lists.
	// changes-since is judged by the cloud's clock (stepped by the test),
	// not the wall clock, which runs ahead of it on a loaded machine.
	since := e.clk.Now().UTC().Add(-time.Second).Format("2006-01-02T15:04:05.000000+00:00")
	e.do("DELETE", path, nil).want(t, 204)
	if got := e.server(id); got["SNF:task_state"] != "DESTROYING" {
		t.Fatalf("after delete: task %v", got["SNF:task_state"])
	}
	gone := e.waitStatus(id, "DELETED")
	if gone["deleted"] != true {
		t.Fatalf("deleted flag %v", gone["deleted"])
	}
	if vols := gone["volumes"].([]any); len(vols) != 0 {
		t.Fatalf("deleted server still lists volumes %v", vols)
	}
	for _, p := range []string{"/servers", "/servers/detail"} {
		if srvs := e.do("GET", computeP+p, nil).want(t, 200).m["servers"].([]any); len(srvs) != 0 {
			t.Fatalf("%s lists a deleted server: %v", p, srvs)
		}
	}
	cs := e.do("GET", computeP+"/servers/detail?changes-since="+url.QueryEscape(since), nil).want(t, 200)
	if srvs := cs.m["servers"].([]any); len(srvs) != 1 || srvs[0].(map[string]any)["status"] != "DELETED" {
		t.Fatalf("changes-since list %s", cs.body)
	}
	e.do("POST", path+"/action", `{"start": {}}`).fault(t, 400, "badRequest", "Server has been deleted.")
	e.do("DELETE", path, nil).fault(t, 400, "badRequest", "Server has been deleted.")
	e.do("PUT", path+"/metadata/k", `{"meta": {"k": "v"}}`).fault(t, 400, "badRequest", "deleted")
}

func TestServerActionsWhileBuilding(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("b", img, 1, nil)["id"]
	path := computeP + "/servers/" + jsonID(id) + "/action"
	for _, body := range []string{`{"start": {}}`, `{"shutdown": {}}`, `{"reboot": {}}`, `{"resize": {"flavorRef": 2}}`} {
		e.do("POST", path, body).fault(t, 409, "buildInProgress", "")
	}
	e.do("POST", path, `{"console": {"type": "vnc"}}`).fault(t, 400, "badRequest", "Server not in ACTIVE state.")
	cases := []struct {
		body string
		code int
		name string
	}{
		{`{"changePassword": {"adminPass": "x"}}`, 501, "notImplemented"},
		{`{"rescue": {}}`, 404, "featureNotEnabled"},
		{`{"suspend": {}}`, 403, "forbidden"},
		{`{"createImage": {}}`, 400, "badRequest"},
		{`{"start": 5}`, 400, "badRequest"},
		{`{"start": {}, "shutdown": {}}`, 400, "badRequest"},
		{`{"start"`, 400, "badRequest"},
	}
	for _, c := range cases {
		e.do("POST", path, c.body).fault(t, c.code, c.name, "")
	}
	// Delete is allowed during BUILD.
	e.do("DELETE", computeP+"/servers/"+jsonID(id), nil).want(t, 204)
	e.waitStatus(id, "DELETED")
}

func TestCreateServerValidation(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	// bob's private image: alice may not use it.
	bobImg, _ := e.putObject("tok-bob", e.bob(), "images", "bob.img", diskData)
	e.call("tok-bob", "POST", imageP+"/images/", nil, map[string]string{
		"X-Image-Meta-Name": "bob", "X-Image-Meta-Location": "pithos://" + e.bob() + "/images/bob.img",
	}).want(t, 200)

	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	meta := map[string]string{}
	for i := 0; i < 11; i++ {
		meta[fmt.Sprint("k", i)] = "v"
	}
	pers := func(n, size int) []any {
		var out []any
		for i := 0; i < n; i++ {
			out = append(out, map[string]any{"path": fmt.Sprint("/etc/f", i), "contents": b64(size)})
		}
		return out
	}
	srv := func(extra map[string]any) map[string]any {
		s := map[string]any{"name": "x", "imageRef": img, "flavorRef": 1}
		for k, v := range extra {
			if v == nil {
				delete(s, k)
			} else {
				s[k] = v
			}
		}
		return map[string]any{"server": s}
	}
	cases := []struct {
		name string
		body any
		hdr  map[string]string
		code int
		flt  string
		msg  string
	}{
		{"no content type", srv(nil), map[string]string{"Content-Type": ""}, 400, "badRequest", "Missing Content-Type header field"},
		{"wrong content type", srv(nil), map[string]string{"Content-Type": "text/plain"}, 400, "badRequest", "Unsupported Content-type: 'text/plain'"},
		{"malformed JSON", `{"server": {`, nil, 400, "badRequest", ""},
		{"no server key", map[string]any{"srv": 1}, nil, 400, "badRequest", "Malformed request"},
		{"missing name", srv(map[string]any{"name": nil}), nil, 400, "badRequest", "Malformed request"},
		{"long name", srv(map[string]any{"name": strings.Repeat("n", 256)}), nil, 400, "badRequest", ""},
		{"missing image", srv(map[string]any{"imageRef": nil}), nil, 400, "badRequest", "Malformed request"},
		{"missing flavor", srv(map[string]any{"flavorRef": nil}), nil, 400, "badRequest", "Malformed request"},
		{"non-int flavor", srv(map[string]any{"flavorRef": "large"}), nil, 400, "badRequest", ""},
		{"unknown flavor", srv(map[string]any{"flavorRef": 4242}), nil, 404, "itemNotFound", "Flavor not found."},
		{"unknown image", srv(map[string]any{"imageRef": "0c9b2ac1-0000-4000-8000-000000000000"}), nil, 404, "itemNotFound", "Image '0c9b2ac1-0000-4000-8000-000000000000' not found"},
		{"malformed image", srv(map[string]any{"imageRef": "not-a-uuid"}), nil, 400, "badRequest", ""},
		{"foreign private image", srv(map[string]any{"imageRef": bobImg}), nil, 403, "forbidden", ""},
		{"metadata not object", srv(map[string]any{"metadata": []string{"a"}}), nil, 400, "badRequest", ""},
		{"11 metadata", srv(map[string]any{"metadata": meta}), nil, 400, "badRequest", "10"},
		{"long meta key", srv(map[string]any{"metadata": map[string]string{strings.Repeat("k", 51): "v"}}), nil, 400, "badRequest", ""},
		{"long meta value", srv(map[string]any{"metadata": map[string]string{"k": strings.Repeat("v", 501)}}), nil, 400, "badRequest", ""},
		{"6 personality files", srv(map[string]any{"personality": pers(6, 10)}), nil, 413, "overLimit", ""},
		{"personality too big", srv(map[string]any{"personality": pers(1, 7681)}), nil, 413, "overLimit", ""},
		{"personality bad base64", srv(map[string]any{"personality": []any{map[string]any{"path": "/a", "contents": "!!!"}}}), nil, 400, "badRequest", ""},
		{"personality extra key", srv(map[string]any{"personality": []any{map[string]any{"path": "/a", "contents": "", "color": 1}}}), nil, 400, "badRequest", ""},
		{"personality not list", srv(map[string]any{"personality": "x"}), nil, 400, "badRequest", ""},
		{"networks not list", srv(map[string]any{"networks": "x"}), nil, 400, "badRequest", ""},
		{"network without uuid", srv(map[string]any{"networks": []any{map[string]any{"foo": 1}}}), nil, 400, "badRequest", "Network 'uuid' or 'port' attribute is required."},
		{"unknown network", srv(map[string]any{"networks": []any{map[string]any{"uuid": 999}}}), nil, 404, "itemNotFound", ""},
		{"unknown port", srv(map[string]any{"networks": []any{map[string]any{"port": "999"}}}), nil, 404, "itemNotFound", ""},
		{"9 NICs", srv(map[string]any{"networks": make([]any, 9)}), nil, 400, "badRequest", ""},
		{"weak adminPass", srv(map[string]any{"adminPass": "password"}), nil, 400, "badRequest", ""},
		{"unknown key_name", srv(map[string]any{"key_name": "laptop"}), nil, 404, "itemNotFound", ""},
		{"key_name and SNF:key_names", srv(map[string]any{"key_name": "a", "SNF:key_names": []string{"b"}}), nil, 400, "badRequest", ""},
		{"bad user_data", srv(map[string]any{"user_data": "not base64!"}), nil, 400, "badRequest", "Marformed user_data request"},
		{"too many tags", srv(map[string]any{"tags": make([]string, 51)}), nil, 400, "badRequest", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.call("tok-alice", "POST", computeP+"/servers", c.body, c.hdr).fault(t, c.code, c.flt, c.msg)
		})
	}
	// Nothing above created a server.
	if srvs := e.do("GET", computeP+"/servers", nil).want(t, 200).m["servers"].([]any); len(srvs) != 0 {
		t.Fatalf("rejected creates left servers: %v", srvs)
	}
	// The limits themselves are accepted: 10 metadata, 5 files of 7680 bytes.
	delete(meta, "k10")
	ok := e.createServer("limits", img, 1, map[string]any{"metadata": meta, "personality": pers(5, 7680), "adminPass": "Abcdefgh12"})
	if ok["adminPass"] != "Abcdefgh12" {
		t.Fatalf("adminPass %v", ok["adminPass"])
	}
}

func TestServerSurvivesRestartMidBuild(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("persist", img, 2, nil)["id"]
	if got := e.server(id); got["status"] != "BUILD" {
		t.Fatalf("status %v before restart", got["status"])
	}
	e.restart()
	if got := e.server(id); got["status"] != "BUILD" && got["status"] != "ACTIVE" {
		t.Fatalf("status %v after restart", got["status"])
	}
	e.waitStatus(id, "ACTIVE")
	// A pending shutdown also survives a restart.
	e.do("POST", computeP+"/servers/"+jsonID(id)+"/action", `{"shutdown": {}}`).want(t, 202)
	e.restart()
	e.waitStatus(id, "STOPPED")
}

func TestServerErrorWhenImageVanishes(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("doomed", img, 1, nil)["id"]
	e.do("DELETE", imageP+"/images/"+img, nil).want(t, 204)
	s := e.waitStatus(id, "ERROR")
	if d := s["diagnostics"].([]any); len(d) != 1 {
		t.Fatalf("diagnostics %v", d)
	}
	e.do("POST", computeP+"/servers/"+jsonID(id)+"/action", `{"start": {}}`).fault(t, 400, "badRequest", "ERROR")
	e.do("DELETE", computeP+"/servers/"+jsonID(id), nil).want(t, 204)
	e.waitStatus(id, "DELETED")

	empty := e.image("empty", nil, nil)
	id = e.createServer("empty", empty, 1, nil)["id"]
	e.waitStatus(id, "ERROR")
}

func TestServerMetadata(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("m", img, 1, map[string]any{"metadata": map[string]string{"a": "1"}})["id"]
	p := computeP + "/servers/" + jsonID(id) + "/metadata"

	r := e.do("POST", p, `{"metadata": {"b": "2", "n": 3}}`).want(t, 201)
	if m := obj(r.m, "metadata"); m["a"] != "1" || m["b"] != "2" || m["n"] != "3" {
		t.Fatalf("merged %v", m)
	}
	if m := obj(e.do("GET", p+"/b", nil).want(t, 200).m, "meta"); m["b"] != "2" {
		t.Fatalf("meta %v", m)
	}
	e.do("PUT", p+"/c", `{"meta": {"c": "3"}}`).want(t, 201)
	e.do("PUT", p+"/c", `{"meta": {"d": "3"}}`).fault(t, 400, "badRequest", "Malformed request")
	e.do("PUT", p+"/c", `{"metadata": {"c": "3"}}`).fault(t, 400, "badRequest", "Malformed request")
	e.do("PUT", p, `{"metadata": {}}`).fault(t, 405, "notAllowed", "")
	e.do("DELETE", p+"/c", nil).want(t, 204)
	e.do("DELETE", p+"/c", nil).fault(t, 404, "itemNotFound", "")
	e.do("GET", p+"/c", nil).fault(t, 404, "itemNotFound", "")

	many := map[string]string{}
	for i := 0; i < 8; i++ {
		many[fmt.Sprint("x", i)] = "v"
	}
	e.do("POST", p, map[string]any{"metadata": many}).fault(t, 400, "badRequest", "10")
	if m := obj(e.do("GET", p, nil).want(t, 200).m, "metadata"); len(m) != 3 {
		t.Fatalf("rejected merge changed metadata: %v", m)
	}
}

func TestFlavorsAndFaults(t *testing.T) {
	e := newCyEnv(t)
	list := e.do("GET", computeP+"/flavors", nil).want(t, 200).m["flavors"].([]any)
	if len(list) < 4 {
		t.Fatalf("only %d flavors", len(list))
	}
	for _, f := range list {
		if _, ok := f.(map[string]any)["id"].(float64); !ok {
			t.Fatalf("flavor id not a number: %v", f)
		}
	}
	d := e.do("GET", computeP+"/flavors/detail", nil).want(t, 200).m["flavors"].([]any)[0].(map[string]any)
	for _, k := range []string{"ram", "vcpus", "disk", "SNF:disk_template", "SNF:volume_type", "SNF:allow_create"} {
		if _, ok := d[k]; !ok {
			t.Fatalf("flavor detail lacks %s: %v", k, d)
		}
	}
	e.do("GET", computeP+"/flavors/1", nil).want(t, 200)
	e.do("GET", computeP+"/flavors/77", nil).fault(t, 404, "itemNotFound", "Flavor not found.")

	cases := []struct {
		tok, method, path string
		code              int
		name, msg         string
	}{
		{"", "GET", computeP + "/servers", 401, "unauthorized", "No authentication token"},
		{"bogus", "GET", computeP + "/servers", 401, "fault", ""},
		{"tok-alice", "GET", computeP + "/nothing", 400, "badRequest", "API endpoint not found"},
		{"tok-alice", "GET", computeP + "/servers/1/", 400, "badRequest", "API endpoint not found"},
		{"tok-alice", "GET", computeP + "/servers/abc", 400, "badRequest", "API endpoint not found"},
		{"tok-alice", "GET", computeP + "/servers/12345", 404, "itemNotFound", "Server not found."},
		{"tok-alice", "DELETE", computeP + "/servers", 405, "notAllowed", ""},
		{"tok-alice", "GET", "/cyclades/compute/v9/servers", 400, "badRequest", "API endpoint not found"},
		{"tok-alice", "GET", networkP + "/nothing", 400, "badRequest", ""},
		{"tok-alice", "GET", volumeP + "/volumes/99", 404, "itemNotFound", ""},
		{"tok-alice", "GET", computeP + "/servers/detail?changes-since=yesterday", 400, "badRequest", ""},
	}
	for _, c := range cases {
		r := e.call(c.tok, c.method, c.path, nil, nil)
		r.fault(t, c.code, c.name, c.msg)
		if c.code == 405 && r.h.Get("Allow") == "" {
			t.Fatalf("405 without Allow")
		}
	}
	if r := e.do("GET", computeP+"/servers.json", nil); r.code != 200 {
		t.Fatalf(".json suffix: %d", r.code)
	}
	// Another user's server is not found.
	img := e.image("img", diskData, map[string]string{"X-Image-Meta-Is-Public": "true"})
	id := e.createServer("mine", img, 1, nil)["id"]
	e.call("tok-bob", "GET", computeP+"/servers/"+jsonID(id), nil, nil).fault(t, 404, "itemNotFound", "Server not found.")
	// A public image of alice is usable by bob.
	e.call("tok-bob", "POST", computeP+"/servers", map[string]any{"server": map[string]any{"name": "b", "imageRef": img, "flavorRef": 1}}, nil).want(t, 202)
}

func TestKeypairs(t *testing.T) {
	e := newCyEnv(t)
	r := e.do("POST", computeP+"/os-keypairs", `{"keypair": {"name": "laptop"}}`).want(t, 201)
	kp := obj(r.m, "keypair")
	if !strings.HasPrefix(kp["public_key"].(string), "ssh-rsa ") || !strings.Contains(kp["private_key"].(string), "BEGIN RSA PRIVATE KEY") {
		t.Fatalf("generated pair %v", kp)
	}
	e.do("POST", computeP+"/os-keypairs", `{"keypair": {"name": "laptop"}}`).fault(t, 409, "conflict", "")
	list := e.do("GET", computeP+"/os-keypairs", nil).want(t, 200).m["keypairs"].([]any)
	if len(list) != 1 || obj(list[0].(map[string]any), "keypair")["name"] != "laptop" {
		t.Fatalf("list %v", list)
	}
	img := e.image("img", diskData, nil)
	s := e.createServer("k", img, 1, map[string]any{"SNF:key_names": []string{"laptop", "laptop"}})
	if s["key_name"] != "laptop" || len(s["SNF:key_names"].([]any)) != 1 {
		t.Fatalf("key names %v %v", s["key_name"], s["SNF:key_names"])
	}
	e.do("DELETE", computeP+"/os-keypairs/laptop", nil).want(t, 204)
	e.do("GET", computeP+"/os-keypairs/laptop", nil).fault(t, 404, "itemNotFound", "")
}
