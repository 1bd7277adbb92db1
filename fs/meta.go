package fs

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// POSIX attributes (mode, owner, mtime, atime, device number) of objects.
//
// They are stored in one compact token, e.g. "m755.u1000.g1000.t1700000000123456789"
// (octal permission bits, uid, gid, mtime in ns, atime in ns ("a…", only when set
// explicitly: reads do not move it), the device number of a device node ("r…"),
// and "x" when the object has user xattrs, so listxattr needs no request
// otherwise; each field only when set),
// kept in two places written by the same request:
//
//   - a parameter of the object's Content-Type ("application/octet-stream;
//     pithosfs-posix=m755.t…"). Listings carry the content type (and no user
//     metadata, §7), so `ls -l` of a directory costs its listing and no HEAD
//     at all — after a remount too. This copy is the one read.
//   - the user-meta key X-Object-Meta-Posix, for other tools (HEAD shows it),
//     read back when the content type lacks the parameter.
//
// The token survives Pithos's header rules: lowercase letters, digits and
// dots only (no "~", which the server drops; nothing to case-fold or
// percent-encode), and the key "Posix" is its own normal form. Absent fields
// take the defaults: 0644 for files, 0755 for directories, the mounting
// uid/gid, Last-Modified for the mtime and the mtime for the atime.
//
// A metadata change is a new version on the server (copy-to-self, which keeps
// the object's UUID and data): chmod writes the current mtime into the token,
// so the mtime stays what it was although Last-Modified moves. That makes
// Last-Modified the ctime: every change of data or metadata is a new version,
// so the ctime needs no field of its own and survives a remount.

const (
	posixParam   = "pithosfs-posix"
	posixMetaKey = "Posix"
)

// posix is an object's stored POSIX attributes; zero fields are unset.
type posix struct {
	mode           uint32 // permission bits (07777) when hasMode
	hasMode        bool
	uid, gid       uint32
	hasUID, hasGID bool
	mtime          int64  // ns since the epoch; 0 = Last-Modified
	atime          int64  // ns since the epoch; 0 = the mtime
	rdev           uint32 // a device node's device number (fs/node_special.go)
	xattrs         bool   // the object has user.* xattrs (fs/xattr.go)
}

func (p posix) isZero() bool {
	return !p.hasMode && !p.hasUID && !p.hasGID && p.mtime == 0 && p.atime == 0 && p.rdev == 0 && !p.xattrs
}

// encode renders p as its token ("" when nothing is set).
func (p posix) encode() string {
	var parts []string
	if p.hasMode {
		parts = append(parts, "m"+strconv.FormatUint(uint64(p.mode&0o7777), 8))
	}
	if p.hasUID {
		parts = append(parts, "u"+strconv.FormatUint(uint64(p.uid), 10))
	}
	if p.hasGID {
		parts = append(parts, "g"+strconv.FormatUint(uint64(p.gid), 10))
	}
	if p.mtime != 0 {
		parts = append(parts, "t"+strconv.FormatInt(p.mtime, 10))
	}
	if p.atime != 0 {
		parts = append(parts, "a"+strconv.FormatInt(p.atime, 10))
	}
	if p.rdev != 0 {
		parts = append(parts, "r"+strconv.FormatUint(uint64(p.rdev), 10))
	}
	if p.xattrs {
		parts = append(parts, "x")
	}
	return strings.Join(parts, ".")
}

// parsePosix reads a token; unknown or malformed fields are ignored.
func parsePosix(s string) posix {
	var p posix
	for _, f := range strings.Split(strings.ToLower(strings.TrimSpace(s)), ".") {
		if f == "x" {
			p.xattrs = true
			continue
		}
		if len(f) < 2 {
			continue
		}
		v := f[1:]
		switch f[0] {
		case 'm':
			if n, err := strconv.ParseUint(v, 8, 32); err == nil {
				p.mode, p.hasMode = uint32(n)&0o7777, true
			}
		case 'u':
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				p.uid, p.hasUID = uint32(n), true
			}
		case 'g':
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				p.gid, p.hasGID = uint32(n), true
			}
		case 't':
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.mtime = n
			}
		case 'a':
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.atime = n
			}
		case 'r':
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				p.rdev = uint32(n)
			}
		}
	}
	return p
}

// splitType separates a content type's own parameter from the rest:
// base is the type with every other parameter, token our parameter's value.
func splitType(ct string) (base, token string) {
	first, rest, more := strings.Cut(ct, ";")
	var keep []string // the other parameters, trimmed, in order
	for more {
		var p string
		p, rest, more = strings.Cut(rest, ";")
		p = strings.TrimSpace(p)
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), posixParam) {
			token = strings.Trim(strings.TrimSpace(v), `"`)
			continue
		}
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return strings.TrimSpace(first), token // no allocation: every entry of a listing comes here
	}
	return strings.TrimSpace(first + "; " + strings.Join(keep, "; ")), token
}

// withPosix returns ct carrying p (replacing any previous value); the
// default type when ct is empty.
func withPosix(ct string, p posix, def string) string {
	base, _ := splitType(ct)
	if base == "" {
		base = def
	}
	if tok := p.encode(); tok != "" {
		return base + "; " + posixParam + "=" + tok
	}
	return base
}

// metaKey returns the value of a user-meta key, matched case-insensitively
// (Pithos capitalises keys, Swift title-cases them).
func metaKey(meta map[string]string, key string) (string, bool) {
	if v, ok := meta[key]; ok {
		return v, true
	}
	for k, v := range meta {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// posixOf reads an object's attributes: from its content type (listings
// and HEADs), else from its Posix meta key (HEADs only).
func posixOf(o *pithos.ObjectInfo) posix {
	if o == nil {
		return posix{}
	}
	if _, tok := splitType(o.ContentType); tok != "" {
		return parsePosix(tok)
	}
	if v, ok := metaKey(o.Meta, posixMetaKey); ok {
		return parsePosix(v)
	}
	return posix{}
}

// withPosixMeta returns meta with the Posix key set to p (removed when p is
// empty), other keys kept.
func withPosixMeta(meta map[string]string, p posix) map[string]string {
	out := maps.Clone(meta)
	if out == nil {
		out = map[string]string{}
	}
	for k := range out {
		if strings.EqualFold(k, posixMetaKey) {
			delete(out, k)
		}
	}
	if tok := p.encode(); tok != "" {
		out[posixMetaKey] = tok
	}
	return out
}

// apply overrides the defaults in out with the attributes that are set. The
// ctime is the caller's (the node's last change: Last-Modified, or later
// when a change waits for its commit).
func (p posix) apply(out *fuse.Attr) {
	if p.hasMode {
		out.Mode = out.Mode&^0o7777 | p.mode
	}
	if p.hasUID {
		out.Owner.Uid = p.uid
	}
	if p.hasGID {
		out.Owner.Gid = p.gid
	}
	if p.mtime != 0 {
		t := time.Unix(0, p.mtime)
		out.SetTimes(&t, &t, nil)
	}
	if p.atime != 0 {
		t := time.Unix(0, p.atime)
		out.SetTimes(&t, nil, nil)
	}
	if p.rdev != 0 {
		out.Rdev = p.rdev
	}
}

// update applies a SETATTR's mode, owner, mtime and atime to p. keepMtime is the
// current mtime, written into p when the change does not set one (so a
// chmod does not move the mtime along with Last-Modified). changed is false
// when the request sets none of them.
func (p posix) update(in *fuse.SetAttrIn, keepMtime time.Time, defMode uint32) (posix, bool) {
	changed := false
	if m, ok := in.GetMode(); ok {
		if !p.hasMode && m&0o7777 == defMode {
			// The default made explicit: nothing to store.
		} else {
			p.mode, p.hasMode = m&0o7777, true
		}
		changed = true
	}
	if u, ok := in.GetUID(); ok {
		p.uid, p.hasUID, changed = u, true, true
	}
	if g, ok := in.GetGID(); ok {
		p.gid, p.hasGID, changed = g, true, true
	}
	if t, ok := in.GetMTime(); ok {
		p.mtime, changed = t.UnixNano(), true
	}
	if t, ok := in.GetATime(); ok {
		p.atime, changed = t.UnixNano(), true
	}
	if changed && p.mtime == 0 && !keepMtime.IsZero() && !p.isZero() {
		p.mtime = keepMtime.UnixNano()
	}
	return p, changed
}

// storeAttrs writes an existing object's attributes on the server: a
// copy-to-self (the content type can only change that way on Pithos+; it
// keeps the UUID and the data), conditional on the ETag the mount knows so a
// concurrent replacement is not overwritten with old data. extraMeta is
// merged over the object's metadata ("" deletes a key).
func storeAttrs(ctx context.Context, acct *account, container, name, ctype, etag string, p posix, extraMeta map[string]string, def string) (*pithos.PutResult, error) {
	caps, err := acct.client.Capabilities(ctx, container)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	maps.Copy(meta, extraMeta)
	if tok := p.encode(); tok != "" {
		meta[posixMetaKey] = tok
	} else {
		meta[posixMetaKey] = ""
	}
	opts := pithos.CopyOptions{ContentType: withPosix(ctype, p, def), Meta: meta}
	if caps.Hashmaps && etag != "" {
		opts.IfMatch = etag
	}
	res, err := acct.client.CopyObject(ctx, container, name, container, name, opts)
	if err != nil && errors.Is(err, fault.ErrPrecondition) {
		return nil, syscall.EAGAIN
	}
	return res, err
}

var _ = (gofs.NodeSetattrer)((*dirNode)(nil))
