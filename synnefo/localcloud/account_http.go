package localcloud

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// listAccounts is GET on the top level: accounts sharing something with the user.
func (c *Cloud) listAccounts(p *preq) error {
	marker := p.q.Get("marker")
	limit := limitParam(p.q)
	var names []string
	var rows []listingRow
	err := c.store.view(func(t *txn) error {
		seen := map[string]bool{}
		t.sharedWith(nil, p.user.UUID, func(k []byte, _ *objectRec) bool {
			acct, _, _ := splitKey(k)
			if acct != p.user.UUID {
				seen[acct] = true
			}
			return true
		})
		for a := range seen {
			if a > marker {
				names = append(names, a)
			}
		}
		sort.Strings(names)
		if len(names) > limit {
			names = names[:limit]
		}
		for _, a := range names {
			rec, _ := t.account(a)
			rows = append(rows, accountRow{Name: a, LastModified: isoDate(rec.Mtime)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeListing(p, names, rows, "accounts", [2]string{})
	return nil
}

// accountRead is what a GET or HEAD of an account reads in one transaction.
type accountRead struct {
	rec   *accountRec
	meta  map[string]string // at until, when given
	names []string          // the listing (GET)
	rows  []listingRow
	count int
	used  int64
}

func (c *Cloud) serveAccount(p *preq) error {
	if p.r.Method == http.MethodPost {
		return c.postAccount(p)
	}
	until := untilParam(p.q)
	if !p.owner() && until != 0 {
		return forbidden("Not allowed")
	}
	listing := p.r.Method == http.MethodGet
	if p.owner() {
		if err := c.ensureAccount(p.acct); err != nil {
			return err
		}
	}
	var ar accountRead
	err := c.store.view(func(t *txn) error {
		var err error
		q := containerQuery{
			marker: p.q.Get("marker"), limit: limitParam(p.q), owner: p.owner(),
			shared: flag(p.q, "shared"), public: flag(p.q, "public"), until: until,
		}
		precond := func(mtime int64) *fault { return checkTimePreconditions(p.h, mtime) }
		ar, err = t.readAccount(p.acct, p.userID(), q, listing, precond)
		return err
	})
	if err != nil {
		return err
	}
	c.accountHeaders(p, &ar, until)
	if !listing {
		p.w.WriteHeader(204)
		return nil
	}
	writeListing(p, ar.names, ar.rows, "account", [2]string{"name", p.acct})
	return nil
}

// accountHeaders sets the headers of an account GET or HEAD.
func (c *Cloud) accountHeaders(p *preq, ar *accountRead, until int64) {
	h := p.w.Header()
	mtime := ar.rec.Mtime
	if until != 0 {
		mtime = min(mtime, until)
	}
	h.Set("Last-Modified", httpDate(mtime))
	if !p.owner() {
		return
	}
	h.Set("X-Account-Container-Count", strconv.Itoa(ar.count))
	h.Set("X-Account-Bytes-Used", itoa(ar.used))
	c.accountQuotaHeaders(h, p.user)
	if until != 0 {
		h.Set("X-Account-Until-Timestamp", httpDate(until))
	}
	for k, v := range ar.meta {
		setHeader(h, k, v)
	}
	for g, members := range ar.rec.Groups {
		// Synnefo's format_header_key: X-Account-Group-Pithosdev.
		setHeader(h, "X-Account-Group-"+formatMetaKey(g), strings.Join(members, ","))
	}
}

// ensureAccount creates the owner's account on first access (a write only
// the first time).
func (c *Cloud) ensureAccount(acct string) error {
	exists := false
	c.store.view(func(t *txn) error { _, exists = t.account(acct); return nil })
	if exists {
		return nil
	}
	return c.store.update(func(t *txn) error { _, err := t.ensureAccount(acct); return err })
}

func (c *Cloud) postAccount(p *preq) error {
	if !p.owner() {
		return forbidden("Not allowed")
	}
	meta, f := metaFromHeaders(p.h, "X-Account-Meta-")
	if f != nil {
		return f
	}
	update := flag(p.q, "update")
	groups := map[string][]string{}
	groupsSent := false
	for name, vals := range p.h {
		g, ok := strings.CutPrefix(strings.ToLower(name), "x-account-group-")
		if !ok {
			continue
		}
		groupsSent = true
		if strings.ContainsAny(g, "-_") || g == "" {
			return badRequest("Bad characters in group name")
		}
		// Synnefo's group table holds names and members of at most 256
		// characters; a longer one fails the request with 400.
		if len(g) > 256 {
			return badRequest("Group name too long")
		}
		var members []string
		for _, m := range strings.Split(strings.ReplaceAll(strings.Join(vals, ","), " ", ""), ",") {
			if m == "" {
				continue
			}
			if len(m) > 256 {
				return badRequest("Group member name too long")
			}
			if c.byID[m] == nil {
				return badRequest("Bad X-Account-Group header value: unknown user " + m)
			}
			if !containsStr(members, m) {
				members = append(members, m)
			}
		}
		if len(members) > 32 {
			return badRequest("Too many members in group")
		}
		groups[g] = members
	}
	err := c.store.update(func(t *txn) error {
		rec, err := t.ensureAccount(p.acct)
		if err != nil {
			return err
		}
		rec.Meta = mergeMeta(rec.Meta, meta, !update)
		if len(rec.Meta) > 32 {
			return badRequest("Pithos+ resources cannot have more than 32 metadata items per domain")
		}
		if groupsSent || !update {
			if !update {
				if groupsSent {
					rec.Groups = map[string][]string{}
				}
			}
			if rec.Groups == nil {
				rec.Groups = map[string][]string{}
			}
			for g, m := range groups {
				if len(m) == 0 {
					delete(rec.Groups, g)
				} else {
					rec.Groups[g] = m
				}
			}
			if len(rec.Groups) > 32 {
				return badRequest("Too many groups")
			}
		}
		rec.Mtime = t.s.now()
		if err := t.recordMeta(accountHistKey(p.acct), rec.Mtime, rec.Meta); err != nil {
			return err
		}
		return t.putAccount(p.acct, rec)
	})
	if err != nil {
		return err
	}
	p.w.WriteHeader(202)
	return nil
}

func containsStr(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
