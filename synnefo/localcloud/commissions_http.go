package localcloud

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The account API's commissions (Synnefo's astakos/api/quotas.py:
// commissions, resolve_pending_commissions, get_commission, serial_action),
// for a component: its token is Config.ComponentToken (serve
// --component-token); without one the API refuses every token.

// componentName is the client key of the local cloud's one component.
const componentName = "component"

// serveCommissions handles /commissions[/action|/<serial>[/action]] (rest
// without the account prefix).
func (c *Cloud) serveCommissions(w http.ResponseWriter, r *http.Request, rest string) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		tok = r.URL.Query().Get("X-Auth-Token")
	}
	switch {
	case tok == "":
		writeFault(w, r, errf(401, "Access denied. No authentication token"))
		return
	case c.cfg.ComponentToken == "" || tok != c.cfg.ComponentToken:
		writeFault(w, r, errf(401, "Invalid token"))
		return
	}
	seg := strings.Split(rest, "/")[1:]
	var err error
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		var out []int64
		err = c.store.view(func(t *txn) error { out = t.pendingSerials(componentName); return nil })
		if err == nil {
			writeJSON(w, 200, out)
		}
	case len(seg) == 0 && r.Method == http.MethodPost:
		err = c.postCommission(w, r)
	case len(seg) == 0:
		w.Header().Set("Allow", "GET, POST")
		err = errf(405, "Method not allowed")
	case len(seg) == 1 && seg[0] == "action" && r.Method == http.MethodPost:
		err = c.postResolve(w, r)
	case len(seg) == 1 && r.Method == http.MethodGet:
		err = c.getCommissionHTTP(w, seg[0])
	case len(seg) == 2 && seg[1] == "action" && r.Method == http.MethodPost:
		err = c.serialAction(w, r, seg[0])
	default:
		err = notFound("Not found")
	}
	if err != nil {
		c.replyError(w, r, err)
	}
}

// jsonDict reads a request body that must be a JSON object.
func jsonDict(r *http.Request) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, badRequest("Could not read request body")
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil, badRequest("Invalid JSON data")
	}
	var d map[string]json.RawMessage
	if json.Unmarshal(body, &d) != nil {
		return nil, badRequest("Request body should be a json dict")
	}
	return d, nil
}

// optField decodes d[key] into dst when present; msg is the fault when it
// does not decode.
func optField[T any](d map[string]json.RawMessage, key string, dst *T, msg string) error {
	if v, ok := d[key]; ok && json.Unmarshal(v, dst) != nil {
		return badRequest(msg)
	}
	return nil
}

// commissionRequest is the body of POST /commissions, decoded.
type commissionRequest struct {
	name          string
	provisions    []provision
	force, accept bool
}

// postCommission is POST /commissions: a refusal is replied as Synnefo's
// quotaholder does ({"overLimit": {...}}), not as a fault.
func (c *Cloud) postCommission(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeCommission(r)
	if err != nil {
		return err
	}
	out, err := c.issueCommission(req)
	var ce *commissionError
	if errors.As(err, &ce) {
		writeJSON(w, ce.status, map[string]commissionFault{ce.name: ce.body})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, 201, out)
	return nil
}

// issueCommission issues the component's commission.
func (c *Cloud) issueCommission(req commissionRequest) (commissionSerial, error) {
	var serial int64
	err := c.store.update(func(t *txn) error {
		var err error
		serial, err = t.issue(c, componentName, req.name, req.provisions, req.force, req.accept)
		return err
	})
	return commissionSerial{Serial: serial}, err
}

// decodeCommission reads and checks the body of POST /commissions.
func decodeCommission(r *http.Request) (commissionRequest, error) {
	var req commissionRequest
	d, err := jsonDict(r)
	if err != nil {
		return req, err
	}
	raw, ok := d["provisions"]
	if !ok || string(raw) == "null" {
		return req, badRequest("Provisions are missing.")
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return req, badRequest("Provisions should be a list.")
	}
	ps := make([]provision, 0, len(list))
	for _, one := range list {
		var p map[string]json.RawMessage
		var pv provision
		if json.Unmarshal(one, &p) != nil || json.Unmarshal(one, &pv) != nil {
			return req, badRequest("Malformed provision " + string(one))
		}
		for _, k := range []string{"holder", "source", "resource", "quantity"} {
			if _, ok := p[k]; !ok {
				return req, badRequest("Malformed provision " + string(one))
			}
		}
		ps = append(ps, pv)
	}
	req.provisions = ps
	if err := optField(d, "force", &req.force, `"force" option should be a boolean.`); err != nil {
		return req, err
	}
	if err := optField(d, "auto_accept", &req.accept, `"auto_accept" option should be a boolean.`); err != nil {
		return req, err
	}
	return req, optField(d, "name", &req.name, "Commission name should be a string.")
}

// postResolve is POST /commissions/action {"accept": [..], "reject": [..]}.
func (c *Cloud) postResolve(w http.ResponseWriter, r *http.Request) error {
	d, err := jsonDict(r)
	if err != nil {
		return err
	}
	lists := map[string][]int64{}
	for _, key := range []string{"accept", "reject"} {
		raw, ok := d[key]
		if !ok {
			continue
		}
		var vals []any
		if json.Unmarshal(raw, &vals) != nil {
			return badRequest(`"accept" and "reject" should reference lists of serials.`)
		}
		for _, v := range vals {
			n, ok := v.(float64)
			if !ok || n != float64(int64(n)) {
				return badRequest("Serials should be integer.")
			}
			lists[key] = append(lists[key], int64(n))
		}
	}
	var out resolveReply
	err = c.store.update(func(t *txn) error {
		out, err = t.resolve(componentName, lists["accept"], lists["reject"])
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

// getCommissionHTTP is GET /commissions/<serial>: a pending commission, or
// an empty 404.
func (c *Cloud) getCommissionHTTP(w http.ResponseWriter, s string) error {
	serial, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return badRequest("Serial should be an integer.")
	}
	out, ok := c.getCommission(serial)
	if !ok {
		w.WriteHeader(404)
		return nil
	}
	writeJSON(w, 200, out)
	return nil
}

// getCommission is the component's pending commission serial.
func (c *Cloud) getCommission(serial int64) (commissionView, bool) {
	var out commissionView
	found := false
	c.store.view(func(t *txn) error {
		rec, ok := t.pending(componentName, serial)
		if !ok {
			return nil
		}
		found = true
		ps := make([]provisionView, len(rec.Provisions))
		for i, p := range rec.Provisions {
			ps[i] = provisionViewOf(p)
		}
		out = commissionView{Serial: rec.Serial, Name: rec.Name, IssueTime: isoDate(rec.Issued), Provisions: ps}
		return nil
	})
	return out, found
}

// serialAction is POST /commissions/<serial>/action {"accept": ""} or
// {"reject": ""}: 200, or an empty 404 for no such pending commission.
func (c *Cloud) serialAction(w http.ResponseWriter, r *http.Request, s string) error {
	d, err := jsonDict(r)
	if err != nil {
		return err
	}
	serial, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return badRequest("Serial should be an integer.")
	}
	_, accept := d["accept"]
	_, reject := d["reject"]
	if accept == reject {
		return badRequest("Specify either accept or reject action.")
	}
	found := false
	err = c.store.update(func(t *txn) error {
		rec, ok := t.pending(componentName, serial)
		if !ok {
			return nil
		}
		found = true
		return t.finish(rec, accept)
	})
	if err != nil {
		return err
	}
	if !found {
		w.WriteHeader(404)
		return nil
	}
	w.WriteHeader(200)
	return nil
}
