package astakos

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Project applications and actions (astakosclient's project_action,
// application_action, get_applications, get_application and
// enroll_member): a create or modify is an application that a project
// administrator approves or denies.

// ApplicationInfo is an application as the account service shows it (a
// project's last_application, or an entry of Applications). The fields a
// modification leaves unchanged are nil.
type ApplicationInfo struct {
	ID          int64               `json:"id"`
	Project     string              `json:"project"` // the older /projects/apps API only
	State       string              `json:"state"`   // pending, approved, replaced, denied, dismissed, cancelled
	Applicant   string              `json:"applicant"`
	Owner       *string             `json:"owner"`
	Name        *string             `json:"name"`
	Homepage    *string             `json:"homepage"`
	Description *string             `json:"description"`
	StartDate   *string             `json:"start_date"`
	EndDate     *string             `json:"end_date"`
	Comments    *string             `json:"comments"`
	JoinPolicy  *string             `json:"join_policy"`
	LeavePolicy *string             `json:"leave_policy"`
	MaxMembers  *int64              `json:"max_members"`
	Private     *bool               `json:"private"`
	Resources   map[string]Capacity `json:"resources"`
}

// ProjectAction applies "terminate", "suspend", "unsuspend" or "reinstate"
// to a project (POST {account}/projects/<id>/action).
func (c *Client) ProjectAction(ctx context.Context, project, action, reason string) error {
	body := map[string]any{action: map[string]string{"reason": reason}}
	return c.accountJSON(ctx, http.MethodPost, "/projects/"+project+"/action", nil, body, nil, http.StatusOK)
}

// ApplicationAction applies "approve", "deny" (a project administrator),
// "dismiss" (a denied one) or "cancel" (a pending one) to the project's last
// application app.
func (c *Client) ApplicationAction(ctx context.Context, project string, app int64, action, reason string) error {
	body := map[string]any{action: map[string]any{"app_id": app, "reason": reason}}
	return c.accountJSON(ctx, http.MethodPost, "/projects/"+project+"/action", nil, body, nil, http.StatusOK)
}

// Applications lists the applications the user made or that are for
// projects the user owns (all for a project admin); project "" means every
// project (GET {account}/projects/apps, Synnefo's older API, which the
// local cloud keeps).
func (c *Client) Applications(ctx context.Context, project string) ([]ApplicationInfo, error) {
	var q url.Values
	if project != "" {
		q = url.Values{"project": {project}}
	}
	var out []ApplicationInfo
	return out, c.accountJSON(ctx, http.MethodGet, "/projects/apps", q, nil, &out, http.StatusOK)
}

// Application returns one application.
func (c *Client) Application(ctx context.Context, id int64) (*ApplicationInfo, error) {
	var out ApplicationInfo
	if err := c.accountJSON(ctx, http.MethodGet, "/projects/apps/"+strconv.FormatInt(id, 10), nil, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// Enroll makes the user with e-mail address email a member of project (by
// its owner) and returns the membership id.
func (c *Client) Enroll(ctx context.Context, project, email string) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	body := map[string]any{"enroll": map[string]string{"project": project, "user": email}}
	return out.ID, c.accountJSON(ctx, http.MethodPost, "/projects/memberships", nil, body, &out, http.StatusOK)
}
