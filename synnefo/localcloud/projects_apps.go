package localcloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Project applications (Synnefo's astakos/im/functions.py submit_application
// and approve/deny/dismiss/cancel_application). A create or a modification
// of a project is an application; a project administrator approves or
// denies it. Users marked project_admin in the cloud's users are the
// administrators; when there is none, the local cloud approves every
// application as it is submitted (no one else could), and a project's owner
// stands in for the administrator in its project actions.

var bApplications = []byte("applications") // id:8 -> appRec

// appRec is one application: the fields it asks to set (nil: unchanged).
type appRec struct {
	ID        int64            `json:"id"`
	Project   string           `json:"project"`
	Applicant string           `json:"applicant"`
	State     string           `json:"state"` // pending approved replaced denied dismissed cancelled
	Created   int64            `json:"created"`
	Fields    application      `json:"fields"`
	Grants    map[string]grant `json:"grants"`
}

// appStateDisplay is ProjectApplication.state_display, used in conflicts.
var appStateDisplay = map[string]string{"pending": "Pending", "approved": "Approved", "replaced": "Replaced",
	"denied": "Denied", "dismissed": "Dismissed", "cancelled": "Cancelled"}

// moderated reports whether applications wait for a project administrator.
func (c *Cloud) moderated() bool {
	for _, u := range c.users {
		if u.ProjectAdmin {
			return true
		}
	}
	return false
}

// adminOf reports whether u may act as p's administrator: a project admin,
// or p's owner when the cloud has no project admin.
func (c *Cloud) adminOf(u *User, p *projectRec) bool {
	return u.ProjectAdmin || !c.moderated() && p.Owner == u.UUID && !p.System
}

// appViewOf is _application_details (plus "project", which Synnefo's older
// /projects/apps API carried).
func appViewOf(a *appRec) appView {
	f := a.Fields
	return appView{ID: a.ID, Project: a.Project, State: a.State, Applicant: a.Applicant,
		Name: f.Name, Owner: f.Owner, Homepage: f.Homepage, Description: f.Description,
		StartDate: f.StartDate, EndDate: f.EndDate, Comments: f.Comments,
		JoinPolicy: f.JoinPolicy, LeavePolicy: f.LeavePolicy, MaxMembers: f.MaxMembers,
		Private: f.Private, Resources: grantsView(a.Grants)}
}

// postApplication is POST /projects (id "") and PUT /projects/<id>: it
// decodes the application and submits it.
func (c *Cloud) postApplication(w http.ResponseWriter, r *http.Request, u *User, id string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return badRequest("Could not read request body")
	}
	var app application
	if err := json.Unmarshal(body, &app); err != nil {
		return badRequest("Invalid JSON data")
	}
	out, err := c.submitApplication(u, id, &app)
	if err != nil {
		return err
	}
	writeJSON(w, 201, out)
	return nil
}

// checkApplication checks an application's fields and returns the grants it
// asks for (submit_new_project, submit_modification).
func (c *Cloud) checkApplication(app *application) (map[string]grant, error) {
	if app.Owner != nil && c.byID[*app.Owner] == nil {
		return nil, badRequest("User does not exist.")
	}
	if app.JoinPolicy != nil && !membershipPolicies[*app.JoinPolicy] {
		return nil, badRequest("Invalid join policy")
	}
	if app.LeavePolicy != nil && !membershipPolicies[*app.LeavePolicy] {
		return nil, badRequest("Invalid leave policy")
	}
	if app.MaxMembers != nil && *app.MaxMembers < 0 {
		return nil, badRequest("max_members out of range")
	}
	grants := map[string]grant{}
	for n, raw := range app.Resources {
		if _, ok := resourceByName(n); !ok {
			return nil, badRequest(fmt.Sprintf("Resource %s does not exist.", n))
		}
		var g grant
		if err := json.Unmarshal(raw, &g); err != nil || g.Member < 0 || g.Project < 0 {
			return nil, badRequest("Malformed resource policies")
		}
		if g.Member > g.Project {
			return nil, badRequest(fmt.Sprintf("Member capacity for resource %s exceeds project capacity.", n))
		}
		grants[n] = g
	}
	return grants, nil
}

// submitApplication submits u's application for project id ("": a new
// one), pending until an administrator approves it (at once when the cloud
// has none). A new project exists from the start, "uninitialized".
func (c *Cloud) submitApplication(u *User, id string, app *application) (appSubmitted, error) {
	grants, err := c.checkApplication(app)
	if err != nil {
		return appSubmitted{}, err
	}
	var a *appRec
	err = c.store.update(func(t *txn) error {
		p, err := t.applicationTarget(c, u, id, app)
		if err != nil {
			return err
		}
		appID, err := t.nextSeq(bApplications)
		if err != nil {
			return err
		}
		a = &appRec{ID: appID, Project: p.UUID, Applicant: u.UUID, State: "pending", Created: t.s.now(), Fields: *app, Grants: grants}
		a.Fields.Resources = nil
		if id == "" {
			owner := u.UUID
			if app.Owner != nil {
				owner = *app.Owner
			}
			a.Fields.Owner = &owner
			app.apply(p)
			for n, g := range grants {
				p.Resources[n] = g
			}
		}
		var stale []*appRec
		each(t, bApplications, func(old *appRec) bool {
			if old.Project == p.UUID && old.State == "pending" {
				stale = append(stale, old)
			}
			return true
		})
		for _, old := range stale {
			old.State = "replaced"
			if err := putRec(t, bApplications, old.ID, old); err != nil {
				return err
			}
		}
		p.AppID = appID
		if !c.moderated() {
			t.approve(p, a)
		}
		if err := putRec(t, bApplications, a.ID, a); err != nil {
			return err
		}
		return putJSON(t.tx.Bucket(bProjects), []byte(p.UUID), p)
	})
	if err != nil {
		return appSubmitted{}, err
	}
	return appSubmitted{Application: a.ID, ID: a.Project}, nil
}

// applicationTarget is the project an application is for: a new one (id
// ""), or the stored project id, which u must own or administer.
func (t *txn) applicationTarget(c *Cloud, u *User, id string, app *application) (*projectRec, error) {
	if id == "" {
		if app.Name == nil {
			return nil, badRequest("Name missing.")
		}
		if app.EndDate == nil {
			return nil, badRequest("Missing end date")
		}
		return &projectRec{UUID: newUUID(), Owner: u.UUID, State: "uninitialized", Created: t.s.now(),
			JoinPolicy: "moderated", LeavePolicy: "auto", MaxMembers: 1 << 53, Resources: map[string]grant{}}, nil
	}
	p, ok := t.project(c, id)
	if !ok {
		return nil, notFound(fmt.Sprintf("There is no project identified by %s.", id))
	}
	if p.System {
		return nil, forbidden("Cannot modify a system project.")
	}
	if p.Owner != u.UUID && !u.ProjectAdmin {
		return nil, forbidden("You do not have the permissions to perform this action.")
	}
	if p.State == "uninitialized" {
		return nil, conflict("Cannot modify an uninitialized project.")
	}
	return p, nil
}

// approve applies application a to project p and activates it: a new
// project gets every resource it was not granted at capacity 0
// (_fill_from_skeleton), a modification its non-null fields and grants.
func (t *txn) approve(p *projectRec, a *appRec) {
	a.State = "approved"
	if p.State == "uninitialized" {
		for _, r := range resources {
			if _, ok := p.Resources[r.Name]; !ok {
				p.Resources[r.Name] = grant{}
			}
		}
	} else {
		a.Fields.apply(p)
		for n, g := range a.Grants {
			p.Resources[n] = g
		}
	}
	p.State = "active"
}

// appAction applies approve, deny, dismiss or cancel to application appID of
// project id ("" for any project: the older /projects/apps/<id>/action).
func (c *Cloud) appAction(u *User, id string, appID int64, action string) error {
	return c.store.update(func(t *txn) error {
		a, ok := getRec[appRec](t, bApplications, appID)
		if !ok {
			return notFound(fmt.Sprintf("There is no project application identified by %d.", appID))
		}
		p, ok := t.project(c, a.Project)
		if !ok || id != "" && p.UUID != id || p.AppID != a.ID {
			pid := id
			if pid == "" {
				pid = a.Project
			}
			return conflict(fmt.Sprintf("%d is not a pending application for project %s.", a.ID, pid))
		}
		admin := u.ProjectAdmin || !c.moderated() && a.Applicant == u.UUID
		allowed := map[string]struct {
			from, to string
			who      bool
		}{
			"approve": {"pending", "approved", admin},
			"deny":    {"pending", "denied", admin},
			"dismiss": {"denied", "dismissed", admin || a.Applicant == u.UUID},
			"cancel":  {"pending", "cancelled", admin || a.Applicant == u.UUID},
		}[action]
		if !allowed.who {
			return forbidden("You do not have the permissions to perform this action.")
		}
		if a.State != allowed.from {
			return conflict(fmt.Sprintf("Cannot %s application %d in state '%s'", action, a.ID, appStateDisplay[a.State]))
		}
		switch action {
		case "approve":
			t.approve(p, a)
		case "dismiss", "cancel":
			a.State = allowed.to
			if p.State == "uninitialized" {
				p.State = "deleted"
			}
		default:
			a.State = allowed.to
		}
		if err := putRec(t, bApplications, a.ID, a); err != nil {
			return err
		}
		return putJSON(t.tx.Bucket(bProjects), []byte(p.UUID), p)
	})
}

// serveApps is Synnefo's older /projects/apps API: GET the applications
// one may see (?project= filters), GET /apps/<id>, POST /apps/<id>/action.
func (c *Cloud) serveApps(w http.ResponseWriter, r *http.Request, u *User, seg []string) error {
	if len(seg) == 0 {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			return errf(405, "Method not allowed")
		}
		project := r.URL.Query().Get("project")
		out, err := c.listApps(u, project)
		if err != nil {
			return err
		}
		writeJSON(w, 200, out)
		return nil
	}
	appID, err := strconv.ParseInt(seg[0], 10, 64)
	if err != nil || len(seg) > 2 || len(seg) == 2 && seg[1] != "action" {
		return notFound("Not found")
	}
	if len(seg) == 2 {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return errf(405, "Method not allowed")
		}
		action, _, err := readAction(r, appActions)
		if err != nil {
			return err
		}
		if err := c.appAction(u, "", appID, action); err != nil {
			return err
		}
		w.WriteHeader(200)
		return nil
	}
	out, err := c.getApp(u, appID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

// listApps is the applications u may see, of project ("": all).
func (c *Cloud) listApps(u *User, project string) ([]appView, error) {
	out := []appView{}
	err := c.store.view(func(t *txn) error {
		each(t, bApplications, func(a *appRec) bool {
			if (project == "" || a.Project == project) && t.canSeeApp(c, u, a) {
				out = append(out, appViewOf(a))
			}
			return true
		})
		return nil
	})
	return out, err
}

// getApp is application appID, if u may see it.
func (c *Cloud) getApp(u *User, appID int64) (appView, error) {
	var out appView
	err := c.store.view(func(t *txn) error {
		a, ok := getRec[appRec](t, bApplications, appID)
		if !ok {
			return notFound(fmt.Sprintf("There is no project application identified by %d.", appID))
		}
		if !t.canSeeApp(c, u, a) {
			return forbidden("You do not have the permissions to perform this action.")
		}
		out = appViewOf(a)
		return nil
	})
	return out, err
}

// canSeeApp: the applicant, the project's owner, a project admin.
func (t *txn) canSeeApp(c *Cloud, u *User, a *appRec) bool {
	if u.ProjectAdmin || a.Applicant == u.UUID {
		return true
	}
	p, ok := t.project(c, a.Project)
	return ok && p.Owner == u.UUID
}

var appActions = map[string]bool{"approve": true, "deny": true, "dismiss": true, "cancel": true}

// readAction reads an action body {"<action>": <data>}: exactly one of the
// known actions (get_action: "Multiple actions not supported", "No
// recognized action").
func readAction(r *http.Request, known map[string]bool) (string, json.RawMessage, error) {
	var req map[string]json.RawMessage
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		return "", nil, badRequest("Invalid input data")
	}
	var action string
	for k := range req {
		if !known[k] {
			continue
		}
		if action != "" {
			return "", nil, badRequest("Multiple actions not supported")
		}
		action = k
	}
	if action == "" {
		return "", nil, badRequest("No recognized action")
	}
	return action, req[action], nil
}
