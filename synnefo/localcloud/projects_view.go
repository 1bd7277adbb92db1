package localcloud

// The Astakos projects API's replies, typed (Synnefo's astakos/api/quotas.py
// and projects.py): the domain (txn) reads records and returns these, the
// handlers in projects_http.go, projects_apps.go and projects_members.go
// encode them. Fields are declared in the order of their JSON keys, the
// order the maps they replace were written in, so the bytes are unchanged.

// quotaView is one resource's quota in a project: the member's and the
// project's limit, usage and pending quantity (GET /quotas).
type quotaView struct {
	Limit          int64 `json:"limit"`
	Pending        int64 `json:"pending"`
	ProjectLimit   int64 `json:"project_limit"`
	ProjectPending int64 `json:"project_pending"`
	ProjectUsage   int64 `json:"project_usage"`
	Usage          int64 `json:"usage"`
}

// quotasReply is GET /quotas: project uuid → resource → quota.
type quotasReply map[string]map[string]quotaView

// appView is _application_details; Project (which Synnefo's older
// /projects/apps API carried) is left out of a project's last_application.
// Nil fields are the ones the application left unchanged (null).
type appView struct {
	Applicant   string           `json:"applicant"`
	Comments    *string          `json:"comments"`
	Description *string          `json:"description"`
	EndDate     *string          `json:"end_date"`
	Homepage    *string          `json:"homepage"`
	ID          int64            `json:"id"`
	JoinPolicy  *string          `json:"join_policy"`
	LeavePolicy *string          `json:"leave_policy"`
	MaxMembers  *int64           `json:"max_members"`
	Name        *string          `json:"name"`
	Owner       *string          `json:"owner"`
	Private     *bool            `json:"private"`
	Project     string           `json:"project,omitempty"`
	Resources   map[string]grant `json:"resources"`
	StartDate   *string          `json:"start_date"`
	State       string           `json:"state"`
}

// projectView is get_projects_details; LastApplication only for the
// project's owner and project admins, never for a system project.
type projectView struct {
	CreationDate    string           `json:"creation_date"`
	Description     string           `json:"description"`
	EndDate         string           `json:"end_date"`
	Homepage        string           `json:"homepage"`
	ID              string           `json:"id"`
	JoinPolicy      string           `json:"join_policy"`
	LastApplication *appView         `json:"last_application,omitempty"`
	LeavePolicy     string           `json:"leave_policy"`
	MaxMembers      int64            `json:"max_members"`
	Name            string           `json:"name"`
	Owner           string           `json:"owner"`
	Private         bool             `json:"private"`
	Resources       map[string]grant `json:"resources"`
	State           string           `json:"state"`
	SystemProject   bool             `json:"system_project"`
}

// appSubmitted is the reply to a submitted application: its id and its
// project's.
type appSubmitted struct {
	Application int64  `json:"application"`
	ID          string `json:"id"`
}

// membershipView is a membership with the actions the viewer may take and
// the time it entered its state, under the state's name (only that one is
// set).
type membershipView struct {
	Accepted       *string  `json:"accepted,omitempty"`
	AllowedActions []string `json:"allowed_actions"`
	Cancelled      *string  `json:"cancelled,omitempty"`
	ID             int64    `json:"id"`
	LeaveRequested *string  `json:"leave_requested,omitempty"`
	Project        string   `json:"project"`
	Rejected       *string  `json:"rejected,omitempty"`
	Removed        *string  `json:"removed,omitempty"`
	Requested      *string  `json:"requested,omitempty"`
	State          string   `json:"state"`
	User           string   `json:"user"`
}

// membershipID is the reply to a join or an enroll.
type membershipID struct {
	ID int64 `json:"id"`
}
