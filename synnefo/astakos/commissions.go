package astakos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/pithosfs/pithosfs/synnefo"
)

// Quota commissions, a component's calls (astakosclient's issue_commission,
// issue_one_commission, get_pending_commissions, get_commission_info,
// commission_action, resolve_commissions). The Client's token is then the
// component's token, which is no user's: the account endpoint comes from
// the public catalogue.

// Provision is one change of a commission: Quantity of Resource for Holder
// ("user:<uuid>" with Source "project:<uuid>", or "project:<uuid>" with a
// nil Source); negative releases.
type Provision struct {
	Holder   string  `json:"holder"`
	Source   *string `json:"source"`
	Resource string  `json:"resource"`
	Quantity int64   `json:"quantity"`
}

// Commission is the body of IssueCommission.
type Commission struct {
	Name       string      `json:"name,omitempty"`
	Force      bool        `json:"force"`       // succeed even over a limit
	AutoAccept bool        `json:"auto_accept"` // issue and accept at once
	Provisions []Provision `json:"provisions"`
}

// CommissionInfo is a pending commission (GET {account}/commissions/<serial>).
type CommissionInfo struct {
	Serial     int64       `json:"serial"`
	Name       string      `json:"name"`
	IssueTime  string      `json:"issue_time"`
	Provisions []Provision `json:"provisions"`
}

// CommissionError is a refused commission: Status 413 with Name
// NoCapacityError or NoQuantityError (Limit and Usage set), or 404
// NoHoldingError; Provision is the one to blame.
type CommissionError struct {
	Status    int
	Message   string
	Name      string
	Provision Provision
	Limit     int64
	Usage     int64
}

func (e *CommissionError) Error() string {
	return fmt.Sprintf("astakos: commission refused (%d %s): %s", e.Status, e.Name, e.Message)
}

// ErrCommissionNotFound is returned for a serial that is not pending.
var ErrCommissionNotFound = errors.New("astakos: no such pending commission")

// ResolveResult is the reply of ResolveCommissions; Failed maps each serial
// that failed to its fault's message.
type ResolveResult struct {
	Accepted []int64
	Rejected []int64
	Failed   map[int64]string
}

// IssueCommission issues a commission and returns its serial; a refusal is
// a *CommissionError.
func (c *Client) IssueCommission(ctx context.Context, cm Commission) (int64, error) {
	if cm.Provisions == nil {
		cm.Provisions = []Provision{}
	}
	var raw map[string]json.RawMessage
	res, err := c.componentJSON(ctx, http.MethodPost, "/commissions", cm, &raw,
		http.StatusCreated, http.StatusRequestEntityTooLarge, http.StatusNotFound)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == http.StatusCreated {
		var serial int64
		if err := json.Unmarshal(raw["serial"], &serial); err != nil {
			return 0, fmt.Errorf("astakos: commission reply: %w", err)
		}
		return serial, nil
	}
	ce := &CommissionError{Status: res.StatusCode}
	for _, v := range raw { // {"overLimit": {...}} or {"itemNotFound": {...}}
		var f struct {
			Message string `json:"message"`
			Data    struct {
				Name      string    `json:"name"`
				Provision Provision `json:"provision"`
				Limit     int64     `json:"limit"`
				Usage     int64     `json:"usage"`
			} `json:"data"`
		}
		if json.Unmarshal(v, &f) == nil {
			ce.Message, ce.Name, ce.Provision, ce.Limit, ce.Usage = f.Message, f.Data.Name, f.Data.Provision, f.Data.Limit, f.Data.Usage
		}
	}
	return 0, ce
}

// PendingCommissions lists the serials of the component's pending
// commissions.
func (c *Client) PendingCommissions(ctx context.Context) ([]int64, error) {
	var out []int64
	_, err := c.componentJSON(ctx, http.MethodGet, "/commissions", nil, &out, http.StatusOK)
	return out, err
}

// CommissionInfo returns a pending commission, or ErrCommissionNotFound.
func (c *Client) CommissionInfo(ctx context.Context, serial int64) (*CommissionInfo, error) {
	var out CommissionInfo
	res, err := c.componentJSON(ctx, http.MethodGet, "/commissions/"+strconv.FormatInt(serial, 10), nil, &out, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusNotFound {
		return nil, ErrCommissionNotFound
	}
	return &out, nil
}

// CommissionAction accepts (accept true) or rejects a pending commission;
// ErrCommissionNotFound when it is not pending.
func (c *Client) CommissionAction(ctx context.Context, serial int64, accept bool) error {
	body := map[string]string{"reject": ""}
	if accept {
		body = map[string]string{"accept": ""}
	}
	res, err := c.componentJSON(ctx, http.MethodPost, "/commissions/"+strconv.FormatInt(serial, 10)+"/action", body, nil, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusNotFound {
		return ErrCommissionNotFound
	}
	return nil
}

// ResolveCommissions accepts and rejects many pending commissions at once.
func (c *Client) ResolveCommissions(ctx context.Context, accept, reject []int64) (ResolveResult, error) {
	in := map[string][]int64{"accept": nonNilSerials(accept), "reject": nonNilSerials(reject)}
	var out struct {
		Accepted []int64              `json:"accepted"`
		Rejected []int64              `json:"rejected"`
		Failed   [][2]json.RawMessage `json:"failed"`
	}
	if _, err := c.componentJSON(ctx, http.MethodPost, "/commissions/action", in, &out, http.StatusOK); err != nil {
		return ResolveResult{}, err
	}
	r := ResolveResult{Accepted: out.Accepted, Rejected: out.Rejected, Failed: map[int64]string{}}
	for _, f := range out.Failed {
		var serial int64
		var fault map[string]struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(f[0], &serial) != nil || json.Unmarshal(f[1], &fault) != nil {
			return r, fmt.Errorf("astakos: malformed failed entry %s", f[0])
		}
		for _, v := range fault {
			r.Failed[serial] = v.Message
		}
	}
	return r, nil
}

func nonNilSerials(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

// componentJSON sends a component's request to the account service found
// in the public catalogue.
func (c *Client) componentJSON(ctx context.Context, method, path string, in, out any, ok ...int) (*http.Response, error) {
	cat, err := c.PublicCatalog(ctx)
	if err != nil {
		return nil, err
	}
	u, err := accountURLIn(cat)
	if err != nil {
		return nil, err
	}
	acct, err := c.http.WithEndpoint(u)
	if err != nil {
		return nil, err
	}
	return acct.DoJSON(ctx, &synnefo.Request{Method: method, Path: path, Success: ok}, in, out)
}
