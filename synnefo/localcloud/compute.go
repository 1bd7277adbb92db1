package localcloud

import (
	"strings"
	"time"
)

func (c *Cloud) actionDelay() time.Duration { return max(c.cfg.BuildDelay/2, time.Millisecond) }

// serveCompute routes /cyclades/compute/v2.0/...
func (c *Cloud) serveCompute(q *creq) error {
	return bySegment(q, map[string]func(*creq) error{
		"servers":         c.serveServers,
		"flavors":         c.serveFlavors,
		"images":          c.serveComputeImages,
		"os-keypairs":     c.serveKeypairs,
		"os-floating-ips": c.serveComputeFloatingIPs,
	})
}

// ---- flavors ----

func (c *Cloud) serveFlavors(q *creq) error {
	s := q.seg
	switch {
	case len(s) == 1 || len(s) == 2 && (s[1] == "" || s[1] == "detail"):
		return route(q, map[string]func() error{"GET": func() error {
			qp := q.r.URL.Query()
			none := qp.Get("SNF:flavor-access") != ""
			if v := qp.Get("SNF:is_public"); v != "" && strings.ToLower(v) != "true" {
				none = true
			}
			shown := flavors
			if none {
				shown = nil
			}
			if len(s) == 2 && s[1] == "detail" {
				out := flavorsReply[*flavorDetail]{Flavors: []*flavorDetail{}}
				for _, f := range shown {
					out.Flavors = append(out.Flavors, q.flavorDetail(f))
				}
				writeJSON(q.w, 200, out)
				return nil
			}
			out := flavorsReply[flavorSummary]{Flavors: []flavorSummary{}}
			for _, f := range shown {
				out.Flavors = append(out.Flavors, q.flavorSummary(f))
			}
			writeJSON(q.w, 200, out)
			return nil
		}})
	case len(s) == 2 || len(s) == 3 && s[2] == "os-extra_specs":
		id, ok := parseNumID(s[1])
		if !ok {
			return endpointNotFound()
		}
		return route(q, map[string]func() error{"GET": func() error {
			f, ok := flavorByID(id)
			if !ok {
				return notFound("Flavor not found.")
			}
			if len(s) == 3 {
				writeJSON(q.w, 200, extraSpecsReply{ExtraSpecs: map[string]string{}})
				return nil
			}
			writeJSON(q.w, 200, flavorReply{q.flavorDetail(f)})
			return nil
		}})
	}
	return endpointNotFound()
}

// ---- servers ----

func (c *Cloud) serveServers(q *creq) error {
	s := q.seg
	if len(s) == 1 || len(s) == 2 && s[1] == "" {
		return route(q, map[string]func() error{
			"GET":  func() error { return c.listServers(q, false) },
			"POST": func() error { return c.createServer(q) },
		})
	}
	if len(s) == 2 && s[1] == "detail" {
		return route(q, map[string]func() error{"GET": func() error { return c.listServers(q, true) }})
	}
	id, ok := parseNumID(s[1])
	if !ok {
		return endpointNotFound()
	}
	if len(s) == 2 {
		return route(q, map[string]func() error{
			"GET":    func() error { return c.getServer(q, id) },
			"PUT":    func() error { return c.renameServer(q, id) },
			"DELETE": func() error { return c.deleteServer(q, id) },
		})
	}
	switch s[2] {
	case "action":
		if len(s) == 3 {
			return route(q, map[string]func() error{"POST": func() error { return c.serverAction(q, id) }})
		}
	case "metadata":
		if len(s) == 3 {
			return route(q, map[string]func() error{
				"GET":  func() error { return c.serverMeta(q, id, "") },
				"POST": func() error { return c.updateServerMeta(q, id) },
			})
		}
		if len(s) == 4 && s[3] != "" {
			key := s[3]
			return route(q, map[string]func() error{
				"GET":    func() error { return c.serverMeta(q, id, key) },
				"PUT":    func() error { return c.putServerMetaKey(q, id, key) },
				"DELETE": func() error { return c.deleteServerMetaKey(q, id, key) },
			})
		}
	case "ips":
		if len(s) == 3 || len(s) == 4 && s[3] != "" {
			return route(q, map[string]func() error{"GET": func() error { return c.serverIPs(q, id, s[3:]) }})
		}
	case "password":
		if len(s) == 3 {
			return route(q, map[string]func() error{
				"GET":    func() error { return c.serverPassword(q, id, false) },
				"DELETE": func() error { return c.serverPassword(q, id, true) },
			})
		}
	case "tags":
		if len(s) == 3 {
			return c.serveServerTags(q, id, "")
		}
		if len(s) == 4 && s[3] != "" {
			return c.serveServerTags(q, id, s[3])
		}
	case "os-volume_attachments":
		return c.serveVolumeAttachments(q, id, s[3:])
	case "diagnostics", "stats":
		if len(s) == 3 {
			return route(q, map[string]func() error{"GET": func() error { return c.serverExtra(q, id, s[2]) }})
		}
	}
	return endpointNotFound()
}

// visibleServer loads a server the caller may see (owner only here: the
// local cloud has no projects beyond each user's own).
func (t *txn) visibleServer(u *User, id int64) (*serverRec, error) {
	return findRec(t, bServers, id, u.ownsServer, "Server not found.")
}

// ownsServer reports whether s is the caller's.
func (u *User) ownsServer(s *serverRec) bool { return s.Owner == u.UUID }

func (c *Cloud) listServers(q *creq, detail bool) error {
	shown := func(t *txn, f changesSince) []*serverRec {
		var out []*serverRec
		each(t, bServers, func(s *serverRec) bool {
			if q.u.ownsServer(s) && f.shows(s.Updated, s.Deleted) {
				out = append(out, s)
			}
			return true
		})
		return out
	}
	if detail {
		return listSince(c, q, "servers", func(t *txn, f changesSince) []*serverDetail {
			out := []*serverDetail{}
			for _, s := range shown(t, f) {
				out = append(out, t.serverDetail(&q.caller, s))
			}
			return out
		})
	}
	return listSince(c, q, "servers", func(t *txn, f changesSince) []serverSummary {
		out := []serverSummary{}
		for _, s := range shown(t, f) {
			out = append(out, serverSummary{ID: s.ID, Name: s.Name, Links: links(q.computeURL() + "/servers/" + itoa(s.ID))})
		}
		return out
	})
}

func (c *Cloud) getServer(q *creq, id int64) error {
	return viewJSON(c, q, "server", func(t *txn) (*serverDetail, error) {
		s, err := t.visibleServer(q.u, id)
		if err != nil {
			return nil, err
		}
		return t.serverDetail(&q.caller, s), nil
	})
}

// serverDetail reads a server's state and renders its detail form.
func (t *txn) serverDetail(q *caller, s *serverRec) *serverDetail {
	return q.serverDetail(s, t.serverState(s))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Cloud) renameServer(q *creq, id int64) error {
	m, err := bodyObject(q, "server")
	if err != nil {
		return err
	}
	name, ok, err := str(m, "name")
	if err != nil || !ok {
		return badRequest("Malformed request")
	}
	if len([]rune(name)) > 255 {
		return badRequest("Server name is too long")
	}
	return c.updateStatus(q, 204, func(t *txn) error {
		s, err := t.writableServer(q.u, id)
		if err != nil {
			return err
		}
		s.Name, s.Updated = name, q.now
		return putRec(t, bServers, id, s)
	})
}

// writableServer loads a server for rename/metadata writes: it must not be
// deleted (400).
func (t *txn) writableServer(u *User, id int64) (*serverRec, error) {
	s, err := t.visibleServer(u, id)
	if err != nil {
		return nil, err
	}
	if s.Deleted {
		return nil, badRequest("Server has been deleted.")
	}
	return s, nil
}

func (c *Cloud) deleteServer(q *creq, id int64) error {
	return c.startAction(q, id, "DESTROY", 204)
}

// ---- metadata ----

// ---- ips, password and read-only extras ----
