package localcloud

import "sort"

// computeImageView is an image in the compute API (cyclades-api.md §5).
type computeImageView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Created    string            `json:"created"`
	Updated    string            `json:"updated"`
	Status     string            `json:"status"`
	Progress   int               `json:"progress"`
	UserID     string            `json:"user_id"`
	TenantID   string            `json:"tenant_id"`
	Public     bool              `json:"public"`
	Links      []link            `json:"links"`
	Metadata   map[string]string `json:"metadata"`
	IsSnapshot bool              `json:"is_snapshot"`
}

// computeImageSummary is the list form of computeImageView.
type computeImageSummary struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Links []link `json:"links"`
}

func (q *caller) computeImageLinks(v *imageView) []link {
	return append(links(q.computeURL()+"/images/"+v.rec.ID), link{Rel: "alternate", Href: q.imageURL() + "/images/" + v.rec.ID})
}

func (q *caller) computeImageView(v *imageView) *computeImageView {
	st := computeStatus(v.status())
	progress := 0
	if st == "ACTIVE" {
		progress = 100
	}
	return &computeImageView{
		ID: v.rec.ID, Name: v.rec.Title, Created: isoDate(v.obj.Mtime), Updated: isoDate(v.obj.Mtime),
		Status: st, Progress: progress, UserID: v.acct, TenantID: v.acct, Public: v.public(),
		Links: q.computeImageLinks(v), Metadata: v.props(), IsSnapshot: v.rec.IsSnapshot,
	}
}

// computeImage resolves an image for the compute API (404 "Image not found.").
func (t *txn) computeImage(u *User, id string) (*imageView, error) {
	v, ok := t.imageByID(id)
	if !ok || !t.canRead(v, u.UUID) {
		return nil, notFound("Image not found.")
	}
	return v, nil
}

func (c *Cloud) serveComputeImages(q *creq) error {
	s := q.seg
	if root, detail := collection(s); root {
		return route(q, map[string]func() error{
			"GET":  func() error { return c.listComputeImages(q, detail) },
			"POST": func() error { return notImplemented("Creating images is not supported") },
		})
	}
	id := s[1]
	if len(s) == 2 {
		return route(q, map[string]func() error{
			"GET": func() error {
				return showRecord(c, q, "image", func(t *txn) (*imageView, error) { return t.computeImage(q.u, id) }, q.computeImageView)
			},
			"DELETE": func() error {
				return c.updateStatus(q, 204, func(t *txn) error {
					v, err := t.computeImage(q.u, id)
					if err != nil {
						return err
					}
					return t.unregister(q.u, v)
				})
			},
		})
	}
	if s[2] != "metadata" || len(s) > 4 {
		return endpointNotFound()
	}
	if len(s) == 3 {
		return c.serveComputeImageMeta(q, id)
	}
	return c.serveComputeImageMetaKey(q, id, s[3])
}

// listComputeImages answers GET /images[/detail] of the compute API.
func (c *Cloud) listComputeImages(q *creq, detail bool) error {
	if _, _, err := parseChangesSince(q); err != nil {
		return err
	}
	var imgs []*imageView
	err := c.store.view(func(t *txn) error {
		imgs = t.visibleImages(q.u.UUID)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].rec.ID < imgs[j].rec.ID })
	if detail {
		out := imagesReply[*computeImageView]{Images: make([]*computeImageView, 0, len(imgs))}
		for _, v := range imgs {
			out.Images = append(out.Images, q.computeImageView(v))
		}
		writeJSON(q.w, 200, out)
		return nil
	}
	out := imagesReply[computeImageSummary]{Images: make([]computeImageSummary, 0, len(imgs))}
	for _, v := range imgs {
		out.Images = append(out.Images, computeImageSummary{ID: v.rec.ID, Name: v.rec.Title, Links: q.computeImageLinks(v)})
	}
	writeJSON(q.w, 200, out)
	return nil
}

// mergeImageProps merges props into an image's properties (writes need
// write access).
func (c *Cloud) mergeImageProps(q *creq, id string, props map[string]string) error {
	return c.store.update(func(t *txn) error {
		v, err := t.computeImage(q.u, id)
		if err != nil {
			return err
		}
		if !t.canWrite(v, q.u.UUID) {
			return forbidden("")
		}
		if err := checkProps(props); err != nil {
			return err
		}
		for k, val := range props {
			if v.rec.Props == nil {
				v.rec.Props = map[string]string{}
			}
			v.rec.Props[k] = val
		}
		if v.rec.keys() > maxPlanktonKeys {
			return badRequest("Too many metadata items")
		}
		if err := t.newImageVersion(q.u.UUID, v.acct, v.cont, v.nam, v.obj); err != nil {
			return err
		}
		return t.putImageRec(v.rec)
	})
}

// imageProps reads an image's properties.
func (c *Cloud) imageProps(q *creq, id string) (map[string]string, error) {
	var props map[string]string
	err := c.store.view(func(t *txn) error {
		v, err := t.computeImage(q.u, id)
		if err == nil {
			props = v.props()
		}
		return err
	})
	return props, err
}

// serveComputeImageMeta answers /images/{id}/metadata.
func (c *Cloud) serveComputeImageMeta(q *creq, id string) error {
	return route(q, map[string]func() error{
		"GET": func() error {
			props, err := c.imageProps(q, id)
			if err != nil {
				return err
			}
			writeJSON(q.w, 200, metadataReply{props})
			return nil
		},
		"POST": func() error {
			sent, err := metadataBody(q)
			if err != nil {
				return err
			}
			if err := c.mergeImageProps(q, id, sent); err != nil {
				return err
			}
			props, err := c.imageProps(q, id)
			if err != nil {
				return err
			}
			writeJSON(q.w, 201, metadataReply{props})
			return nil
		},
	})
}

// serveComputeImageMetaKey answers /images/{id}/metadata/{key}.
func (c *Cloud) serveComputeImageMetaKey(q *creq, id, key string) error {
	return route(q, map[string]func() error{
		"GET": func() error {
			props, err := c.imageProps(q, id)
			if err != nil {
				return err
			}
			val, ok := props[key]
			if !ok {
				return notFound("Metadata key not found.")
			}
			writeJSON(q.w, 200, metaReply{map[string]string{key: val}})
			return nil
		},
		"PUT": func() error {
			val, err := metaKeyBody(q, key)
			if err != nil {
				return err
			}
			if err := c.mergeImageProps(q, id, map[string]string{key: val}); err != nil {
				return err
			}
			writeJSON(q.w, 201, metaReply{map[string]string{key: val}})
			return nil
		},
		"DELETE": func() error {
			// Upstream drops the key from a copy and merge-writes the rest,
			// so the property survives (cyclades-api.md §5): a no-op.
			props, err := c.imageProps(q, id)
			if err != nil {
				return err
			}
			if _, ok := props[key]; !ok {
				return notFound("Metadata key not found.")
			}
			q.w.WriteHeader(204)
			return nil
		},
	})
}
