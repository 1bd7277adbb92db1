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

// readAccount reads acct as user may see it (q.owner: user owns it): its
// metadata and usage at q.until, and with listing the page q of its
// containers. precond checks the account's mtime (the request's
// preconditions) before the listing is read.
func (t *txn) readAccount(acct, user string, q containerQuery, listing bool, precond func(mtime int64) *fault) (accountRead, error) {
	var ar accountRead
	var ok bool
	if ar.rec, ok = t.account(acct); !ok {
		return ar, forbidden("Not allowed")
	}
	ar.meta = ar.rec.Meta
	if !q.owner {
		var err error
		if q.visible, err = t.visibleContainers(acct, user, q.public); err != nil {
			return ar, err
		}
	}
	if q.until != 0 {
		ar.meta = t.metaAt(accountHistKey(acct), q.until, ar.rec.Meta)
	}
	ar.count, ar.used = t.accountUsage(acct, q.until)
	if f := precond(ar.rec.Mtime); f != nil {
		return ar, f
	}
	if listing {
		ar.names, ar.rows = t.listContainers(acct, q)
	}
	return ar, nil
}

// visibleContainers are the containers of acct with objects shared with
// user, who is not the owner (the owner sees all: the handler does not ask).
// A listing of public containers only is refused to such a user.
func (t *txn) visibleContainers(acct, user string, publicOnly bool) (map[string]bool, error) {
	visible := map[string]bool{}
	t.sharedWith([]byte(acct+"\x00"), user, func(k []byte, _ *objectRec) bool {
		_, cont, _ := splitKey(k)
		visible[cont] = true
		return true
	})
	if len(visible) == 0 || publicOnly {
		return nil, forbidden("Not allowed")
	}
	return visible, nil
}

// accountUsage counts an account's containers and their bytes (at until,
// when given).
func (t *txn) accountUsage(acct string, until int64) (count int, used int64) {
	t.containers(acct, "", func(name string, cr *containerRec) bool {
		if until != 0 && !cr.existedAt(until) {
			return true
		}
		count++
		if until != 0 {
			used += t.containerAt(acct, name, cr, until).bytes
		} else {
			used += cr.Bytes
		}
		return true
	})
	return count, used
}

// containerQuery selects one page of an account's containers: after
// marker, at most limit, only those with shared or public objects when
// asked, as they were at until (unix ns) when not 0. A caller who is not
// the owner sees only the visible ones.
type containerQuery struct {
	marker         string
	limit          int
	owner          bool
	visible        map[string]bool
	shared, public bool
	until          int64
}

// listContainers is one page of acct's container listing: the names and
// their rows (name and date for a caller the containers are shared with;
// counts and policy for the owner).
func (t *txn) listContainers(acct string, q containerQuery) (names []string, rows []listingRow) {
	t.containers(acct, q.marker, func(name string, cr *containerRec) bool {
		if !q.owner && !q.visible[name] || q.until != 0 && !cr.existedAt(q.until) {
			return true
		}
		if q.shared || q.public {
			if !t.containerHas(acct, name, q.shared, q.public) {
				return true
			}
		}
		names = append(names, name)
		if !q.owner {
			rows = append(rows, accountRow{Name: name, LastModified: isoDate(cr.Mtime)})
			return len(names) < q.limit
		}
		row := containerRow{
			Name: name, Count: cr.Count, Bytes: cr.Bytes, LastModified: isoDate(cr.Mtime),
			Policy: containerPolicy{Quota: itoa(cr.Quota), Versioning: cr.Versioning, Project: cr.Project},
		}
		if q.until != 0 {
			at := t.containerAt(acct, name, cr, q.until)
			row.Count, row.Bytes, row.LastModified = at.count, at.bytes, isoDate(at.mtime)
			row.UntilTimestamp = httpDate(q.until)
		}
		rows = append(rows, row)
		return len(names) < q.limit
	})
	return names, rows
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

// containerHas reports whether a container holds shared or public objects.
func (t *txn) containerHas(acct, cont string, shared, public bool) bool {
	found := false
	it := t.iterAt(acct, cont, 0)
	for name, rec := it.seek(""); rec != nil; name, rec = it.next() {
		_ = name
		if shared && rec.Sharing != nil || public && rec.Public != "" {
			found = true
			break
		}
	}
	return found
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
