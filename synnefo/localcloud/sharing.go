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
			if len(e) > 256 { // Synnefo's permission holders are at most 256 characters
				return nil, bad
			}
			if e != "" && !slices.Contains(entries, e) {
				entries = append(entries, e)
			}
		}
		if len(entries) == 0 {
			return nil, bad
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

// access is what a user may do with an object, and the permissions that
// govern it.
type access struct {
	read, write bool
	perms       *perms // the governing permissions (own or inherited); nil if none
	sharedBy    string // account/container/path they are inherited from, if not the object's own
}

func isDirType(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	return ct == "application/directory" || ct == "application/folder"
}

// governing finds the permissions of acct/cont/name (§12): the object's own,
// else those of the nearest directory object above it, where a marker "d/"
// comes before "d" (Synnefo's access_inherit candidates, longest first).
func (t *txn) governing(acct, cont, name string) (string, *perms) {
	check := func(n string, mustBeDir bool) *perms {
		if t.tx.Bucket(bShared).Get(okey(acct, cont, n)) == nil {
			return nil
		}
		rec, ok := t.object(acct, cont, n)
		if !ok || rec.Sharing == nil || (mustBeDir && !isDirType(rec.Type)) {
			return nil
		}
		return rec.Sharing
	}
	if p := check(name, false); p != nil {
		return name, p
	}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '/' {
			continue
		}
		for _, n := range []string{name[:i+1], name[:i]} {
			if n == name {
				continue
			}
			if p := check(n, true); p != nil {
				return n, p
			}
		}
	}
	return "", nil
}

// accessFor tells what user may do with acct/cont/name.
func (t *txn) accessFor(acct, cont, name, user string) access {
	path, p := t.governing(acct, cont, name)
	a := access{perms: p}
	if p != nil && path != name {
		a.sharedBy = acct + "/" + cont + "/" + path
	}
	if user == acct {
		a.read, a.write = true, true
		return a
	}
	if p != nil {
		a.write = t.grants(p.Write, user)
		a.read = a.write || t.grants(p.Read, user)
	}
	return a
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
