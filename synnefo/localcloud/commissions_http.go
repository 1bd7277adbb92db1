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
		err = c.issueCommission(w, r)
	case len(seg) == 0:
		w.Header().Set("Allow", "GET, POST")
		err = errf(405, "Method not allowed")
	case len(seg) == 1 && seg[0] == "action" && r.Method == http.MethodPost:
		err = c.resolveCommissions(w, r)
	case len(seg) == 1 && r.Method == http.MethodGet:
		err = c.getCommission(w, seg[0])
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

// issueCommission is POST /commissions.
func (c *Cloud) issueCommission(w http.ResponseWriter, r *http.Request) error {
	d, err := jsonDict(r)
	if err != nil {
		return err
	}
	raw, ok := d["provisions"]
	if !ok || string(raw) == "null" {
		return badRequest("Provisions are missing.")
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return badRequest("Provisions should be a list.")
	}
	ps := make([]provision, 0, len(list))
	for _, one := range list {
		var p map[string]json.RawMessage
		var pv provision
		if json.Unmarshal(one, &p) != nil || json.Unmarshal(one, &pv) != nil {
			return badRequest("Malformed provision " + string(one))
		}
		for _, k := range []string{"holder", "source", "resource", "quantity"} {
			if _, ok := p[k]; !ok {
				return badRequest("Malformed provision " + string(one))
			}
		}
		ps = append(ps, pv)
	}
	var force, accept bool
	var name string
	for key, dst := range map[string]any{"force": &force, "auto_accept": &accept, "name": &name} {
		if v, ok := d[key]; ok && json.Unmarshal(v, dst) != nil {
			return badRequest(map[string]string{"force": `"force" option should be a boolean.`,
				"auto_accept": `"auto_accept" option should be a boolean.`, "name": "Commission name should be a string."}[key])
		}
	}
	var serial int64
	err = c.store.update(func(t *txn) error {
		var err error
		serial, err = t.issue(c, componentName, name, ps, force, accept)
		return err
	})
	var ce *commissionError
	if errors.As(err, &ce) {
		writeJSON(w, ce.status, map[string]any{ce.name: ce.body})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, 201, map[string]any{"serial": serial})
	return nil
}

// resolveCommissions is POST /commissions/action {"accept": [..], "reject": [..]}.
func (c *Cloud) resolveCommissions(w http.ResponseWriter, r *http.Request) error {
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
	var out map[string]any
	err = c.store.update(func(t *txn) error {
		acc, rej, failed, err := t.resolve(componentName, lists["accept"], lists["reject"])
		out = map[string]any{"accepted": acc, "rejected": rej, "failed": failed}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

// getCommission is GET /commissions/<serial>: a pending commission, or an
// empty 404.
func (c *Cloud) getCommission(w http.ResponseWriter, s string) error {
	serial, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return badRequest("Serial should be an integer.")
	}
	var out map[string]any
	c.store.view(func(t *txn) error {
		rec, ok := t.pending(componentName, serial)
		if ok {
			ps := make([]map[string]any, len(rec.Provisions))
			for i, p := range rec.Provisions {
				ps[i] = provisionJSON(p)
			}
			out = map[string]any{"serial": rec.Serial, "name": rec.Name, "issue_time": isoDate(rec.Issued), "provisions": ps}
		}
		return nil
	})
	if out == nil {
		w.WriteHeader(404)
		return nil
	}
	writeJSON(w, 200, out)
	return nil
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
