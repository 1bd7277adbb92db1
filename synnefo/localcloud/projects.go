package localcloud

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Astakos projects and quota (Synnefo's astakos/api/projects.py and
// quotas.py). Every user has a base ("system") project whose id is the
// user's uuid; other projects are created by applications, which the local
// cloud approves at once (it has no administrator to do it), and joined
// through memberships. Resources are charged to a project: storage by the
// project of the container (X-Container-Policy-Project, default the owner's
// base project), servers by the project they are created in. A change that
// would take a member's usage over member_capacity, or the project's over
// project_capacity, is refused with 413 as Astakos refuses the commission;
// usage is read from the state the change commits with, in the same
// transaction, so a commission and its resource change are atomic.

var (
	bProjects    = []byte("projects")    // uuid -> projectRec
	bMemberships = []byte("memberships") // id:8 -> membershipRec
)

// resourceInfo is one entry of GET /resources.
type resourceInfo struct {
	Name        string  `json:"-"`
	Service     string  `json:"service"`
	Description string  `json:"description"`
	Unit        *string `json:"unit"`
	UIVisible   bool    `json:"ui_visible"`
	APIVisible  bool    `json:"api_visible"`
	label       string  // astakosclient's name in 413 details
	base        int64   // base project capacity (pithos.diskspace: the user's Quota)
}

func unit(s string) *string { return &s }

// resources are Synnefo's api-visible resources (the services' registered
// resources; total_cpu, total_ram and pending_app are not api-visible).
var resources = []resourceInfo{
	{Name: "cyclades.cpu", Service: "cyclades_compute", Description: "Number of virtual machine processors of running servers", label: "CPU", base: 400},
	{Name: "cyclades.disk", Service: "cyclades_compute", Description: "Virtual machine disk size", Unit: unit("bytes"), label: "Disk", base: 10 << 40},
	{Name: "cyclades.floating_ip", Service: "cyclades_network", Description: "Number of Floating IP addresses", label: "Floating IP address", base: 100},
	{Name: "cyclades.network.private", Service: "cyclades_network", Description: "Number of private networks", label: "Private Network", base: 100},
	{Name: "cyclades.ram", Service: "cyclades_compute", Description: "Virtual machine memory size of running servers", Unit: unit("bytes"), label: "RAM", base: 800 << 30},
	{Name: "cyclades.vm", Service: "cyclades_compute", Description: "Number of virtual machines", label: "Virtual Machine", base: 100},
	{Name: "pithos.diskspace", Service: "pithos_object-store", Description: "Pithos account diskspace", Unit: unit("bytes"), label: "Storage space"},
}

func resourceByName(name string) (resourceInfo, bool) {
	for _, r := range resources {
		if r.Name == name {
			return r, true
		}
	}
	return resourceInfo{}, false
}

// grant is a resource's capacities in a project.
type grant struct {
	Member  int64 `json:"member_capacity"`
	Project int64 `json:"project_capacity"`
}

type projectRec struct {
	UUID        string           `json:"id"`
	Name        string           `json:"name"`
	Owner       string           `json:"owner"`
	State       string           `json:"state"`
	Created     int64            `json:"created"`
	Homepage    string           `json:"homepage"`
	Description string           `json:"description"`
	StartDate   string           `json:"start_date,omitempty"`
	EndDate     string           `json:"end_date"`
	JoinPolicy  string           `json:"join_policy"`
	LeavePolicy string           `json:"leave_policy"`
	MaxMembers  int64            `json:"max_members"`
	Private     bool             `json:"private"`
	Comments    string           `json:"comments,omitempty"`
	Resources   map[string]grant `json:"resources"`
	AppID       int64            `json:"app_id"`
	System      bool             `json:"-"`
}

type membershipRec struct {
	ID      int64  `json:"id"`
	User    string `json:"user"`
	Project string `json:"project"`
	State   string `json:"state"` // requested accepted leave_requested rejected cancelled removed
	Changed int64  `json:"changed"`
}

// baseProject is a user's system project: its uuid is the user's.
func (c *Cloud) baseProject(u *User) *projectRec {
	p := &projectRec{UUID: u.UUID, Name: "system:" + u.UUID, Owner: u.UUID, State: "active",
		JoinPolicy: "closed", LeavePolicy: "closed", MaxMembers: 1, Private: true, System: true,
		Resources: map[string]grant{}}
	for _, r := range resources {
		n := r.base
		if r.Name == "pithos.diskspace" {
			n = u.Quota
		}
		p.Resources[r.Name] = grant{Member: n, Project: n}
	}
	return p
}

// project finds a project by uuid: a user's base project or a stored one.
func (t *txn) project(c *Cloud, id string) (*projectRec, bool) {
	if u := c.byID[id]; u != nil {
		return c.baseProject(u), true
	}
	b := t.tx.Bucket(bProjects)
	if b == nil {
		return nil, false
	}
	var p projectRec
	if !getJSON(b, []byte(id), &p) {
		return nil, false
	}
	return &p, true
}

// memberships lists memberships, optionally of one user and/or project.
func (t *txn) memberships(user, project string) []*membershipRec {
	var out []*membershipRec
	each(t, bMemberships, func(m *membershipRec) bool {
		if (user == "" || m.User == user) && (project == "" || m.Project == project) {
			out = append(out, m)
		}
		return true
	})
	return out
}

// isMember reports whether user is an accepted member of project (everyone
// is of their own base project).
func (t *txn) isMember(user, project string) bool {
	if user == project {
		return true
	}
	for _, m := range t.memberships(user, project) {
		if m.State == "accepted" || m.State == "leave_requested" {
			return true
		}
	}
	return false
}

// userProjects lists the projects user is a member of, base project first.
func (t *txn) userProjects(c *Cloud, u *User) []*projectRec {
	out := []*projectRec{c.baseProject(u)}
	for _, m := range t.memberships(u.UUID, "") {
		if m.State != "accepted" && m.State != "leave_requested" || m.Project == u.UUID {
			continue
		}
		if p, ok := t.project(c, m.Project); ok && p.State == "active" {
			out = append(out, p)
		}
	}
	return out
}

// usage is a resource's use in a project: by one member and by all.
type usage struct{ member, project int64 }

// projectUsage computes the usage in project of every resource (only
// pithos.diskspace when storageOnly), and user's part of it.
func (t *txn) projectUsage(project, user string, storageOnly bool) map[string]usage {
	u := map[string]usage{}
	add := func(res string, owner string, n int64) {
		x := u[res]
		x.project += n
		if owner == user {
			x.member += n
		}
		u[res] = x
	}
	cur := t.tx.Bucket(bContainers).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		var cr containerRec
		if err := json.Unmarshal(v, &cr); err != nil {
			continue
		}
		acct, _, _ := splitKey(k)
		p := cr.Project
		if p == "" {
			p = acct
		}
		if p == project {
			add("pithos.diskspace", acct, cr.Bytes)
		}
	}
	if storageOnly {
		return u
	}
	each(t, bNetworks, func(n *networkRec) bool {
		if !n.Deleted && !n.Public && n.Project == project {
			add("cyclades.network.private", n.Owner, 1)
		}
		return true
	})
	each(t, bFloating, func(f *floatingRec) bool {
		if !f.Deleted && f.Project == project {
			add("cyclades.floating_ip", f.Owner, 1)
		}
		return true
	})
	each(t, bVolumes, func(v *volumeRec) bool { // servers' root volumes included
		if !v.Deleted && v.Project == project {
			add("cyclades.disk", v.Owner, int64(v.Size)<<30)
		}
		return true
	})
	each(t, bServers, func(s *serverRec) bool {
		if s.Deleted || s.Project != project {
			return true
		}
		fl, _ := flavorByID(s.Flavor)
		add("cyclades.vm", s.Owner, 1)
		if s.online() {
			add("cyclades.cpu", s.Owner, int64(fl.VCPUs))
			add("cyclades.ram", s.Owner, int64(fl.RAM)<<20)
		}
		return true
	})
	return u
}

// checkCommission checks that the usage now stored in the transaction keeps
// user within project's capacities for the resources the change charged
// (requested: what it asked for, for the fault's details). It is the
// commission of the local cloud's own service, issued and accepted in the
// transaction of the change (see commissions.go).
func (t *txn) checkCommission(c *Cloud, project, user string, requested map[string]int64) error {
	p, ok := t.project(c, project)
	if !ok {
		return badRequest(fmt.Sprintf("Project %s does not exist", project))
	}
	_, storage := requested["pithos.diskspace"]
	use := t.projectUsage(project, user, storage && len(requested) == 1)
	names := make([]string, 0, len(requested))
	for n := range requested {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if requested[n] <= 0 {
			continue
		}
		g, ok := p.Resources[n]
		if !ok || p.State != "active" {
			g = grant{} // not granted, or the project is suspended or terminated: capacity 0
		}
		// The holdings' usage_max: this state plus the component's
		// commissions, pending ones included.
		x := use[n]
		x.member += t.offset("user:"+user, "project:"+project, n).Max
		x.project += t.offset("project:"+project, "", n).Max
		if x.member > g.Member || x.project > g.Project {
			avail := min(g.Member-(x.member-requested[n]), g.Project-(x.project-requested[n]))
			return quotaFault(n, max(avail, 0), requested[n])
		}
	}
	return nil
}

// quotaFault is how an over-quota commission reaches the client:
// astakosclient's QuotaLimit, rendered by render_overlimit_exception.
func quotaFault(res string, avail, requested int64) *fault {
	label := res
	if r, ok := resourceByName(res); ok {
		label = r.label
	}
	return &fault{Status: 413, Name: "overLimit", Message: "Resource Limit Exceeded for your account.",
		Details: fmt.Sprintf("Limit for resource '%s' exceeded for your account. Available: %d, Requested: %d", label, avail, requested)}
}

// commissionServer charges a new server to its project: a user must be a
// member, and the project must have room for one more VM, its CPUs, RAM and
// disk (Synnefo's quotas.issue_commission on create; 413 overLimit).
func (t *txn) commissionServer(c *Cloud, u *User, project string, fl flavor) error {
	if !t.isMember(u.UUID, project) {
		return badRequest(fmt.Sprintf("User %s not in project %s", u.UUID, project))
	}
	return t.checkCommission(c, project, u.UUID, map[string]int64{
		"cyclades.vm": 1, "cyclades.cpu": int64(fl.VCPUs), "cyclades.ram": int64(fl.RAM) << 20, "cyclades.disk": int64(fl.Disk) << 30,
	})
}

// commissionOne charges one more of a counted resource (a private network,
// a floating IP) to project.
func (t *txn) commissionOne(c *Cloud, u *User, project, resource string) error {
	if !t.isMember(u.UUID, project) {
		return badRequest(fmt.Sprintf("User %s not in project %s", u.UUID, project))
	}
	return t.checkCommission(c, project, u.UUID, map[string]int64{resource: 1})
}

// online reports whether a server holds its CPUs and RAM: it is not
// stopped, or it is stopped and a START (or a REBOOT, which starts a stopped
// server) is under way (Synnefo charges them when the action is issued).
func (s *serverRec) online() bool {
	return s.Oper != "STOPPED" || s.Task == "START" || s.Task == "REBOOT"
}

// commissionStart charges a stopped server's CPUs and RAM to its project as
// it is started (quotas.get_commission_info for START and REBOOT); s is
// stored with its task already.
func (t *txn) commissionStart(c *Cloud, s *serverRec) error {
	fl, _ := flavorByID(s.Flavor)
	return t.checkCommission(c, s.Project, s.Owner, map[string]int64{
		"cyclades.cpu": int64(fl.VCPUs), "cyclades.ram": int64(fl.RAM) << 20})
}

// commissionReassign charges a resource moved into project: the mover must
// be a member, and project must have room for it (the REASSIGN commission;
// the old project's usage falls with the same change). requested is what
// the resource holds.
func (t *txn) commissionReassign(c *Cloud, u *User, project string, requested map[string]int64) error {
	if !t.isMember(u.UUID, project) {
		return forbidden("Not a member of project " + project)
	}
	return t.checkCommission(c, project, u.UUID, requested)
}

// newChargedVolume stores a volume created on its own (not a server's root
// volume, which its server's commission charges) and charges its size to
// its project as cyclades.disk (get_volume_resources).
func (t *txn) newChargedVolume(c *Cloud, q *caller, sp volumeSpec) (*volumeRec, error) {
	v, err := t.newVolume(q, sp)
	if err != nil {
		return nil, err
	}
	if !t.isMember(q.u.UUID, v.Project) {
		return nil, badRequest(fmt.Sprintf("User %s not in project %s", q.u.UUID, v.Project))
	}
	return v, t.checkCommission(c, v.Project, q.u.UUID, map[string]int64{"cyclades.disk": int64(v.Size) << 30})
}

// moveRootVolume moves a server's root volume to the server's project
// (Synnefo's REASSIGN takes the system volume along).
func (t *txn) moveRootVolume(s *serverRec) error {
	if len(s.Volumes) == 0 {
		return nil
	}
	v, ok := getRec[volumeRec](t, bVolumes, s.Volumes[0])
	if !ok || v.Deleted || v.Server != s.ID || v.DeviceIndex != 0 {
		return nil
	}
	v.Project = s.Project
	return putRec(t, bVolumes, v.ID, v)
}

// serverHoldings is what a server holds in its project (its root volume's
// disk moves with it).
func serverHoldings(s *serverRec) map[string]int64 {
	fl, _ := flavorByID(s.Flavor)
	h := map[string]int64{"cyclades.vm": 1, "cyclades.disk": int64(fl.Disk) << 30}
	if s.online() {
		h["cyclades.cpu"], h["cyclades.ram"] = int64(fl.VCPUs), int64(fl.RAM)<<20
	}
	return h
}
