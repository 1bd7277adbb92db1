package localcloud

import (
	"sort"
	"strings"
)

// A container's transaction steps: its policy and metadata updates and its
// object listing's rows as a viewer sees them. container_http.go decodes
// the request and encodes the reply.

// updateContainer applies a container POST's policy (pol, when sent) and
// metadata: replacing them, or merging with update.
func (t *txn) updateContainer(acct, cont string, pol map[string]string, polSent bool, meta map[string]string, update bool) error {
	rec, ok := t.container(acct, cont)
	if !ok {
		return notFound("Container does not exist")
	}
	if polSent {
		if !update {
			rec.Quota, rec.Versioning, rec.Project = 0, "auto", acct
		}
		applyPolicy(rec, pol)
	}
	rec.Meta = mergeMeta(rec.Meta, meta, !update)
	if len(rec.Meta) > 32 {
		return badRequest("Pithos+ resources cannot have more than 32 metadata items per domain")
	}
	if len(meta) == 0 && update && !polSent {
		return nil // a block upload with ?update changes nothing
	}
	// A metadata or policy update is a change of the container: its
	// Last-Modified moves (Synnefo makes a new container version).
	now := t.s.now()
	if err := t.recordMeta(containerHistKey(acct, cont), now, rec.Meta); err != nil {
		return err
	}
	return t.touch(acct, cont, rec, now)
}

// withSharedUnder completes a shared listing's options: an object is also
// shared when a directory object above it in acct/cont is.
func (t *txn) withSharedUnder(acct, cont string, o listOpts) listOpts {
	if o.shared {
		o.sharedUnder = func(name string) bool {
			for n := name; ; {
				i := strings.LastIndexByte(n, '/')
				if i <= 0 {
					return false
				}
				n = n[:i]
				if r, ok := t.object(acct, cont, n); ok && r.Sharing != nil && isDirType(r.Type) {
					return true
				}
			}
		}
	}
	return o
}

// listViewer is who lists a container: its account and name, the caller,
// whether the caller owns it, and the URL public links start with.
type listViewer struct {
	acct, cont, user string
	owner            bool
	baseURL          string
}

// objectRow is an object's listing entry as v sees it.
func (t *txn) objectRow(v listViewer, name string, rec *objectRec, historic bool) objectRow {
	top, _ := topHash(rec.Hashes)
	row := objectRow{
		Name:             name,
		Bytes:            rec.Bytes,
		ContentType:      rec.Type,
		Hash:             rec.MD5,
		ObjectHash:       top,
		UUID:             rec.UUID,
		Version:          rec.ID,
		VersionTimestamp: versionTimestamp(rec.Mtime),
		ModifiedBy:       rec.ModifiedBy,
		Available:        1,
	}
	if !historic {
		row.LastModified = isoDate(rec.Mtime)
	}
	if rec.Sharing != nil {
		// A reader sees the permissions an object carries itself
		// (Synnefo's object_list: update_sharing_meta).
		s := rec.Sharing.String()
		row.Sharing = &s
	}
	if v.owner {
		if rec.Public != "" {
			row.Public = v.baseURL + "/pithos/public/" + rec.Public
		}
		return row
	}
	a := t.accessFor(v.acct, v.cont, name, v.user)
	row.SharedBy = a.sharedBy
	row.AllowedTo = "read"
	if a.write {
		row.AllowedTo = "write"
	}
	return row
}

// objectMetaKeys lists the user meta keys (without X-Object-Meta-) that
// current objects of the container use.
func (t *txn) objectMetaKeys(acct, cont string) []string {
	rec, _ := t.container(acct, cont)
	keys := make([]string, 0, len(rec.MetaKeys))
	for k, n := range rec.MetaKeys {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
