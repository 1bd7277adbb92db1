package localcloud

import (
	"encoding/json"
	"fmt"
	"maps"
)

func (c *Cloud) serverMeta(q *creq, id int64, key string) error {
	s, err := c.viewServer(q, id)
	if err != nil {
		return err
	}
	if key == "" {
		meta := s.Meta
		if meta == nil {
			meta = map[string]string{}
		}
		writeJSON(q.w, 200, metadataReply{meta})
		return nil
	}
	v, ok := s.Meta[key]
	if !ok {
		return notFound("Metadata key not found.")
	}
	writeJSON(q.w, 200, metaReply{map[string]string{key: v}})
	return nil
}

// viewServer loads a server the caller may see in a read-only transaction.
func (c *Cloud) viewServer(q *creq, id int64) (*serverRec, error) {
	var s *serverRec
	err := c.store.view(func(t *txn) error {
		var err error
		s, err = t.visibleServer(q.u, id)
		return err
	})
	return s, err
}

func (c *Cloud) updateServerMeta(q *creq, id int64) error {
	var body map[string]json.RawMessage
	if err := readBody(q, &body); err != nil {
		return err
	}
	raw, ok := body["metadata"]
	if !ok {
		return badRequest("Malformed request")
	}
	sent, err := parseMeta(raw)
	if err != nil {
		return err
	}
	return updateJSON(c, q, 201, "metadata", func(t *txn) (map[string]string, error) {
		return t.mergeServerMeta(&q.caller, id, sent)
	})
}

func (c *Cloud) putServerMetaKey(q *creq, id int64, key string) error {
	val, err := metaKeyBody(q, key)
	if err != nil {
		return err
	}
	return updateJSON(c, q, 201, "meta", func(t *txn) (map[string]string, error) {
		_, err := t.mergeServerMeta(&q.caller, id, map[string]string{key: val})
		return map[string]string{key: val}, err
	})
}

// mergeServerMeta writes sent into the metadata of a server that is not
// deleted, within the metadata limit, and returns the merged metadata.
func (t *txn) mergeServerMeta(q *caller, id int64, sent map[string]string) (map[string]string, error) {
	s, err := t.writableServer(q.u, id)
	if err != nil {
		return nil, err
	}
	if s.Meta == nil {
		s.Meta = map[string]string{}
	}
	maps.Copy(s.Meta, sent)
	if len(s.Meta) > maxServerMeta {
		return nil, badRequest(fmt.Sprintf("Virtual servers cannot have more than %d metadata items", maxServerMeta))
	}
	s.Updated = q.now
	return s.Meta, putRec(t, bServers, id, s)
}

func (c *Cloud) deleteServerMetaKey(q *creq, id int64, key string) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		s, err := t.writableServer(q.u, id)
		if err != nil {
			return err
		}
		if _, ok := s.Meta[key]; !ok {
			return notFound("Metadata key not found.")
		}
		delete(s.Meta, key)
		s.Updated = q.now
		return putRec(t, bServers, id, s)
	})
}

func (c *Cloud) serverIPs(q *creq, id int64, rest []string) error {
	var out *serverDetail
	err := c.store.view(func(t *txn) error {
		s, err := t.visibleServer(q.u, id)
		if err != nil {
			return err
		}
		out = t.serverDetail(&q.caller, s)
		return nil
	})
	if err != nil {
		return err
	}
	addrs := out.Addresses
	if len(rest) == 1 {
		v, ok := addrs[rest[0]]
		if !ok {
			return notFound("Network not found.")
		}
		writeJSON(q.w, 200, networkAddressesReply{map[string][]serverAddress{rest[0]: v}})
		return nil
	}
	writeJSON(q.w, 200, struct {
		Addresses   map[string][]serverAddress `json:"addresses"`
		Attachments []serverAttachment         `json:"attachments"`
	}{addrs, out.Attachments})
	return nil
}

func (c *Cloud) serverPassword(q *creq, id int64, del bool) error {
	var pw string
	err := c.store.update(func(t *txn) error {
		s, err := t.visibleServer(q.u, id)
		if err != nil {
			return err
		}
		if del {
			s.AdminPass, s.PassUntil = "", 0
			return putRec(t, bServers, id, s)
		}
		if s.AdminPass == "" || q.now >= s.PassUntil {
			return notFound("Password not found.")
		}
		pw = s.AdminPass
		return nil
	})
	if err != nil {
		return err
	}
	if del {
		q.w.WriteHeader(204)
		return nil
	}
	writeJSON(q.w, 200, passwordReply{pw})
	return nil
}

func (c *Cloud) serverExtra(q *creq, id int64, what string) error {
	s, err := c.viewServer(q, id)
	if err != nil {
		return err
	}
	switch what {
	case "diagnostics":
		d := s.Diagnostics
		if d == nil {
			d = []diagnostic{}
		}
		writeJSON(q.w, 200, d)
	case "stats":
		writeJSON(q.w, 200, serverStatsReply{serverStats{ServerRef: s.ID, Refresh: 60}})
	}
	return nil
}
