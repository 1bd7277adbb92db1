package localcloud

import (
	"fmt"
	"strings"
)

// ownSnapshot resolves a snapshot image owned by the caller.
func (t *txn) ownSnapshot(u *User, id string) (*imageView, error) {
	v, ok := t.imageByID(id)
	if !ok || !v.rec.IsSnapshot || !t.canRead(v, u.UUID) {
		return nil, notFound("Snapshot " + id + " not found")
	}
	return v, nil
}

func (c *Cloud) serveSnapshots(q *creq) error {
	if root, _ := collection(q.seg); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				return viewJSON(c, q, "snapshots", func(t *txn) ([]*snapshotView, error) {
					out := []*snapshotView{}
					for _, v := range t.visibleImages(q.u.UUID) {
						if v.rec.IsSnapshot {
							out = append(out, q.snapshotView(v))
						}
					}
					return out, nil
				})
			},
			"POST": func() error { return c.createSnapshot(q) },
		})
	}
	id := q.seg[1]
	if len(q.seg) == 2 {
		return route(q, map[string]func() error{
			"GET": func() error {
				return showRecord(c, q, "snapshot", func(t *txn) (*imageView, error) { return t.ownSnapshot(q.u, id) }, q.snapshotView)
			},
			"PUT":    func() error { return c.updateSnapshot(q, id) },
			"DELETE": func() error { return c.deleteSnapshot(q, id) },
		})
	}
	if q.seg[2] != "metadata" || len(q.seg) > 4 {
		return endpointNotFound()
	}
	edit := func(fn func(map[string]string) error) error {
		write := fn != nil
		return replyJSON(c, q, write, 200, "metadata", func(t *txn) (map[string]string, error) {
			v, err := t.ownSnapshot(q.u, id)
			if err != nil {
				return nil, err
			}
			if v.rec.Props == nil {
				v.rec.Props = map[string]string{}
			}
			if write {
				if v.acct != q.u.UUID {
					return nil, forbidden("")
				}
				if err := fn(v.rec.Props); err != nil {
					return nil, err
				}
				if err := checkProps(v.rec.Props); err != nil {
					return nil, err
				}
				if err := t.putImageRec(v.rec); err != nil {
					return nil, err
				}
			}
			return v.rec.Props, nil
		})
	}
	if len(q.seg) == 4 {
		key := q.seg[3]
		return route(q, map[string]func() error{"DELETE": func() error {
			return edit(func(m map[string]string) error {
				if _, ok := m[key]; !ok {
					return notFound("Metadata key not found.")
				}
				delete(m, key)
				return nil
			})
		}})
	}
	metaWrite := func(replace bool) func() error {
		return func() error {
			sent, err := metadataBody(q)
			if err != nil {
				return err
			}
			return edit(func(m map[string]string) error {
				if replace {
					clear(m)
				}
				for k, v := range sent {
					m[strings.ToLower(k)] = v
				}
				return nil
			})
		}
	}
	return route(q, map[string]func() error{
		"GET":  func() error { return edit(nil) },
		"POST": metaWrite(false),
		"PUT":  metaWrite(true),
	})
}

func (c *Cloud) createSnapshot(q *creq) error {
	sp, err := parseSnapshot(q)
	if err != nil {
		return err
	}
	return updateJSON(c, q, 202, "snapshot", func(t *txn) (*snapshotView, error) {
		v, err := t.snapshotVolume(q.u.UUID, q.now, q.now+int64(c.actionDelay()), sp)
		if err != nil {
			return nil, err
		}
		return q.snapshotView(v), nil
	})
}

// parseSnapshot reads the body of POST /snapshots (§8.2).
func parseSnapshot(q *creq) (*snapshotSpec, error) {
	m, err := bodyObject(q, "snapshot")
	if err != nil {
		return nil, err
	}
	raw, ok := m["volume_id"]
	if !ok {
		return nil, badRequest("Invalid request: 'volume_id' is required")
	}
	sp := &snapshotSpec{}
	if sp.volume, ok = intID(raw); !ok {
		return nil, badRequest("Invalid 'volume_id' field")
	}
	name, hasName, err := str(m, "display_name")
	if err != nil {
		return nil, err
	}
	if !hasName {
		name = fmt.Sprintf("Snapshot of volume '%d'", sp.volume)
	}
	if name == "" || strings.Contains(name, "\x00") {
		return nil, badRequest("Invalid snapshot name")
	}
	sp.name = name
	if sp.desc, _, err = str(m, "display_description"); err != nil {
		return nil, err
	}
	if sp.meta, err = parseMeta(m["metadata"]); err != nil {
		return nil, err
	}
	return sp, nil
}

func (c *Cloud) updateSnapshot(q *creq, id string) error {
	_, name, hasName, desc, hasDesc, err := displayBody(q, "snapshot")
	if err != nil {
		return err
	}
	if hasName && name == "" {
		return badRequest("Invalid snapshot name")
	}
	return updateJSON(c, q, 200, "snapshot", func(t *txn) (*snapshotView, error) {
		v, err := t.ownSnapshot(q.u, id)
		if err != nil {
			return nil, err
		}
		if v.acct != q.u.UUID {
			return nil, forbidden("")
		}
		if hasName {
			v.rec.Title = name
		}
		if hasDesc {
			v.rec.Desc = desc
		}
		if err := t.putImageRec(v.rec); err != nil {
			return nil, err
		}
		return q.snapshotView(v), nil
	})
}

func (c *Cloud) deleteSnapshot(q *creq, id string) error {
	return c.updateStatus(q, 202, func(t *txn) error {
		v, err := t.ownSnapshot(q.u, id)
		if err != nil {
			return err
		}
		if v.acct != q.u.UUID {
			return forbidden("")
		}
		cr, _ := t.container(v.acct, v.cont)
		if err := t.deleteObject(v.acct, v.cont, v.nam, q.u.UUID, cr); err != nil {
			return err
		}
		return t.tx.Bucket(bImages).Delete([]byte(id))
	})
}
