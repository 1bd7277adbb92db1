package localcloud

import (
	"bytes"
	"slices"
	"strings"
)

// parseSharing parses an X-Object-Sharing request value (§12): "" removes
// all permissions (nil, true); otherwise read=<list> and/or write=<list>.
func parseSharing(v string) (*perms, *fault) {
	v = strings.ReplaceAll(v, " ", "")
	if v == "" {
		return nil, nil
	}
	bad := badRequest("Bad X-Object-Sharing header value: " + v)
	p := &perms{}
	for _, part := range strings.Split(v, ";") {
		key, list, ok := strings.Cut(part, "=")
		if !ok || list == "" {
			return nil, bad
		}
		var entries []string
		for _, e := range strings.Split(strings.ToLower(list), ",") {
			if e == "" {
				return nil, bad
			}
			if !slices.Contains(entries, e) {
				entries = append(entries, e)
			}
		}
		if slices.Contains(entries, "*") {
			entries = []string{"*"}
		}
		switch key {
		case "read":
			p.Read = entries
		case "write":
			p.Write = entries
		default:
			return nil, bad
		}
	}
	// Entries in both lists are kept only in write.
	p.Read = slices.DeleteFunc(p.Read, func(e string) bool { return slices.Contains(p.Write, e) })
	if len(p.Read) == 0 && len(p.Write) == 0 {
		return nil, nil
	}
	return p, nil
}

// String renders permissions as Pithos replies them: "read=a,b; write=c".
func (p *perms) String() string {
	var parts []string
	if len(p.Read) > 0 {
		parts = append(parts, "read="+strings.Join(p.Read, ","))
	}
	if len(p.Write) > 0 {
		parts = append(parts, "write="+strings.Join(p.Write, ","))
	}
	return strings.Join(parts, "; ")
}

// grants reports whether a permission list names the user, directly, as
// "*" or through a group "owner:group" of the owner's account.
func (t *txn) grants(list []string, user string) bool {
	for _, e := range list {
		if e == "*" || e == user {
			return true
		}
		if owner, group, ok := strings.Cut(e, ":"); ok {
			a, _ := t.account(owner)
			if slices.Contains(a.Groups[group], user) {
				return true
			}
		}
	}
	return false
}

// access is what a non-owner may do with an object.
type access struct {
	read, write bool
	sharedBy    string // account/container/path the permissions come from
}

func isDirType(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	return ct == "application/directory" || ct == "application/folder"
}

// accessFor finds the permissions governing acct/cont/name for user: the
// object's own, else those of the nearest directory object above it.
func (t *txn) accessFor(acct, cont, name, user string) access {
	if user == acct {
		return access{read: true, write: true}
	}
	check := func(n string, mustBeDir bool) (access, bool) {
		if t.tx.Bucket(bShared).Get(okey(acct, cont, n)) == nil {
			return access{}, false
		}
		rec, ok := t.object(acct, cont, n)
		if !ok || rec.Sharing == nil || (mustBeDir && !isDirType(rec.Type)) {
			return access{}, false
		}
		w := t.grants(rec.Sharing.Write, user)
		return access{read: w || t.grants(rec.Sharing.Read, user), write: w, sharedBy: acct + "/" + cont + "/" + n}, true
	}
	if a, ok := check(name, false); ok {
		return a
	}
	for n := name; ; {
		i := strings.LastIndexByte(n, '/')
		if i <= 0 {
			return access{}
		}
		n = n[:i]
		if a, ok := check(n, true); ok {
			return a
		}
	}
}

// sharedWith calls fn for each object key in the shared index under prefix
// whose permissions let user read it (directory objects cover their subtree).
func (t *txn) sharedWith(prefix []byte, user string, fn func(key []byte, rec *objectRec) bool) {
	cur := t.tx.Bucket(bShared).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		var rec objectRec
		if !getJSON(t.tx.Bucket(bObjects), k, &rec) || rec.Sharing == nil {
			continue
		}
		if !t.grants(rec.Sharing.Read, user) && !t.grants(rec.Sharing.Write, user) {
			continue
		}
		if !fn(k, &rec) {
			return
		}
	}
}

// splitKey splits an object key into account, container and name.
func splitKey(k []byte) (acct, cont, name string) {
	parts := strings.SplitN(string(k), "\x00", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}
