package localcloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Project memberships (Synnefo's astakos/api/projects.py memberships,
// membership and membership_action; functions.py join_project,
// enroll_member and the membership actions).

// membershipViewOf is m as u sees it: the actions u may take on it (p is
// its project, nil if gone).
func membershipViewOf(m *membershipRec, p *projectRec, u *User) membershipView {
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
	v := membershipView{ID: m.ID, User: m.User, Project: m.Project, State: m.State, AllowedActions: actions}
	changed := isoDate(m.Changed)
	at := map[string]**string{"accepted": &v.Accepted, "cancelled": &v.Cancelled, "leave_requested": &v.LeaveRequested,
		"rejected": &v.Rejected, "removed": &v.Removed, "requested": &v.Requested}[m.State]
	if at != nil {
		*at = &changed
	}
	return v
}

func (c *Cloud) membershipsRoot(w http.ResponseWriter, r *http.Request, u *User) error {
	switch r.Method {
	case http.MethodGet:
		out, err := c.listMemberships(u, r.URL.Query().Get("project"))
		if err != nil {
			return err
		}
		writeJSON(w, 200, out)
		return nil
	case http.MethodPost:
		return c.postMembership(w, r, u)
	}
	w.Header().Set("Allow", "GET,POST")
	return errf(405, "Method not allowed")
}

// listMemberships is the memberships of project ("": any) that u may see:
// u's own and those of the projects u owns.
func (c *Cloud) listMemberships(u *User, project string) ([]membershipView, error) {
	out := []membershipView{}
	err := c.store.view(func(t *txn) error {
		for _, m := range t.memberships("", project) {
			p, _ := t.project(c, m.Project)
			if m.User == u.UUID || p != nil && p.Owner == u.UUID {
				out = append(out, membershipViewOf(m, p, u))
			}
		}
		return nil
	})
	return out, err
}

// serveMemberships routes /projects/memberships[/<id>[/action]].
func (c *Cloud) serveMemberships(w http.ResponseWriter, r *http.Request, u *User, seg []string) error {
	switch {
	case len(seg) == 0:
		return c.membershipsRoot(w, r, u)
	case len(seg) == 1 && r.Method == http.MethodGet:
		m, err := c.getMembership(u, seg[0])
		if err != nil {
			return err
		}
		writeJSON(w, 200, m)
		return nil
	case len(seg) == 2 && seg[1] == "action" && r.Method == http.MethodPost:
		return c.postMembershipAction(w, r, u, seg[0])
	}
	return notFound("Not found")
}

// postMembership is POST /projects/memberships: {"join": {"project": id}}
// by the user, or {"enroll": {"project": id, "user": "<e-mail>"}} by the
// project's owner (or a project admin), which makes that user a member.
func (c *Cloud) postMembership(w http.ResponseWriter, r *http.Request, u *User) error {
	action, data, err := readAction(r, map[string]bool{"join": true, "enroll": true})
	if err != nil {
		return err
	}
	var req struct {
		Project any    `json:"project"`
		User    string `json:"user"`
	}
	if json.Unmarshal(data, &req) != nil {
		return badRequest("Invalid input data")
	}
	project, ok := req.Project.(string)
	if !ok {
		return badRequest(fmt.Sprintf("Invalid project ID: %v", req.Project))
	}
	out, err := c.addMembership(u, action == "enroll", project, req.User)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

// addMembership is u joining project, or with enroll u making the user
// whose e-mail is email a member of it.
func (c *Cloud) addMembership(u *User, enroll bool, project, email string) (membershipID, error) {
	var m *membershipRec
	err := c.store.update(func(t *txn) error {
		var err error
		if enroll {
			m, err = t.enroll(c, u, project, email)
		} else {
			m, err = t.join(c, u, project)
		}
		return err
	})
	if err != nil {
		return membershipID{}, err
	}
	return membershipID{ID: m.ID}, nil
}

// join asks for membership of project (accepted at once when its join
// policy is auto).
func (t *txn) join(c *Cloud, u *User, project string) (*membershipRec, error) {
	p, ok := t.project(c, project)
	if !ok {
		return nil, notFound(fmt.Sprintf("There is no project identified by %s.", project))
	}
	if p.System || p.JoinPolicy == "closed" {
		return nil, conflict("The Project's member join policy is closed.")
	}
	if p.State != "active" {
		return nil, conflict(fmt.Sprintf("Project %s is not alive.", p.UUID))
	}
	for _, old := range t.memberships(u.UUID, p.UUID) {
		if old.State == "accepted" || old.State == "requested" || old.State == "leave_requested" {
			return nil, conflict("Request or membership already exists.")
		}
	}
	state := "requested"
	if p.JoinPolicy == "auto" {
		state = "accepted"
	}
	return t.newMembership(u.UUID, p.UUID, state)
}

// enroll makes the user whose name (e-mail) is email an accepted member of
// project, on the request of its owner or a project admin.
func (t *txn) enroll(c *Cloud, u *User, project, email string) (*membershipRec, error) {
	p, ok := t.project(c, project)
	if !ok {
		return nil, conflict(fmt.Sprintf("There is no project identified by %s.", project))
	}
	var who *User
	for i := range c.users {
		if strings.EqualFold(c.users[i].Name, email) {
			who = &c.users[i]
		}
	}
	if who == nil {
		return nil, conflict(fmt.Sprintf("Unknown users: %s", email))
	}
	if p.System || p.Owner != u.UUID && !u.ProjectAdmin {
		return nil, forbidden("You do not have the permissions to perform this action.")
	}
	if p.State != "active" {
		return nil, conflict(fmt.Sprintf("Project %s is not alive.", p.UUID))
	}
	for _, old := range t.memberships(who.UUID, p.UUID) {
		switch old.State {
		case "accepted", "leave_requested":
			return nil, conflict("Membership already exists.")
		case "requested":
			old.State, old.Changed = "accepted", t.s.now()
			return old, putRec(t, bMemberships, old.ID, old)
		}
	}
	return t.newMembership(who.UUID, p.UUID, "accepted")
}

func (t *txn) newMembership(user, project, state string) (*membershipRec, error) {
	id, err := t.nextSeq(bMemberships)
	if err != nil {
		return nil, err
	}
	m := &membershipRec{ID: id, User: user, Project: project, State: state, Changed: t.s.now()}
	return m, putRec(t, bMemberships, id, m)
}

// getMembership is membership sid, if u may see it.
func (c *Cloud) getMembership(u *User, sid string) (membershipView, error) {
	var out membershipView
	err := c.store.view(func(t *txn) error {
		m, p, f := t.membershipFor(c, u, sid)
		if f != nil {
			return f
		}
		out = membershipViewOf(m, p, u)
		return nil
	})
	return out, err
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

// postMembershipAction is POST /projects/memberships/<id>/action with one of
// leave, cancel (the member), accept, reject, remove (the project owner).
func (c *Cloud) postMembershipAction(w http.ResponseWriter, r *http.Request, u *User, sid string) error {
	var req map[string]json.RawMessage
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil || len(req) != 1 {
		return badRequest("No recognized action")
	}
	var action string
	for k := range req {
		action = k
	}
	if err := c.membershipAction(u, sid, action); err != nil {
		return err
	}
	w.WriteHeader(200)
	return nil
}

// membershipAction applies action to membership sid for u: leave or
// cancel by the member, accept, reject or remove by the project's owner.
func (c *Cloud) membershipAction(u *User, sid, action string) error {
	return c.store.update(func(t *txn) error {
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
}
