package localcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
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
	var out quotasReply
	err := c.store.view(func(t *txn) error {
		out = t.quotas(c, u)
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
	case seg[1] == "memberships":
		err = c.serveMemberships(w, r, u, seg[2:])
	case seg[1] == "apps":
		err = c.serveApps(w, r, u, seg[2:])
	case len(seg) == 3 && seg[2] == "action" && r.Method == http.MethodPost:
		err = c.projectAction(w, r, u, seg[1])
	case len(seg) == 2 && r.Method == http.MethodGet:
		var p projectView
		if p, err = c.getProject(u, seg[1]); err == nil {
			writeJSON(w, 200, p)
		}
	case len(seg) == 2 && r.Method == http.MethodPut:
		err = c.postApplication(w, r, u, seg[1])
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
		q := r.URL.Query()
		name, owner, state, mode := q.Get("name"), q.Get("owner"), q.Get("state"), q.Get("mode")
		if state != "" && !projectStates[state] {
			return badRequest("Unrecognized state " + state)
		}
		if mode != "" && mode != "default" && mode != "related" && mode != "member" {
			return badRequest(fmt.Sprintf("Unrecognized mode '%s'.", mode))
		}
		out, err := c.listProjects(u, projectFilter{name: name, owner: owner, state: state, member: mode == "member"})
		if err != nil {
			return err
		}
		writeJSON(w, 200, out)
		return nil
	case http.MethodPost:
		return c.postApplication(w, r, u, "")
	}
	w.Header().Set("Allow", "GET,POST")
	return errf(405, "Method not allowed")
}

var projectStates = map[string]bool{"uninitialized": true, "active": true, "suspended": true, "terminated": true, "deleted": true}

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
func (c *Cloud) projectIDs(u *User) []string {
	ids := []string{u.UUID}
	c.store.view(func(t *txn) error {
		for _, p := range t.userProjects(c, u)[1:] {
			ids = append(ids, p.UUID)
		}
		return nil
	})
	return ids
}

// projectAction is POST /projects/<id>/action: terminate, suspend,
// unsuspend or reinstate by the project's administrator (see adminOf), or
// approve, deny, dismiss or cancel of its last application ({"approve":
// {"app_id": n, "reason": "…"}}). A project that is not active grants
// nothing: its members' quota there is gone until it is active again.
func (c *Cloud) projectAction(w http.ResponseWriter, r *http.Request, u *User, id string) error {
	known := map[string]bool{"terminate": true, "suspend": true, "unsuspend": true, "reinstate": true}
	for k := range appActions {
		known[k] = true
	}
	action, data, err := readAction(r, known)
	if err != nil {
		return err
	}
	if appActions[action] {
		var d struct {
			AppID *int64 `json:"app_id"`
		}
		if json.Unmarshal(data, &d) != nil || d.AppID == nil {
			return badRequest("Missing app_id")
		}
		err = c.appAction(u, id, *d.AppID, action)
	} else {
		err = c.lifecycleAction(u, id, action)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(200)
	return nil
}

// lifecycleAction moves a project between active, suspended and terminated
// (validate_project_action).
func (c *Cloud) lifecycleAction(u *User, id, action string) error {
	type tr struct{ from, to string }
	mv := map[string]tr{"terminate": {"active", "terminated"}, "suspend": {"active", "suspended"},
		"unsuspend": {"suspended", "active"}, "reinstate": {"terminated", "active"}}[action]
	return c.store.update(func(t *txn) error {
		p, ok := t.project(c, id)
		if !ok {
			return notFound(fmt.Sprintf("There is no project identified by %s.", id))
		}
		if p.System {
			return conflict(fmt.Sprintf("Cannot %s a system project.", action))
		}
		if !c.adminOf(u, p) {
			return forbidden("You do not have the permissions to perform this action.")
		}
		if p.State != mv.from {
			return conflict(fmt.Sprintf("Cannot %s: project is %s.", action, p.State))
		}
		p.State = mv.to
		return putJSON(t.tx.Bucket(bProjects), []byte(p.UUID), p)
	})
}
