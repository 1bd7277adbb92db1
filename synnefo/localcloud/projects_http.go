package localcloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The Astakos account API's resources, quotas, projects and memberships
// (Synnefo's astakos/api/quotas.py and projects.py; see projects.go).

// serveResources is GET /resources: the resource catalogue (no token).
func (c *Cloud) serveResources(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeFault(w, r, errf(405, "Method not allowed"))
		return
	}
	out := map[string]resourceInfo{}
	for _, res := range resources {
		res.UIVisible, res.APIVisible = true, true
		out[res.Name] = res
	}
	writeJSON(w, 200, out)
}

// serveQuotas is GET /quotas: per project the user is a member of, each
// resource's limit and usage, the member's and the project's.
func (c *Cloud) serveQuotas(w http.ResponseWriter, r *http.Request, u *User) {
	out := map[string]any{}
	err := c.store.view(func(t *txn) error {
		for _, p := range t.userProjects(c, u) {
			use := t.projectUsage(p.UUID, u.UUID, false)
			q := map[string]any{}
			for _, res := range resources {
				g := p.Resources[res.Name]
				x := use[res.Name]
				q[res.Name] = map[string]any{"limit": g.Member, "usage": x.member, "pending": 0,
					"project_limit": g.Project, "project_usage": x.project, "project_pending": 0}
			}
			out[p.UUID] = q
		}
		return nil
	})
	if err != nil {
		c.internalError(w, r, err)
		return
	}
	writeJSON(w, 200, out)
}

// serveProjectsAPI routes /projects… ; false when rest is not one of them.
func (c *Cloud) serveProjectsAPI(w http.ResponseWriter, r *http.Request, u *User, rest string) bool {
	seg := strings.Split(rest, "/")
	if seg[0] != "projects" {
		return false
	}
	var err error
	switch {
	case len(seg) == 1:
		err = c.projectsRoot(w, r, u)
	case seg[1] == "memberships" && len(seg) == 2:
		err = c.membershipsRoot(w, r, u)
	case seg[1] == "memberships" && len(seg) == 3 && r.Method == http.MethodGet:
		err = c.getMembership(w, u, seg[2])
	case seg[1] == "memberships" && len(seg) == 4 && seg[3] == "action" && r.Method == http.MethodPost:
		err = c.membershipAction(w, r, u, seg[2])
	case len(seg) == 3 && seg[2] == "action" && r.Method == http.MethodPost:
		err = c.projectAction(w, r, u, seg[1])
	case len(seg) == 2 && (r.Method == http.MethodGet || r.Method == http.MethodPut):
		if r.Method == http.MethodGet {
			err = c.getProject(w, u, seg[1])
		} else {
			err = c.submitApplication(w, r, u, seg[1])
		}
	default:
		err = notFound("Not found")
	}
	if err != nil {
		c.replyError(w, r, err)
	}
	return true
}

func (c *Cloud) projectsRoot(w http.ResponseWriter, r *http.Request, u *User) error {
	switch r.Method {
	case http.MethodGet:
		var out []map[string]any
		name, owner := r.URL.Query().Get("name"), r.URL.Query().Get("owner")
		err := c.store.view(func(t *txn) error {
			for _, p := range t.visibleProjects(c, u) {
				if (name == "" || p.Name == name) && (owner == "" || p.Owner == owner) {
					out = append(out, projectJSON(p, u))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if out == nil {
			out = []map[string]any{}
		}
		writeJSON(w, 200, out)
		return nil
	case http.MethodPost:
		return c.submitApplication(w, r, u, "")
	}
	w.Header().Set("Allow", "GET,POST")
	return errf(405, "Method not allowed")
}

// visibleProjects: the user's base project, projects owned and projects the
// user has a membership in (Synnefo's default "related" mode).
func (t *txn) visibleProjects(c *Cloud, u *User) []*projectRec {
	out := []*projectRec{c.baseProject(u)}
	seen := map[string]bool{u.UUID: true}
	t.tx.Bucket(bProjects).ForEach(func(k, v []byte) error {
		var p projectRec
		if json.Unmarshal(v, &p) == nil && p.Owner == u.UUID {
			out = append(out, &p)
			seen[p.UUID] = true
		}
		return nil
	})
	for _, m := range t.memberships(u.UUID, "") {
		if p, ok := t.project(c, m.Project); ok && !seen[p.UUID] {
			out = append(out, p)
			seen[p.UUID] = true
		}
	}
	return out
}

func projectJSON(p *projectRec, u *User) map[string]any {
	res := map[string]any{}
	for n, g := range p.Resources {
		res[n] = map[string]any{"member_capacity": g.Member, "project_capacity": g.Project}
	}
	d := map[string]any{
		"id": p.UUID, "state": p.State, "creation_date": isoDate(p.Created), "name": p.Name, "owner": p.Owner,
		"homepage": p.Homepage, "description": p.Description, "end_date": p.EndDate,
		"join_policy": p.JoinPolicy, "leave_policy": p.LeavePolicy, "max_members": p.MaxMembers,
		"private": p.Private, "system_project": p.System, "resources": res,
	}
	if p.Owner == u.UUID && !p.System {
		app := map[string]any{"id": p.AppID, "state": "approved", "name": p.Name, "owner": p.Owner, "applicant": p.Owner,
			"homepage": p.Homepage, "description": p.Description, "start_date": p.StartDate, "end_date": p.EndDate,
			"comments": p.Comments, "join_policy": p.JoinPolicy, "leave_policy": p.LeavePolicy,
			"max_members": p.MaxMembers, "private": p.Private, "resources": res}
		d["last_application"] = app
	}
	return d
}

func (c *Cloud) getProject(w http.ResponseWriter, u *User, id string) error {
	var out map[string]any
	err := c.store.view(func(t *txn) error {
		p, ok := t.project(c, id)
		if !ok {
			return notFound(fmt.Sprintf("Project %s not found.", id))
		}
		if p.Private && p.Owner != u.UUID && !t.isMember(u.UUID, id) {
			return forbidden("You do not have access to this project.")
		}
		out = projectJSON(p, u)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

var membershipPolicies = map[string]bool{"auto": true, "moderated": true, "closed": true}

// application is the body of POST /projects and PUT /projects/<id>.
type application struct {
	Owner       *string                    `json:"owner"`
	Name        *string                    `json:"name"`
	Homepage    *string                    `json:"homepage"`
	Description *string                    `json:"description"`
	StartDate   *string                    `json:"start_date"`
	EndDate     *string                    `json:"end_date"`
	JoinPolicy  *string                    `json:"join_policy"`
	LeavePolicy *string                    `json:"leave_policy"`
	MaxMembers  *int64                     `json:"max_members"`
	Private     *bool                      `json:"private"`
	Comments    *string                    `json:"comments"`
	Resources   map[string]json.RawMessage `json:"resources"`
}

// submitApplication creates (id "") or modifies a project; the application
// is approved at once, as the local cloud's own administrator would.
func (c *Cloud) submitApplication(w http.ResponseWriter, r *http.Request, u *User, id string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return badRequest("Could not read request body")
	}
	var app application
	if err := json.Unmarshal(body, &app); err != nil {
		return badRequest("Invalid JSON data")
	}
	if app.Owner != nil && c.byID[*app.Owner] == nil {
		return badRequest("User does not exist.")
	}
	for _, pol := range []*string{app.JoinPolicy, app.LeavePolicy} {
		if pol != nil && !membershipPolicies[*pol] {
			return badRequest("Invalid join policy")
		}
	}
	grants := map[string]grant{}
	for n, raw := range app.Resources {
		if _, ok := resourceByName(n); !ok {
			return badRequest(fmt.Sprintf("Resource %s does not exist.", n))
		}
		var g grant
		if err := json.Unmarshal(raw, &g); err != nil || g.Member < 0 || g.Project < 0 {
			return badRequest("Malformed resource policy")
		}
		if g.Member > g.Project {
			return badRequest(fmt.Sprintf("Member capacity for resource %s exceeds project capacity.", n))
		}
		grants[n] = g
	}
	var p *projectRec
	err = c.store.update(func(t *txn) error {
		if id == "" {
			if app.Name == nil {
				return badRequest("Name missing.")
			}
			if app.EndDate == nil {
				return badRequest("Missing end date")
			}
			p = &projectRec{UUID: newUUID(), Owner: u.UUID, State: "active", Created: t.s.now(),
				JoinPolicy: "moderated", LeavePolicy: "auto", MaxMembers: 1 << 53, Resources: map[string]grant{}}
		} else {
			var ok bool
			if p, ok = t.project(c, id); !ok {
				return notFound(fmt.Sprintf("Project %s not found.", id))
			}
			if p.System {
				return forbidden("Cannot modify a system project.")
			}
			if p.Owner != u.UUID {
				return forbidden("Only the project owner can modify it.")
			}
		}
		app.apply(p)
		for n, g := range grants {
			p.Resources[n] = g
		}
		seq, err := t.tx.Bucket(bProjects).NextSequence()
		if err != nil {
			return err
		}
		p.AppID = int64(seq)
		return putJSON(t.tx.Bucket(bProjects), []byte(p.UUID), p)
	})
	if err != nil {
		return err
	}
	writeJSON(w, 201, map[string]any{"application": p.AppID, "id": p.UUID})
	return nil
}

func (a *application) apply(p *projectRec) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Owner, a.Owner)
	set(&p.Name, a.Name)
	set(&p.Homepage, a.Homepage)
	set(&p.Description, a.Description)
	set(&p.StartDate, a.StartDate)
	set(&p.EndDate, a.EndDate)
	set(&p.JoinPolicy, a.JoinPolicy)
	set(&p.LeavePolicy, a.LeavePolicy)
	set(&p.Comments, a.Comments)
	if a.MaxMembers != nil {
		p.MaxMembers = *a.MaxMembers
	}
	if a.Private != nil {
		p.Private = *a.Private
	}
}

func membershipJSON(m *membershipRec, p *projectRec, u *User) map[string]any {
	var actions []string
	switch {
	case m.User == u.UUID && m.State == "accepted":
		actions = append(actions, "leave")
	case m.User == u.UUID && m.State == "requested":
		actions = append(actions, "cancel")
	}
	if p != nil && p.Owner == u.UUID {
		switch m.State {
		case "requested":
			actions = append(actions, "accept", "reject")
		case "accepted":
			actions = append(actions, "remove")
		}
	}
	if actions == nil {
		actions = []string{}
	}
	return map[string]any{"id": m.ID, "user": m.User, "project": m.Project, "state": m.State,
		"allowed_actions": actions, m.State: isoDate(m.Changed)}
}

func (c *Cloud) membershipsRoot(w http.ResponseWriter, r *http.Request, u *User) error {
	switch r.Method {
	case http.MethodGet:
		project := r.URL.Query().Get("project")
		out := []map[string]any{}
		err := c.store.view(func(t *txn) error {
			for _, m := range t.memberships("", project) {
				p, _ := t.project(c, m.Project)
				if m.User == u.UUID || p != nil && p.Owner == u.UUID {
					out = append(out, membershipJSON(m, p, u))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		writeJSON(w, 200, out)
		return nil
	case http.MethodPost:
		return c.joinProject(w, r, u)
	}
	w.Header().Set("Allow", "GET,POST")
	return errf(405, "Method not allowed")
}

// joinProject is POST /projects/memberships {"join": {"project": id}}.
func (c *Cloud) joinProject(w http.ResponseWriter, r *http.Request, u *User) error {
	var req map[string]struct {
		Project string `json:"project"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		return badRequest("Invalid JSON data")
	}
	join, ok := req["join"]
	if !ok || len(req) != 1 {
		return badRequest("No recognized action")
	}
	var m *membershipRec
	err := c.store.update(func(t *txn) error {
		p, ok := t.project(c, join.Project)
		if !ok {
			return notFound(fmt.Sprintf("Project %s not found.", join.Project))
		}
		if p.System || p.JoinPolicy == "closed" {
			return forbidden("The project does not accept join requests.")
		}
		for _, old := range t.memberships(u.UUID, p.UUID) {
			if old.State == "accepted" || old.State == "requested" || old.State == "leave_requested" {
				return errf(409, "Membership already exists.")
			}
		}
		id, err := t.nextSeq(bMemberships)
		if err != nil {
			return err
		}
		m = &membershipRec{ID: id, User: u.UUID, Project: p.UUID, State: "requested", Changed: t.s.now()}
		if p.JoinPolicy == "auto" {
			m.State = "accepted"
		}
		return putRec(t, bMemberships, id, m)
	})
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"id": m.ID})
	return nil
}

func (c *Cloud) getMembership(w http.ResponseWriter, u *User, sid string) error {
	var out map[string]any
	err := c.store.view(func(t *txn) error {
		m, p, f := t.membershipFor(c, u, sid)
		if f != nil {
			return f
		}
		out = membershipJSON(m, p, u)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

// membershipFor finds a membership the user may see: their own, or one of a
// project they own.
func (t *txn) membershipFor(c *Cloud, u *User, sid string) (*membershipRec, *projectRec, *fault) {
	id, err := strconv.ParseInt(sid, 10, 64)
	if err != nil {
		return nil, nil, badRequest("Invalid membership id")
	}
	m, ok := getRec[membershipRec](t, bMemberships, id)
	if !ok {
		return nil, nil, notFound(fmt.Sprintf("Membership %d not found.", id))
	}
	p, _ := t.project(c, m.Project)
	if m.User != u.UUID && (p == nil || p.Owner != u.UUID) {
		return nil, nil, forbidden("You are not allowed to view this membership.")
	}
	return m, p, nil
}

// membershipAction is POST /projects/memberships/<id>/action with one of
// leave, cancel (the member), accept, reject, remove (the project owner).
func (c *Cloud) membershipAction(w http.ResponseWriter, r *http.Request, u *User, sid string) error {
	var req map[string]json.RawMessage
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil || len(req) != 1 {
		return badRequest("No recognized action")
	}
	var action string
	for k := range req {
		action = k
	}
	err := c.store.update(func(t *txn) error {
		m, p, f := t.membershipFor(c, u, sid)
		if f != nil {
			return f
		}
		member, owner := m.User == u.UUID, p != nil && p.Owner == u.UUID
		next := map[string]struct {
			from, to string
			who      bool
		}{
			"leave":  {"accepted", "removed", member},
			"cancel": {"requested", "cancelled", member},
			"accept": {"requested", "accepted", owner},
			"reject": {"requested", "rejected", owner},
			"remove": {"accepted", "removed", owner},
		}
		tr, ok := next[action]
		if !ok {
			return badRequest("No recognized action")
		}
		if !tr.who {
			return forbidden(fmt.Sprintf("Action %s is not allowed to you.", action))
		}
		if m.State != tr.from {
			return errf(409, fmt.Sprintf("Membership %d is %s: cannot %s.", m.ID, m.State, action))
		}
		if action == "leave" && p.LeavePolicy == "closed" {
			return forbidden("The project does not allow leaving.")
		}
		m.State, m.Changed = tr.to, t.s.now()
		return putRec(t, bMemberships, m.ID, m)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(200)
	return nil
}

// accountQuotaHeaders sets X-Account-Policy-Quota (the sum over the user's
// projects) and X-Account-Policy-Quota-<project> (each project's limit).
func (c *Cloud) accountQuotaHeaders(h http.Header, u *User) {
	var total int64
	lim := map[string]int64{}
	c.store.view(func(t *txn) error {
		for _, p := range t.userProjects(c, u) {
			n := p.Resources["pithos.diskspace"].Member
			lim[p.UUID] = n
			total += n
		}
		return nil
	})
	h.Set("X-Account-Policy-Quota", itoa(total))
	ids := make([]string, 0, len(lim))
	for id := range lim {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		h["X-Account-Policy-Quota-"+id] = []string{itoa(lim[id])}
	}
}

// projectIDs lists the uuids of the projects u is a member of.
func (c *Cloud) projectIDs(u *User) []any {
	ids := []any{u.UUID}
	c.store.view(func(t *txn) error {
		for _, p := range t.userProjects(c, u)[1:] {
			ids = append(ids, p.UUID)
		}
		return nil
	})
	return ids
}

// projectAction is POST /projects/<id>/action: terminate, suspend, unsuspend
// or reinstate, by the project's owner (who is the local cloud's project
// administrator for their projects). A project that is not active grants
// nothing: its members' quota there is gone until it is active again.
func (c *Cloud) projectAction(w http.ResponseWriter, r *http.Request, u *User, id string) error {
	var req map[string]json.RawMessage
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		return badRequest("Invalid input data")
	}
	if len(req) != 1 {
		return badRequest("No recognized action")
	}
	var action string
	for k := range req {
		action = k
	}
	type tr struct{ from, to string }
	moves := map[string]tr{"terminate": {"active", "terminated"}, "suspend": {"active", "suspended"},
		"unsuspend": {"suspended", "active"}, "reinstate": {"terminated", "active"}}
	mv, ok := moves[action]
	if !ok {
		return badRequest("No recognized action")
	}
	err := c.store.update(func(t *txn) error {
		p, ok := t.project(c, id)
		if !ok {
			return notFound(fmt.Sprintf("Project %s not found.", id))
		}
		if p.System {
			return forbidden("Cannot " + action + " a system project.")
		}
		if p.Owner != u.UUID {
			return forbidden("Only the project owner can " + action + " it.")
		}
		if p.State != mv.from {
			return errf(409, fmt.Sprintf("Cannot %s: project is %s.", action, p.State))
		}
		p.State = mv.to
		return putJSON(t.tx.Bucket(bProjects), []byte(p.UUID), p)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(200)
	return nil
}
