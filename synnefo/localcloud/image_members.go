package localcloud

import (
	"encoding/json"
	"slices"
	"strings"
)

func (c *Cloud) listMembers(q *creq, id string) error {
	out := imageMembersReply{Members: []imageMember{}}
	err := c.store.view(func(t *txn) error {
		v, f := t.lookupImage(q.u, id)
		if f != nil {
			return f
		}
		if v.obj.Sharing != nil {
			for _, m := range v.obj.Sharing.Read {
				if m != "*" {
					out.Members = append(out.Members, imageMember{MemberID: m})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, 200, out)
	return nil
}

// editMembers rewrites the read list of the image's object (owner only).
func (c *Cloud) editMembers(q *creq, id string, edit func(read []string) []string) error {
	return c.store.update(func(t *txn) error {
		v, f := t.lookupImage(q.u, id)
		if f != nil {
			return f
		}
		if v.acct != q.u.UUID {
			return forbidden("")
		}
		p := &perms{}
		if v.obj.Sharing != nil {
			p.Read, p.Write = slices.Clone(v.obj.Sharing.Read), v.obj.Sharing.Write
		}
		p.Read = edit(p.Read)
		v.obj.Sharing = p
		if len(p.Read) == 0 && len(p.Write) == 0 {
			v.obj.Sharing = nil
		}
		return t.setState(v.acct, v.cont, v.nam, v.obj)
	})
}

func (c *Cloud) setMembers(q *creq, id string) error {
	var body struct {
		Memberships []struct {
			MemberID string `json:"member_id"`
		} `json:"memberships"`
	}
	var raw map[string]json.RawMessage
	if err := readBody(q, &raw); err != nil {
		return err
	}
	mraw, ok := raw["memberships"]
	if !ok || json.Unmarshal(mraw, &body.Memberships) != nil {
		return badRequest("Invalid memberships")
	}
	var members []string
	for _, m := range body.Memberships {
		if m.MemberID == "" {
			return badRequest("Invalid memberships")
		}
		members = append(members, strings.ToLower(m.MemberID))
	}
	err := c.editMembers(q, id, func(read []string) []string {
		out := slices.Clone(members)
		if slices.Contains(read, "*") {
			out = append(out, "*")
		}
		return out
	})
	if err != nil {
		return err
	}
	q.w.WriteHeader(204)
	return nil
}

func (c *Cloud) changeMember(q *creq, id, member string, add bool) error {
	member = strings.ToLower(member)
	err := c.editMembers(q, id, func(read []string) []string {
		read = slices.DeleteFunc(read, func(e string) bool { return e == member })
		if add {
			read = append(read, member)
		}
		return read
	})
	if err != nil {
		return err
	}
	q.w.WriteHeader(204)
	return nil
}

func (c *Cloud) sharedImages(q *creq, member string) error {
	out := sharedImagesReply{SharedImages: []sharedImage{}}
	err := c.store.view(func(t *txn) error {
		for _, v := range t.visibleImages(q.u.UUID) {
			if !v.public() && v.acct == member {
				out.SharedImages = append(out.SharedImages, sharedImage{ImageID: v.rec.ID})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, 200, out)
	return nil
}
