package localcloud

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// newAdminEnv is a cloud with a project administrator: applications wait
// for approval, as in Synnefo.
func newAdminEnv(t *testing.T) *cyEnv {
	t.Helper()
	e := &cyEnv{t: t, dir: t.TempDir(), clk: &stepClock{now: time.Now()}, users: []User{
		{Name: "alice@example.org", UUID: newUUID(), Token: "tok-alice"},
		{Name: "bob@example.org", UUID: newUUID(), Token: "tok-bob"},
		{Name: "admin@example.org", UUID: newUUID(), Token: "tok-admin", ProjectAdmin: true},
	}}
	e.start()
	t.Cleanup(func() { e.srv.Close() })
	return e
}

func (e *cyEnv) apps(tok, query string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(e.call(tok, "GET", accountP+"/projects/apps"+query, nil, nil).want(e.t, 200).body, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// project-api-guide's application lifecycle: a new project is
// "uninitialized" with a pending application until an admin approves it; a
// modification waits too and leaves the project as it was; a newer
// submission replaces a pending one; deny, dismiss and cancel; the
// application actions take the spec's {"<action>": {"app_id", "reason"}}.
func TestProjectApplicationsModerated(t *testing.T) {
	e := newAdminEnv(t)
	pp := func(id string) string { return accountP + "/projects/" + id }
	act := func(tok, pid, action string, app any) *cyResp {
		return e.call(tok, "POST", pp(pid)+"/action", map[string]any{action: map[string]any{"app_id": app, "reason": "r"}}, nil)
	}
	app := map[string]any{"name": "db.research", "end_date": "2030-01-01T00:00:00Z", "join_policy": "auto",
		"resources": map[string]any{"pithos.diskspace": map[string]int64{"member_capacity": 10, "project_capacity": 20}}}
	r := e.call("tok-alice", "POST", accountP+"/projects", app, nil).want(t, 201)
	pid, app1 := r.m["id"].(string), r.m["application"]
	p := e.call("tok-alice", "GET", pp(pid), nil, nil).want(t, 200).m
	if p["state"] != "uninitialized" || obj(p, "last_application")["state"] != "pending" || obj(p, "last_application")["id"] != app1 {
		t.Fatalf("new project: %v", p)
	}
	e.call("tok-bob", "GET", pp(pid), nil, nil).fault(t, 403, "forbidden", "")
	e.call("tok-bob", "POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}, nil).fault(t, 409, "conflict", "not alive")
	act("tok-alice", pid, "approve", app1).fault(t, 403, "forbidden", "permissions")
	e.call("tok-admin", "POST", pp(pid)+"/action", map[string]any{"approve": map[string]any{}}, nil).fault(t, 400, "badRequest", "app_id")
	e.call("tok-admin", "POST", pp(pid)+"/action", map[string]any{"approve": map[string]any{"app_id": app1}, "deny": map[string]any{"app_id": app1}}, nil).
		fault(t, 400, "badRequest", "Multiple actions not supported")
	if l := e.apps("tok-admin", "?project="+pid); len(l) != 1 || l[0]["state"] != "pending" || l[0]["applicant"] != e.alice() || l[0]["name"] != "db.research" {
		t.Fatalf("admin's application list: %v", l)
	}
	act("tok-admin", pid, "approve", app1).want(t, 200)
	p = e.call("tok-alice", "GET", pp(pid), nil, nil).want(t, 200).m
	if p["state"] != "active" || obj(p, "last_application")["state"] != "approved" || len(obj(p, "resources")) != len(resources) ||
		obj(obj(p, "resources"), "cyclades.vm")["project_capacity"] != float64(0) {
		t.Errorf("approved project: %v", p)
	}
	act("tok-admin", pid, "approve", app1).fault(t, 409, "conflict", fmt.Sprintf("Cannot approve application %v in state 'Approved'", app1))

	// A modification waits; the next one replaces it; deny, then dismiss.
	mod := func(desc string) any {
		return e.call("tok-alice", "PUT", pp(pid), map[string]any{"description": desc}, nil).want(t, 201).m["application"]
	}
	app2 := mod("second")
	if d := e.call("tok-alice", "GET", pp(pid), nil, nil).m["description"]; d != "" {
		t.Errorf("description before approval: %q", d)
	}
	app3 := mod("third")
	if a := e.call("tok-alice", "GET", fmt.Sprintf("%s/projects/apps/%v", accountP, app2), nil, nil).want(t, 200).m; a["state"] != "replaced" {
		t.Errorf("replaced application: %v", a)
	}
	act("tok-admin", pid, "approve", app2).fault(t, 409, "conflict", "is not a pending application for project")
	act("tok-alice", pid, "dismiss", app3).fault(t, 409, "conflict", "Cannot dismiss application")
	act("tok-admin", pid, "deny", app3).want(t, 200)
	act("tok-alice", pid, "dismiss", app3).want(t, 200)
	if p := e.call("tok-alice", "GET", pp(pid), nil, nil).m; p["description"] != "" || p["state"] != "active" || obj(p, "last_application")["state"] != "dismissed" {
		t.Errorf("after deny + dismiss: %v", p)
	}
	// The applicant cancels a pending one; an admin approves another one
	// through the older /projects/apps/<id>/action.
	act("tok-alice", pid, "cancel", mod("fourth")).want(t, 200)
	app5 := mod("fifth")
	e.call("tok-bob", "GET", fmt.Sprintf("%s/projects/apps/%v", accountP, app5), nil, nil).fault(t, 403, "forbidden", "")
	e.call("tok-admin", "POST", fmt.Sprintf("%s/projects/apps/%v/action", accountP, app5), map[string]any{"approve": ""}, nil).want(t, 200)
	if d := e.call("tok-bob", "GET", pp(pid), nil, nil).want(t, 200).m["description"]; d != "fifth" {
		t.Errorf("description after approval: %q", d)
	}
	states := map[string]int{}
	for _, a := range e.apps("tok-alice", "?project="+pid) {
		states[a["state"].(string)]++
	}
	if fmt.Sprint(states) != "map[approved:2 cancelled:1 dismissed:1 replaced:1]" {
		t.Errorf("application states: %v", states)
	}
	if l := e.apps("tok-bob", ""); len(l) != 0 {
		t.Errorf("bob sees applications: %v", l)
	}

	// GET /projects filters: state, mode=member (active projects one is an
	// accepted member of), and refuses unknown values.
	e.call("tok-bob", "POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}, nil).want(t, 200)
	for q, want := range map[string]int{"?state=active": 2, "?state=uninitialized": 0, "?mode=member": 2, "?mode=member&name=db.research": 1} {
		var l []map[string]any
		json.Unmarshal(e.call("tok-bob", "GET", accountP+"/projects"+q, nil, nil).want(t, 200).body, &l)
		if len(l) != want {
			t.Errorf("bob's projects%s: %d, want %d", q, len(l), want)
		}
	}
	e.call("tok-bob", "GET", accountP+"/projects?state=bogus", nil, nil).fault(t, 400, "badRequest", "Unrecognized state bogus")
	e.call("tok-bob", "GET", accountP+"/projects?mode=all", nil, nil).fault(t, 400, "badRequest", "Unrecognized mode 'all'.")

	// A denied, dismissed new project is deleted.
	r = e.call("tok-bob", "POST", accountP+"/projects", map[string]any{"name": "nope", "end_date": "2030-01-01T00:00:00Z"}, nil).want(t, 201)
	act("tok-admin", r.m["id"].(string), "deny", r.m["application"]).want(t, 200)
	act("tok-bob", r.m["id"].(string), "dismiss", r.m["application"]).want(t, 200)
	if st := e.call("tok-bob", "GET", pp(r.m["id"].(string)), nil, nil).want(t, 200).m["state"]; st != "deleted" {
		t.Errorf("dismissed new project: state %v", st)
	}
}

// POST /projects/memberships {"enroll": {"project", "user": e-mail}}: the
// owner makes a user a member at once.
func TestProjectEnroll(t *testing.T) {
	e := newCyEnv(t)
	app := map[string]any{"name": "closed.club", "end_date": "2030-01-01T00:00:00Z", "join_policy": "closed",
		"resources": map[string]any{"pithos.diskspace": map[string]int64{"member_capacity": 7, "project_capacity": 7}}}
	pid := e.do("POST", accountP+"/projects", app).want(t, 201).m["id"].(string)
	enroll := func(tok, user string) *cyResp {
		return e.call(tok, "POST", accountP+"/projects/memberships", map[string]any{"enroll": map[string]any{"project": pid, "user": user}}, nil)
	}
	e.call("tok-bob", "POST", accountP+"/projects/memberships", map[string]any{"join": map[string]any{"project": pid}}, nil).fault(t, 409, "conflict", "join policy is closed")
	enroll("tok-bob", "bob@example.org").fault(t, 403, "forbidden", "")
	enroll("tok-alice", "nobody@example.org").fault(t, 409, "conflict", "Unknown users: nobody@example.org")
	mid := enroll("tok-alice", "Bob@Example.org").want(t, 200).m["id"]
	m := e.call("tok-bob", "GET", fmt.Sprintf("%s/projects/memberships/%v", accountP, mid), nil, nil).want(t, 200).m
	if m["state"] != "accepted" || m["user"] != e.bob() || m["project"] != pid {
		t.Errorf("enrolled membership: %v", m)
	}
	enroll("tok-alice", "bob@example.org").fault(t, 409, "conflict", "Membership already exists.")
	if h := e.call("tok-bob", "HEAD", "/pithos/object-store/v1/"+e.bob(), nil, nil).h; h.Get("X-Account-Policy-Quota-"+pid) != "7" {
		t.Errorf("enrolled member's quota header: %v", h)
	}
	e.call("tok-alice", "POST", accountP+"/projects/memberships", map[string]any{"bogus": map[string]any{}}, nil).fault(t, 400, "badRequest", "No recognized action")
}
