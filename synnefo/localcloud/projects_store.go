package localcloud

import (
	"encoding/json"
	"fmt"
)

// The projects domain: quotas per project, the projects a user sees, and
// their views (projects_view.go). projects_http.go decodes the request and
// encodes the reply.

// quotas is each resource's quota in each project u is a member of: the
// committed usage plus what pending commissions hold.
func (t *txn) quotas(c *Cloud, u *User) quotasReply {
	out := quotasReply{}
	for _, p := range t.userProjects(c, u) {
		use := t.projectUsage(p.UUID, u.UUID, false)
		q := map[string]quotaView{}
		for _, res := range resources {
			g := p.Resources[res.Name]
			x := use[res.Name]
			mo := t.offset("user:"+u.UUID, "project:"+p.UUID, res.Name)
			po := t.offset("project:"+p.UUID, "", res.Name)
			q[res.Name] = quotaView{Limit: g.Member, Usage: x.member + mo.Min, Pending: mo.Max - mo.Min,
				ProjectLimit: g.Project, ProjectUsage: x.project + po.Min, ProjectPending: po.Max - po.Min}
		}
		out[p.UUID] = q
	}
	return out
}

// projectFilter selects projects by name, owner and state ("": any), and
// with member only those u is an active member of.
type projectFilter struct {
	name, owner, state string
	member             bool
}

// listProjects is the projects u sees that pass f.
func (c *Cloud) listProjects(u *User, f projectFilter) ([]projectView, error) {
	out := []projectView{}
	err := c.store.view(func(t *txn) error {
		for _, p := range t.visibleProjects(c, u) {
			if f.member && (p.State != "active" || !t.isMember(u.UUID, p.UUID)) {
				continue
			}
			if (f.name == "" || p.Name == f.name) && (f.owner == "" || p.Owner == f.owner) && (f.state == "" || p.State == f.state) {
				out = append(out, t.projectView(c, p, u))
			}
		}
		return nil
	})
	return out, err
}

// visibleProjects: the user's base project, projects owned and projects the
// user has a membership in (Synnefo's default "related" mode); every
// project for a project admin.
func (t *txn) visibleProjects(c *Cloud, u *User) []*projectRec {
	out := []*projectRec{c.baseProject(u)}
	seen := map[string]bool{u.UUID: true}
	t.tx.Bucket(bProjects).ForEach(func(k, v []byte) error {
		var p projectRec
		if json.Unmarshal(v, &p) == nil && (p.Owner == u.UUID || u.ProjectAdmin) {
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

// projectView is get_projects_details: the last application is shown to
// its project's owner and to project admins.
func (t *txn) projectView(c *Cloud, p *projectRec, u *User) projectView {
	d := projectView{
		ID: p.UUID, State: p.State, CreationDate: isoDate(p.Created), Name: p.Name, Owner: p.Owner,
		Homepage: p.Homepage, Description: p.Description, EndDate: p.EndDate,
		JoinPolicy: p.JoinPolicy, LeavePolicy: p.LeavePolicy, MaxMembers: p.MaxMembers,
		Private: p.Private, SystemProject: p.System, Resources: grantsView(p.Resources),
	}
	if p.System || p.Owner != u.UUID && !u.ProjectAdmin {
		return d
	}
	if a, ok := getRec[appRec](t, bApplications, p.AppID); ok {
		app := appViewOf(a)
		app.Project = ""
		d.LastApplication = &app
		return d
	}
	// A project stored before applications were: its one application was
	// approved and set every field.
	d.LastApplication = &appView{ID: p.AppID, State: "approved", Name: &p.Name, Owner: &p.Owner, Applicant: p.Owner,
		Homepage: &p.Homepage, Description: &p.Description, StartDate: &p.StartDate, EndDate: &p.EndDate,
		Comments: &p.Comments, JoinPolicy: &p.JoinPolicy, LeavePolicy: &p.LeavePolicy,
		MaxMembers: &p.MaxMembers, Private: &p.Private, Resources: d.Resources}
	return d
}

// grantsView is a copy of grants, never nil (a project's resources are an
// object on the wire, {} when none).
func grantsView(grants map[string]grant) map[string]grant {
	out := make(map[string]grant, len(grants))
	for n, g := range grants {
		out[n] = g
	}
	return out
}

// getProject: a project is visible to its owner, its members, project
// admins, and to everyone when it is active and not private.
func (c *Cloud) getProject(u *User, id string) (projectView, error) {
	var out projectView
	err := c.store.view(func(t *txn) error {
		p, ok := t.project(c, id)
		if !ok {
			return notFound(fmt.Sprintf("There is no project identified by %s.", id))
		}
		open := p.State == "active" && !p.Private
		if !open && p.Owner != u.UUID && !u.ProjectAdmin && !t.isMember(u.UUID, id) {
			return forbidden("You do not have the permissions to perform this action.")
		}
		out = t.projectView(c, p, u)
		return nil
	})
	return out, err
}
