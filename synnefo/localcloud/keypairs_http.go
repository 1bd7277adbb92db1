package localcloud

// The key pairs API's handlers (cyclades-api.md §6): they decode a request,
// run the domain in keypairs.go and encode its reply.

func (c *Cloud) serveKeypairs(q *creq) error {
	s := q.seg
	if len(s) == 1 || len(s) == 2 && s[1] == "" {
		return route(q, map[string]func() error{
			"GET": func() error {
				out, err := c.listKeypairs(&q.caller)
				if err != nil {
					return err
				}
				writeJSON(q.w, 200, out)
				return nil
			},
			"POST": func() error { return c.createKeypair(q) },
		})
	}
	if len(s) != 2 {
		return endpointNotFound()
	}
	name := s[1]
	return route(q, map[string]func() error{
		"GET": func() error {
			kp, err := c.getKeypair(&q.caller, name)
			if err != nil {
				return err
			}
			writeJSON(q.w, 200, keypairReply[keypairDetail]{kp})
			return nil
		},
		"DELETE": func() error {
			if err := c.deleteKeypair(&q.caller, name); err != nil {
				return err
			}
			q.w.WriteHeader(204)
			return nil
		},
	})
}

// createKeypair is POST /os-keypairs {"keypair": {"name", "public_key"}}:
// without a public key the cloud generates the pair.
func (c *Cloud) createKeypair(q *creq) error {
	m, err := bodyObject(q, "keypair")
	if err != nil {
		return err
	}
	name, ok, err := str(m, "name")
	if err != nil || !ok || name == "" || len(name) > 255 {
		return badRequest("Malformed request: invalid keypair name")
	}
	pub, hasPub, err := str(m, "public_key")
	if err != nil {
		return err
	}
	kp, err := c.addKeypair(&q.caller, name, pub, !hasPub)
	if err != nil {
		return err
	}
	writeJSON(q.w, 201, keypairReply[keypairSummary]{kp})
	return nil
}
