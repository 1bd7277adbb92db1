package localcloud

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const accountP = "/astakos/account/v1.0"

// GET /resources needs no token and lists Synnefo's api-visible resources.
func TestResourcesEndpoint(t *testing.T) {
	e := newCyEnv(t)
	r := e.call("", "GET", accountP+"/resources", nil, nil).want(t, 200)
	want := map[string]string{"pithos.diskspace": "pithos_object-store", "cyclades.vm": "cyclades_compute", "cyclades.cpu": "cyclades_compute",
		"cyclades.ram": "cyclades_compute", "cyclades.disk": "cyclades_compute", "cyclades.floating_ip": "cyclades_network",
		"cyclades.network.private": "cyclades_network"}
	if len(r.m) != len(want) {
		t.Errorf("resources %s", r.body)
	}
	for name, svc := range want {
		res := obj(r.m, name)
		if res == nil || res["service"] != svc || res["description"] == "" || res["api_visible"] != true {
			t.Errorf("%s: %v", name, res)
		}
	}
	if u := obj(r.m, "pithos.diskspace")["unit"]; u != "bytes" {
		t.Errorf("pithos.diskspace unit %v", u)
	}
	if u, ok := obj(r.m, "cyclades.vm")["unit"]; !ok || u != nil {
		t.Errorf("cyclades.vm unit %v (want null)", u)
	}
}

// A user at the storage limit gets Pithos' 413 with Astakos' QuotaLimit
// rendered as the fault; deleting frees the quota.
func TestQuotaStorageLimit(t *testing.T) {
	e := newEnv(t, 4)
	tok := userD.Token // 8 bytes of quota
	e.must(e.req("PUT", "/{d}/c", tok, nil, nil), 201)
	e.must(e.req("PUT", "/{d}/c/a", tok, map[string]string{"Content-Type": "a/b"}, strings.NewReader("12345678")), 201)
	r := e.req("PUT", "/{d}/c/b", tok, map[string]string{"Content-Type": "a/b"}, strings.NewReader("123"))
	want := `{"fault":{"code":413,"details":"Limit for resource 'Storage space' exceeded for your account. Available: 0, Requested: 3","message":"Resource Limit Exceeded for your account."}}`
	if r.code != 413 || string(r.body) != want {
		t.Fatalf("over quota: %s\nwant 413 %s", r, want)
	}
	e.must(e.req("HEAD", "/{d}/c/b", tok, nil, nil), 404)
	var q map[string]map[string]map[string]int64
	quotas := func() map[string]int64 {
		res, err := e.hc.Get(e.srv.URL + accountP + "/quotas?X-Auth-Token=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(&q); err != nil {
			t.Fatal(err)
		}
		return q[userD.UUID]["pithos.diskspace"]
	}
	if d := quotas(); d["limit"] != 8 || d["usage"] != 8 || d["project_usage"] != 8 {
		t.Errorf("quotas at the limit: %v", d)
	}
	e.must(e.req("DELETE", "/{d}/c/a", tok, nil, nil), 204)
	if d := quotas(); d["usage"] != 0 {
		t.Errorf("quotas after delete: %v", d)
	}
	e.must(e.req("PUT", "/{d}/c/b", tok, map[string]string{"Content-Type": "a/b"}, strings.NewReader("123")), 201)
}

// The projects and memberships API: create (approved at once), list, get,
// join (moderated: requested, then accepted by the owner), the quota of a
// project charged through X-Container-Policy-Project, leave, modify.
func TestProjectsAndMemberships(t *testing.T) {
	e := newCyEnv(t)
	app := map[string]any{"name": "db.research", "end_date": "2030-01-01T00:00:00Z", "join_policy": "moderated",
		"resources": map[string]any{"pithos.diskspace": map[string]int64{"member_capacity": 10, "project_capacity": 20}}}
	r := e.call("tok-alice", "POST", accountP+"/projects", app, nil).want(t, 201)
	pid, _ := r.m["id"].(string)
	if pid == "" || r.m["application"] == nil {
		t.Fatalf("create: %s", r.body)
	}
	var list []map[string]any
	json.Unmarshal(e.call("tok-alice", "GET", accountP+"/projects", nil, nil).want(t, 200).body, &list)
	if len(list) != 2 || list[0]["id"] != e.alice() || list[0]["system_project"] != true || list[1]["id"] != pid {
		t.Fatalf("alice's projects: %v", list)
	}
	p := e.call("tok-alice", "GET", accountP+"/projects/"+pid, nil, nil).want(t, 200).m
	if p["name"] != "db.research" || p["owner"] != e.alice() || p["state"] != "active" || p["join_policy"] != "moderated" ||
		obj(obj(p, "resources"), "pithos.diskspace")["member_capacity"] != float64(10) || obj(p, "last_application")["state"] != "approved" {
		t.Errorf("project: %s", e.call("tok-alice", "GET", accountP+"/projects/"+pid, nil, nil).body)
	}
	// bob asks to join; alice accepts.
	mid := e.call("tok-bob", "POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}, nil).want(t, 200).m["id"]
	var ms []map[string]any
	json.Unmarshal(e.call("tok-alice", "GET", accountP+"/projects/memberships?project="+pid, nil, nil).want(t, 200).body, &ms)
	if len(ms) != 1 || ms[0]["user"] != e.bob() || ms[0]["state"] != "requested" || fmt.Sprint(ms[0]["allowed_actions"]) != "[accept reject]" {
		t.Fatalf("memberships: %v", ms)
	}
	mpath := fmt.Sprintf("%s/projects/memberships/%v", accountP, mid)
	e.call("tok-bob", "POST", mpath+"/action", map[string]any{"accept": ""}, nil).fault(t, 403, "forbidden", "")
	e.call("tok-alice", "POST", mpath+"/action", map[string]any{"accept": ""}, nil).want(t, 200)
	if m := e.call("tok-bob", "GET", mpath, nil, nil).want(t, 200).m; m["state"] != "accepted" {
		t.Errorf("membership after accept: %v", m)
	}
	// bob's account now has the project's storage, charged per container.
	h := e.call("tok-bob", "HEAD", "/pithos/object-store/v1/"+e.bob(), nil, nil).want(t, 204).h
	if h.Get("X-Account-Policy-Quota-"+pid) != "10" || h.Get("X-Account-Policy-Quota") != fmt.Sprint(DefaultQuota+10) {
		t.Errorf("account quota headers: %v", h)
	}
	cont := "/pithos/object-store/v1/" + e.bob() + "/proj"
	e.call("tok-bob", "PUT", cont, nil, map[string]string{"X-Container-Policy-Project": pid}).want(t, 201)
	put := func(name, data string) *cyResp {
		return e.call("tok-bob", "PUT", cont+"/"+name, []byte(data), map[string]string{"Content-Type": "text/plain"})
	}
	put("a", "0123456789").want(t, 201)
	r = put("b", "x")
	if r.code != 413 || obj(r.m, "fault")["details"] != "Limit for resource 'Storage space' exceeded for your account. Available: 0, Requested: 1" {
		t.Errorf("over the project's member capacity: %d %s", r.code, r.body)
	}
	// bob's base project is untouched by it.
	var q map[string]map[string]map[string]float64
	json.Unmarshal(e.call("tok-bob", "GET", accountP+"/quotas", nil, nil).want(t, 200).body, &q)
	if q[pid]["pithos.diskspace"]["usage"] != 10 || q[e.bob()]["pithos.diskspace"]["usage"] != 0 {
		t.Errorf("quotas: %v", q)
	}
	// Only the owner modifies; bob leaves.
	e.call("tok-bob", "PUT", accountP+"/projects/"+pid, map[string]any{"name": "x"}, nil).fault(t, 403, "forbidden", "")
	e.call("tok-alice", "PUT", accountP+"/projects/"+pid, map[string]any{"description": "updated"}, nil).want(t, 201)
	if d := e.call("tok-alice", "GET", accountP+"/projects/"+pid, nil, nil).m["description"]; d != "updated" {
		t.Errorf("description after modify: %v", d)
	}
	e.call("tok-bob", "POST", mpath+"/action", map[string]any{"leave": ""}, nil).want(t, 200)
	if h := e.call("tok-bob", "HEAD", "/pithos/object-store/v1/"+e.bob(), nil, nil).h; h.Get("X-Account-Policy-Quota-"+pid) != "" {
		t.Errorf("quota header after leaving: %v", h)
	}
	e.call("tok-bob", "GET", accountP+"/projects/nonexistent", nil, nil).fault(t, 404, "itemNotFound", "")
}

// A server create over the project's CPU quota gets Cyclades' 413 overLimit
// with astakosclient's message; a server in a project one is not a member of
// is a 400.
func TestServerOverCPUQuota(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("disk.img", []byte("bootable"), nil)
	app := map[string]any{"name": "small", "end_date": "2030-01-01T00:00:00Z", "join_policy": "auto",
		"resources": map[string]any{
			"cyclades.vm": map[string]int64{"member_capacity": 5, "project_capacity": 5}, "cyclades.cpu": map[string]int64{"member_capacity": 3, "project_capacity": 3},
			"cyclades.ram": map[string]int64{"member_capacity": 8 << 30, "project_capacity": 8 << 30}, "cyclades.disk": map[string]int64{"member_capacity": 100 << 30, "project_capacity": 100 << 30},
		}}
	pid := e.call("tok-bob", "POST", accountP+"/projects", app, nil).want(t, 201).m["id"].(string)
	srv := func(flavor int) *cyResp {
		return e.do("POST", computeP+"/servers", map[string]any{"server": map[string]any{"name": "s", "imageRef": img, "flavorRef": flavor, "project": pid}})
	}
	srv(3).fault(t, 400, "badRequest", "not in project")
	e.do("POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}).want(t, 200)
	srv(3).want(t, 202) // 2 CPUs of 3
	r := srv(3)         // 2 more: over
	if r.code != 413 || obj(r.m, "overLimit")["message"] != "Resource Limit Exceeded for your account." ||
		obj(r.m, "overLimit")["details"] != "Limit for resource 'CPU' exceeded for your account. Available: 1, Requested: 2" {
		t.Fatalf("over CPU quota: %d %s", r.code, r.body)
	}
	srv(1).want(t, 202) // 1 CPU still fits
	var q map[string]map[string]map[string]float64
	json.Unmarshal(e.do("GET", accountP+"/quotas", nil).want(t, 200).body, &q)
	if q[pid]["cyclades.cpu"]["usage"] != 3 || q[pid]["cyclades.vm"]["usage"] != 2 {
		t.Errorf("quotas: %v", q[pid])
	}
}

// Private networks and floating IPs are charged to their project too.
func TestNetworkAndFloatingIPQuota(t *testing.T) {
	e := newCyEnv(t)
	app := map[string]any{"name": "net", "end_date": "2030-01-01T00:00:00Z", "join_policy": "auto",
		"resources": map[string]any{"cyclades.network.private": map[string]int64{"member_capacity": 1, "project_capacity": 1},
			"cyclades.floating_ip": map[string]int64{"member_capacity": 1, "project_capacity": 1}}}
	pid := e.do("POST", accountP+"/projects", app).want(t, 201).m["id"].(string)
	e.do("POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}).want(t, 200)
	net := func() *cyResp {
		return e.do("POST", networkP+"/networks", map[string]any{"network": map[string]any{"type": "MAC_FILTERED", "project": pid}})
	}
	net().want(t, 201)
	r := net()
	if r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'Private Network' exceeded for your account. Available: 0, Requested: 1" {
		t.Errorf("second network over quota: %d %s", r.code, r.body)
	}
	ip := func() *cyResp {
		return e.do("POST", networkP+"/floatingips", map[string]any{"floatingip": map[string]any{"project": pid}})
	}
	ip().want(t, 200)
	if r := ip(); r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'Floating IP address' exceeded for your account. Available: 0, Requested: 1" {
		t.Errorf("second floating IP over quota: %d %s", r.code, r.body)
	}
	net2 := e.do("POST", networkP+"/networks", map[string]any{"network": map[string]any{"type": "MAC_FILTERED"}}) // base project
	net2.want(t, 201)
}

// The owner suspends and unsuspends a project; while suspended it grants
// nothing (its members' quota there is gone).
func TestProjectSuspend(t *testing.T) {
	e := newCyEnv(t)
	app := map[string]any{"name": "p", "end_date": "2030-01-01T00:00:00Z", "join_policy": "auto",
		"resources": map[string]any{"pithos.diskspace": map[string]int64{"member_capacity": 5, "project_capacity": 5}}}
	pid := e.do("POST", accountP+"/projects", app).want(t, 201).m["id"].(string)
	e.call("tok-bob", "POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}, nil).want(t, 200)
	quota := func() string {
		return e.call("tok-bob", "HEAD", "/pithos/object-store/v1/"+e.bob(), nil, nil).h.Get("X-Account-Policy-Quota-" + pid)
	}
	if quota() != "5" {
		t.Fatalf("quota before suspend %q", quota())
	}
	e.call("tok-bob", "POST", accountP+"/projects/"+pid+"/action", map[string]any{"suspend": map[string]any{}}, nil).fault(t, 403, "forbidden", "")
	e.do("POST", accountP+"/projects/"+pid+"/action", map[string]any{"suspend": map[string]any{"reason": "x"}}).want(t, 200)
	if st := e.do("GET", accountP+"/projects/"+pid, nil).m["state"]; st != "suspended" || quota() != "" {
		t.Errorf("suspended: state %v, quota %q", st, quota())
	}
	e.do("POST", accountP+"/projects/"+pid+"/action", map[string]any{"suspend": map[string]any{}}).fault(t, 409, "conflict", "")
	e.do("POST", accountP+"/projects/"+pid+"/action", map[string]any{"unsuspend": map[string]any{}}).want(t, 200)
	if quota() != "5" {
		t.Errorf("quota after unsuspend %q", quota())
	}
}
