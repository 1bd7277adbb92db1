package localcloud

import (
	"net/http"
	"strings"
	"time"
)

// caller is what the Cyclades domain knows of a request: who makes it, the
// one clock reading it runs at, and the base URL replies link to. It knows
// nothing of HTTP; transaction steps and views take it.
type caller struct {
	u    *User
	now  int64  // unix ns; one clock reading per request
	base string // scheme://host
}

func (q *caller) computeURL() string { return q.base + "/cyclades/compute/v2.0" }
func (q *caller) networkURL() string { return q.base + "/cyclades/network/v2.0" }
func (q *caller) volumeURL() string  { return q.base + "/cyclades/volume/v2.0" }
func (q *caller) imageURL() string   { return q.base + "/cyclades/image/v1.0" }

// creq is one parsed Cyclades request: the HTTP exchange, the path, and the
// caller the domain sees.
type creq struct {
	w   http.ResponseWriter
	r   *http.Request
	seg []string // path segments after the service's version prefix
	caller
}

func (c *Cloud) serveCyclades(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	h.Set("Vary", "X-Auth-Token")
	path := strings.TrimPrefix(r.URL.Path, "/cyclades/")
	svc, rest, _ := strings.Cut(path, "/")
	ver, rest, _ := strings.Cut(rest, "/")
	var handler func(*creq) error
	switch {
	case svc == "compute" && ver == "v2.0":
		handler = c.serveCompute
	case svc == "network" && ver == "v2.0":
		handler = c.serveNetwork
	case svc == "volume" && (ver == "v2.0" || ver == "v2"):
		handler = c.serveVolume
	case svc == "image" && (ver == "v1.0" || ver == "v1"):
		handler = c.serveImage
	case svc == "image" && (ver == "" || ver == "versions") && rest == "":
		writeJSON(w, 200, versionsReply{[]apiVersion{{ID: "v1.0", Status: "CURRENT"}}})
		return
	default:
		writeFault(w, r, badRequest("API endpoint not found"))
		return
	}
	q := &creq{w: w, r: r, caller: caller{now: c.store.now(), base: c.baseURL(r)}}
	u, sent := c.userByToken(r)
	if !sent {
		writeFault(w, r, errf(401, "Access denied. No authentication token"))
		return
	}
	if u == nil {
		writeFault(w, r, &fault{Status: 401, Name: "fault", Message: "Invalid token"})
		return
	}
	q.u = u
	rest = strings.TrimSuffix(rest, ".json")
	if rest != "" {
		q.seg = strings.Split(rest, "/")
	}
	if err := c.settle(q.now); err != nil {
		c.cfail(q, err)
		return
	}
	if err := handler(q); err != nil {
		c.cfail(q, err)
	}
}

// cfail writes err as a Cyclades fault (see replyError).
func (c *Cloud) cfail(q *creq, err error) { c.replyError(q.w, q.r, err) }

// Faults whose names differ from faultName's.
func buildInProgress(msg string) *fault {
	return &fault{Status: 409, Name: "buildInProgress", Message: msg}
}
func overLimit(msg string) *fault { return &fault{Status: 413, Name: "overLimit", Message: msg} }
func notImplemented(msg string) *fault {
	return &fault{Status: 501, Name: "notImplemented", Message: msg}
}
func conflict(msg string) *fault { return errf(409, msg) }
func endpointNotFound() *fault   { return badRequest("API endpoint not found") }

// notAllowed answers 405 with the Allow header.
func notAllowed(q *creq, allow string) error {
	q.w.Header().Set("Allow", allow)
	return errf(405, "Method not allowed")
}

// route dispatches on the method; methods maps "GET" etc. to handlers.
func route(q *creq, methods map[string]func() error) error {
	if fn, ok := methods[q.r.Method]; ok {
		return fn()
	}
	var allow []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE"} {
		if _, ok := methods[m]; ok {
			allow = append(allow, m)
		}
	}
	return notAllowed(q, strings.Join(allow, ", "))
}

// replyJSON runs build in a read-only (write false) or read-write
// transaction and answers status with {key: what build returned}. An error
// from build (a fault such as a 404) rolls the transaction back and is the
// answer instead.
func replyJSON[T any](c *Cloud, q *creq, write bool, status int, key string, build func(t *txn) (T, error)) error {
	var out T
	run := c.store.view
	if write {
		run = c.store.update
	}
	err := run(func(t *txn) error {
		var err error
		out, err = build(t)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, status, map[string]T{key: out})
	return nil
}

// viewJSON answers 200 {key: ...} built in a read-only transaction.
func viewJSON[T any](c *Cloud, q *creq, key string, build func(t *txn) (T, error)) error {
	return replyJSON(c, q, false, 200, key, build)
}

// updateJSON answers status {key: ...} built in a read-write transaction.
func updateJSON[T any](c *Cloud, q *creq, status int, key string, build func(t *txn) (T, error)) error {
	return replyJSON(c, q, true, status, key, build)
}

// updateStatus runs fn in a read-write transaction and answers status with
// no body; fn's error is the answer instead.
func (c *Cloud) updateStatus(q *creq, status int, fn func(t *txn) error) error {
	if err := c.store.update(fn); err != nil {
		return err
	}
	q.w.WriteHeader(status)
	return nil
}

// showRecord answers 200 {key: render(rec)} for the record load finds in a
// read-only transaction (load's fault, typically 404, otherwise).
func showRecord[T, V any](c *Cloud, q *creq, key string, load func(t *txn) (*T, error), render func(*T) V) error {
	return viewJSON(c, q, key, func(t *txn) (V, error) {
		rec, err := load(t)
		if err != nil {
			var zero V
			return zero, err
		}
		return render(rec), nil
	})
}

// listRecords answers 200 {key: [render(rec), ...]} for the records of
// bucket b that keep admits, in id order.
func listRecords[T, V any](c *Cloud, q *creq, key string, b []byte, keep func(*T) bool, render func(*T) V) error {
	return viewJSON(c, q, key, func(t *txn) ([]V, error) {
		out := []V{}
		each(t, b, func(rec *T) bool {
			if keep(rec) {
				out = append(out, render(rec))
			}
			return true
		})
		return out, nil
	})
}

// bySegment routes on the first path segment of a service; none or an
// unknown one is "API endpoint not found".
func bySegment(q *creq, routes map[string]func(*creq) error) error {
	if len(q.seg) == 0 {
		return endpointNotFound()
	}
	if fn, ok := routes[q.seg[0]]; ok {
		return fn(q)
	}
	return endpointNotFound()
}

// reassignAction answers the reassign action of a network, floating IP or
// volume: the body is {"reassign": {"project": ...}}, the caller must be a
// member of the project, move assigns the record to it in a read-write
// transaction and the project must then have room for charge (what the
// resource holds, nil for nothing); the answer is a bare 200.
func (c *Cloud) reassignAction(q *creq, charge map[string]int64, move func(t *txn, project string) error) error {
	args, err := bodyObject(q, "reassign")
	if err != nil {
		return err
	}
	shared, err := boolField(args, "shared_to_project")
	if err != nil {
		return err
	}
	if shared { // CYCLADES_SHARED_RESOURCES_ENABLED is False by default
		return forbidden("Sharing resource to the members of the project is not permitted")
	}
	project, _, err := str(args, "project")
	if err != nil || project == "" {
		return badRequest("Malformed request: 'project' is required")
	}
	return c.updateStatus(q, 200, func(t *txn) error {
		if err := move(t, project); err != nil {
			return err
		}
		return t.commissionReassign(c, q.u, project, charge)
	})
}

// listSince answers a list that honours changes-since: collect gathers its
// entries in a read-only transaction; with changes-since and no entries the
// answer is 304.
func listSince[T any](c *Cloud, q *creq, key string, collect func(t *txn, f changesSince) []T) error {
	at, set, err := parseChangesSince(q)
	if err != nil {
		return err
	}
	f := changesSince{at: at, set: set}
	var out []T
	if err := c.store.view(func(t *txn) error { out = collect(t, f); return nil }); err != nil {
		return err
	}
	if f.set && len(out) == 0 {
		q.w.WriteHeader(304)
		return nil
	}
	writeJSON(q.w, 200, map[string][]T{key: out})
	return nil
}

// parseChangesSince validates the changes-since parameter (§3.1): ok is false
// when absent.
func parseChangesSince(q *creq) (int64, bool, error) {
	v := q.r.URL.Query().Get("changes-since")
	if v == "" {
		return 0, false, nil
	}
	v = strings.ReplaceAll(v, " ", "+") // an unescaped "+00:00" offset
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999-07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err = time.Parse(layout, v); err == nil {
			break
		}
	}
	if err != nil {
		return 0, false, badRequest("Invalid changes-since parameter.")
	}
	ns := t.UnixNano()
	if ns > q.now {
		return 0, false, badRequest("changes-since value set in the future.")
	}
	if q.now-ns > int64(time.Hour) {
		return 0, false, badRequest("Too old changes-since value.")
	}
	return ns, true, nil
}
