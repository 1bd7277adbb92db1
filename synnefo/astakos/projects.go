package astakos

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pithosfs/pithosfs/synnefo"
)

// The account service's resources, projects and memberships
// (astakosclient's get_resources, get_projects, get_project, create_project,
// modify_project, get_memberships, join_project, membership_action).

// Resource describes one resource of GET {account}/resources.
type Resource struct {
	Service     string  `json:"service"`
	Description string  `json:"description"`
	Unit        *string `json:"unit"` // "bytes", or nil for a count
	UIVisible   bool    `json:"ui_visible"`
	APIVisible  bool    `json:"api_visible"`
}

// Capacity is a resource's limits in a project.
type Capacity struct {
	Member  int64 `json:"member_capacity"`
	Project int64 `json:"project_capacity"`
}

// Project is a project as GET {account}/projects returns it.
type Project struct {
	ID              string              `json:"id"`
	State           string              `json:"state"` // uninitialized, pending, active, denied, deleted, suspended, terminated
	Name            string              `json:"name"`
	Owner           string              `json:"owner"`
	Homepage        string              `json:"homepage"`
	Description     string              `json:"description"`
	CreationDate    string              `json:"creation_date"`
	EndDate         string              `json:"end_date"`
	JoinPolicy      string              `json:"join_policy"`  // auto, moderated, closed
	LeavePolicy     string              `json:"leave_policy"` // auto, moderated, closed
	MaxMembers      int64               `json:"max_members"`
	Private         bool                `json:"private"`
	System          bool                `json:"system_project"` // a user's base project
	Resources       map[string]Capacity `json:"resources"`
	LastApplication *ApplicationInfo    `json:"last_application,omitempty"` // to its owner and project admins
}

// Application creates or modifies a project; unset fields are not sent (a
// modification keeps them).
type Application struct {
	Owner       string              `json:"owner,omitempty"`
	Name        string              `json:"name,omitempty"`
	Homepage    string              `json:"homepage,omitempty"`
	Description string              `json:"description,omitempty"`
	StartDate   string              `json:"start_date,omitempty"`
	EndDate     string              `json:"end_date,omitempty"` // required on create
	JoinPolicy  string              `json:"join_policy,omitempty"`
	LeavePolicy string              `json:"leave_policy,omitempty"`
	MaxMembers  int64               `json:"max_members,omitempty"`
	Private     *bool               `json:"private,omitempty"`
	Comments    string              `json:"comments,omitempty"`
	Resources   map[string]Capacity `json:"resources,omitempty"`
}

// ApplicationResult is the reply to a create or modify.
type ApplicationResult struct {
	Application int64  `json:"application"`
	ID          string `json:"id"` // the project
}

// Membership is a user's membership in a project.
type Membership struct {
	ID             int64    `json:"id"`
	User           string   `json:"user"`
	Project        string   `json:"project"`
	State          string   `json:"state"` // requested, accepted, leave_requested, suspended, rejected, cancelled, removed
	AllowedActions []string `json:"allowed_actions"`
}

// Resources returns the resource catalogue (GET {account}/resources).
func (c *Client) Resources(ctx context.Context) (map[string]Resource, error) {
	var out map[string]Resource
	return out, c.accountJSON(ctx, http.MethodGet, "/resources", nil, nil, &out, http.StatusOK)
}

// Projects lists the projects the user owns or is a member of, the base
// project included; filters are the API's name, owner, state and mode.
func (c *Client) Projects(ctx context.Context, filters url.Values) ([]Project, error) {
	var out []Project
	return out, c.accountJSON(ctx, http.MethodGet, "/projects", filters, nil, &out, http.StatusOK)
}

// Project returns one project.
func (c *Client) Project(ctx context.Context, id string) (*Project, error) {
	var out Project
	if err := c.accountJSON(ctx, http.MethodGet, "/projects/"+id, nil, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateProject submits an application for a new project.
func (c *Client) CreateProject(ctx context.Context, app Application) (ApplicationResult, error) {
	var out ApplicationResult
	return out, c.accountJSON(ctx, http.MethodPost, "/projects", nil, app, &out, http.StatusCreated)
}

// ModifyProject submits an application modifying project id.
func (c *Client) ModifyProject(ctx context.Context, id string, app Application) (ApplicationResult, error) {
	var out ApplicationResult
	return out, c.accountJSON(ctx, http.MethodPut, "/projects/"+id, nil, app, &out, http.StatusCreated)
}

// Memberships lists the user's memberships and those of projects the user
// owns; project "" means all projects.
func (c *Client) Memberships(ctx context.Context, project string) ([]Membership, error) {
	var q url.Values
	if project != "" {
		q = url.Values{"project": {project}}
	}
	var out []Membership
	return out, c.accountJSON(ctx, http.MethodGet, "/projects/memberships", q, nil, &out, http.StatusOK)
}

// Membership returns one membership.
func (c *Client) Membership(ctx context.Context, id int64) (*Membership, error) {
	var out Membership
	if err := c.accountJSON(ctx, http.MethodGet, "/projects/memberships/"+strconv.FormatInt(id, 10), nil, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// JoinProject asks to join a project and returns the membership id.
func (c *Client) JoinProject(ctx context.Context, project string) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	body := map[string]any{"join": map[string]string{"project": project}}
	return out.ID, c.accountJSON(ctx, http.MethodPost, "/projects/memberships", nil, body, &out, http.StatusOK)
}

// MembershipAction applies action to a membership: "leave" or "cancel" (the
// member), "accept", "reject" or "remove" (the project's owner).
func (c *Client) MembershipAction(ctx context.Context, id int64, action, reason string) error {
	body := map[string]string{action: reason}
	return c.accountJSON(ctx, http.MethodPost, "/projects/memberships/"+strconv.FormatInt(id, 10)+"/action", nil, body, nil, http.StatusOK)
}

func (c *Client) accountJSON(ctx context.Context, method, path string, q url.Values, in, out any, ok int) error {
	acct, err := c.accountClient(ctx)
	if err != nil {
		return err
	}
	_, err = acct.DoJSON(ctx, &synnefo.Request{Method: method, Path: path, Query: q, Success: []int{ok}}, in, out)
	return err
}
