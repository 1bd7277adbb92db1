package localcloud

// An account's transaction steps: what a caller may see of it (its
// containers shared with them), its usage, and a page of its container
// listing, typed (containerQuery in, listingRow out). account_http.go
// decodes the request and encodes the reply.

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
