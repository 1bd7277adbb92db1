package localcloud

import (
	"encoding/json"
	"testing"
)

// joinedProject creates a project of alice's with grants (one number for
// member and project capacity) and makes her a member (auto join).
func (e *cyEnv) joinedProject(grants map[string]int64) string {
	e.t.Helper()
	res := map[string]any{}
	for n, v := range grants {
		res[n] = map[string]int64{"member_capacity": v, "project_capacity": v}
	}
	app := map[string]any{"name": "charged", "end_date": "2030-01-01T00:00:00Z", "join_policy": "auto", "resources": res}
	pid := e.do("POST", accountP+"/projects", app).want(e.t, 201).m["id"].(string)
	e.do("POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}).want(e.t, 200)
	return pid
}

// Starting a stopped server charges its CPUs and RAM again (Synnefo's START
// commission): with the CPUs taken by another server meanwhile, the start
// gets 413 overLimit.
func TestServerStartChargesCPU(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("disk.img", []byte("bootable"), nil)
	pid := e.joinedProject(map[string]int64{"cyclades.vm": 5, "cyclades.cpu": 2, "cyclades.ram": 8 << 30, "cyclades.disk": 100 << 30})
	create := func() any {
		r := e.do("POST", computeP+"/servers", map[string]any{"server": map[string]any{"name": "s", "imageRef": img, "flavorRef": 3, "project": pid}})
		return obj(r.want(t, 202).m, "server")["id"]
	}
	first := create() // 2 CPUs: all of them
	e.waitStatus(first, "ACTIVE")
	path := computeP + "/servers/" + jsonID(first) + "/action"
	e.do("POST", path, map[string]any{"shutdown": map[string]any{}}).want(t, 202)
	e.waitStatus(first, "STOPPED")
	cpu := func() float64 {
		var q map[string]map[string]map[string]float64
		json.Unmarshal(e.do("GET", accountP+"/quotas", nil).want(t, 200).body, &q)
		return q[pid]["cyclades.cpu"]["usage"]
	}
	if n := cpu(); n != 0 {
		t.Fatalf("a stopped server holds %v CPUs", n)
	}
	create() // takes the 2 CPUs the stopped one let go
	r := e.do("POST", path, map[string]any{"start": map[string]any{}})
	if r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'CPU' exceeded for your account. Available: 0, Requested: 2" {
		t.Fatalf("start over the CPU quota: %d %s", r.code, r.body)
	}
	if s := e.server(first); s["status"] != "STOPPED" || s["SNF:task_state"] != "" {
		t.Errorf("refused start changed the server: %v %v", s["status"], s["SNF:task_state"])
	}
	if n := cpu(); n != 2 {
		t.Errorf("CPU usage after the refused start: %v", n)
	}
}

// Networks, floating IPs and servers move to any project the user is a
// member of, charged there (REASSIGN); over its capacity 413, into a
// project one is not a member of 403, and sharing to the project's members
// is refused as by Synnefo's default (CYCLADES_SHARED_RESOURCES_ENABLED off).
func TestReassignToProject(t *testing.T) {
	e := newCyEnv(t)
	pid := e.joinedProject(map[string]int64{"cyclades.network.private": 1, "cyclades.floating_ip": 1, "cyclades.vm": 1,
		"cyclades.cpu": 8, "cyclades.ram": 8 << 30, "cyclades.disk": 10 << 30}) // two of flavor 1's 5 GiB disks
	other := e.call("tok-bob", "POST", accountP+"/projects", map[string]any{"name": "bobs", "end_date": "2030-01-01T00:00:00Z"}, nil).want(t, 201).m["id"].(string)
	reassign := func(path, project string, shared bool) *cyResp {
		return e.do("POST", path+"/action", map[string]any{"reassign": map[string]any{"project": project, "shared_to_project": shared}})
	}
	net := func() string {
		r := e.do("POST", networkP+"/networks", map[string]any{"network": map[string]any{"type": "MAC_FILTERED"}}).want(t, 201)
		return networkP + "/networks/" + obj(r.m, "network")["id"].(string)
	}
	n1, n2 := net(), net()
	reassign(n1, pid, false).want(t, 200)
	if p := obj(e.do("GET", n1, nil).want(t, 200).m, "network")["tenant_id"]; p != pid {
		t.Errorf("network's project after reassign: %v", p)
	}
	r := reassign(n2, pid, false)
	if r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'Private Network' exceeded for your account. Available: 0, Requested: 1" {
		t.Errorf("second network into the project: %d %s", r.code, r.body)
	}
	if p := obj(e.do("GET", n2, nil).want(t, 200).m, "network")["tenant_id"]; p != e.alice() {
		t.Errorf("refused reassign moved the network to %v", p)
	}
	reassign(n2, other, false).fault(t, 403, "forbidden", "Not a member of project")
	reassign(n2, pid, true).fault(t, 403, "forbidden", "Sharing resource to the members of the project is not permitted")

	ip := func() string {
		r := e.do("POST", networkP+"/floatingips", map[string]any{"floatingip": map[string]any{}}).want(t, 200)
		return networkP + "/floatingips/" + obj(r.m, "floatingip")["id"].(string)
	}
	ip1, ip2 := ip(), ip()
	reassign(ip1, pid, false).want(t, 200)
	if r := reassign(ip2, pid, false); r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'Floating IP address' exceeded for your account. Available: 0, Requested: 1" {
		t.Errorf("second floating IP into the project: %d %s", r.code, r.body)
	}

	img := e.image("disk.img", []byte("bootable"), nil)
	srv := func() string {
		r := e.do("POST", computeP+"/servers", map[string]any{"server": map[string]any{"name": "s", "imageRef": img, "flavorRef": 1}}).want(t, 202)
		e.waitStatus(obj(r.m, "server")["id"], "ACTIVE")
		return computeP + "/servers/" + jsonID(obj(r.m, "server")["id"])
	}
	s1, s2 := srv(), srv()
	reassign(s1, pid, false).want(t, 200)
	if r := reassign(s2, pid, false); r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'Virtual Machine' exceeded for your account. Available: 0, Requested: 1" {
		t.Errorf("second server into the project: %d %s", r.code, r.body)
	}
	// The server's root volume went with it: 5 GiB left, a 6 GiB volume
	// does not fit.
	r = e.do("POST", volumeP+"/volumes", map[string]any{"volume": map[string]any{"size": 6, "display_name": "v", "volume_type": 2}}).want(t, 202)
	vol := volumeP + "/volumes/" + jsonID(obj(r.m, "volume")["id"])
	if r := reassign(vol, pid, false); r.code != 413 || obj(r.m, "overLimit")["details"] != "Limit for resource 'Disk' exceeded for your account. Available: 5368709120, Requested: 6442450944" {
		t.Errorf("volume into a full project: %d %s", r.code, r.body)
	}
	var q map[string]map[string]map[string]float64
	json.Unmarshal(e.do("GET", accountP+"/quotas", nil).want(t, 200).body, &q)
	if q[pid]["cyclades.vm"]["usage"] != 1 || q[e.alice()]["cyclades.vm"]["usage"] != 1 || q[pid]["cyclades.network.private"]["usage"] != 1 ||
		q[pid]["cyclades.disk"]["usage"] != 5<<30 || q[e.alice()]["cyclades.disk"]["usage"] != 11<<30 {
		t.Errorf("quotas after the moves: project %v base %v", q[pid], q[e.alice()])
	}
}
