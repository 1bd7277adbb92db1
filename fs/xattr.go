package fs

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"maps"
	"sort"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Extended attributes of files.
//
// user.NAME is the user-meta key "Xattr-<base32 of NAME>" with the value
// "v<base64url of VALUE>". Both survive Pithos's header rules: the key
// only has letters and digits (case-folded on the server, lower-cased back
// here; "_" never appears) and the value no "~" (dropped by the server), and
// the "v" keeps an empty value from meaning "delete". Limits follow from the
// server's: a header name ≤ 128 characters (NAME ≤ 64 bytes, else
// ENAMETOOLONG), a value ≤ 256 characters (VALUE ≤ 190 bytes, else E2BIG),
// and ≤ 32 user-meta keys per object (ENOSPC beyond).
//
// user.pithos.sharing (the X-Object-Sharing grammar, "" removes) and
// user.pithos.public ("true"/"false" to publish; reads the public URL)
// map to the object's permissions. Every other namespace is answered
// EOPNOTSUPP before it reaches a node (fs/xattrprobe.go).

const (
	xattrKeyPrefix = "Xattr-"
	xattrSharing   = "user.pithos.sharing"
	xattrPublic    = "user.pithos.public"
	maxXattrName   = 64
	maxXattrValue  = 190
	maxMetaKeys    = 32
)

var xattrNameEnc = base32.HexEncoding.WithPadding(base32.NoPadding)

var (
	_ = (gofs.NodeGetxattrer)((*fileNode)(nil))
	_ = (gofs.NodeSetxattrer)((*fileNode)(nil))
	_ = (gofs.NodeRemovexattrer)((*fileNode)(nil))
	_ = (gofs.NodeListxattrer)((*fileNode)(nil))
)

func xattrKey(name string) string {
	return xattrKeyPrefix + strings.ToLower(xattrNameEnc.EncodeToString([]byte(name)))
}

// userXattrs decodes the xattrs stored in meta.
func userXattrs(meta map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range meta {
		if len(k) <= len(xattrKeyPrefix) || !strings.EqualFold(k[:len(xattrKeyPrefix)], xattrKeyPrefix) || !strings.HasPrefix(v, "v") {
			continue
		}
		name, err := xattrNameEnc.DecodeString(strings.ToUpper(k[len(xattrKeyPrefix):]))
		if err != nil {
			continue
		}
		val, err := base64.RawURLEncoding.DecodeString(v[1:])
		if err != nil {
			continue
		}
		out["user."+string(name)] = val
	}
	return out
}

// xattrInfo returns the object's current metadata (one HEAD).
func (f *fileNode) xattrInfo(ctx context.Context) (*account, string, string, *pithos.ObjectInfo, syscall.Errno) {
	acct, container, name, ok := f.where()
	if !ok {
		return nil, "", "", nil, syscall.ENOENT
	}
	info, err := acct.client.ObjectInfo(ctx, container, name, pithos.GetOptions{})
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) && f.pending() != nil {
			return acct, container, name, &pithos.ObjectInfo{Name: name}, 0 // created here, not committed yet
		}
		return nil, "", "", nil, f.sys.fail("getxattr", acct.uuid+"/"+container+"/"+name, err)
	}
	return acct, container, name, info, 0
}

func copyOut(dest, val []byte) (uint32, syscall.Errno) {
	if len(dest) == 0 {
		return uint32(len(val)), 0
	}
	if len(dest) < len(val) {
		return uint32(len(val)), syscall.ERANGE
	}
	return uint32(copy(dest, val)), 0
}

func (f *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if !strings.HasPrefix(attr, "user.") {
		return 0, syscall.ENODATA
	}
	_, _, _, info, errno := f.xattrInfo(ctx)
	if errno != 0 {
		return 0, errno
	}
	switch attr {
	case xattrSharing:
		if info.Sharing.IsZero() {
			return 0, syscall.ENODATA
		}
		return copyOut(dest, []byte(info.Sharing.String()))
	case xattrPublic:
		if info.Public == "" {
			return 0, syscall.ENODATA
		}
		return copyOut(dest, []byte(info.Public))
	}
	if v, ok := f.pendingXattrs()[attr]; ok {
		return copyOut(dest, v)
	}
	v, ok := userXattrs(info.Meta)[attr]
	if !ok {
		return 0, syscall.ENODATA
	}
	return copyOut(dest, v)
}

// pendingXattrs are the xattrs of an unflushed file's next commit.
func (f *fileNode) pendingXattrs() map[string][]byte {
	if wf := f.pending(); wf != nil && wf.Dirty() {
		return userXattrs(wf.Base().Meta)
	}
	return nil
}

// Listxattr lists the user.* xattrs: no request for an object whose stored
// attributes say it has none (ls asks every file). user.pithos.sharing and
// user.pithos.public are listed when set, on objects with xattrs; they can
// always be read by name.
func (f *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	f.mu.Lock()
	has := f.px.xattrs
	f.mu.Unlock()
	if !has && f.pendingXattrs() == nil {
		return copyOut(dest, nil)
	}
	_, _, _, info, errno := f.xattrInfo(ctx)
	if errno != 0 {
		return 0, errno
	}
	x := userXattrs(info.Meta)
	maps.Copy(x, f.pendingXattrs())
	names := make([]string, 0, len(x)+2)
	for n := range x {
		names = append(names, n)
	}
	if !info.Sharing.IsZero() {
		names = append(names, xattrSharing)
	}
	if info.Public != "" {
		names = append(names, xattrPublic)
	}
	sort.Strings(names)
	var b []byte
	for _, n := range names {
		b = append(append(b, n...), 0)
	}
	return copyOut(dest, b)
}

func (f *fileNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return f.changeXattr(ctx, attr, data, flags, false)
}

func (f *fileNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	return f.changeXattr(ctx, attr, nil, 0, true)
}

// XATTR_CREATE / XATTR_REPLACE of setxattr(2).
const (
	xattrCreate  = 1
	xattrReplace = 2
)

func (f *fileNode) changeXattr(ctx context.Context, attr string, data []byte, flags uint32, remove bool) syscall.Errno {
	if !strings.HasPrefix(attr, "user.") {
		return syscall.ENOTSUP
	}
	acct, container, name, info, errno := f.xattrInfo(ctx)
	if errno != 0 {
		return errno
	}
	full := acct.uuid + "/" + container + "/" + name
	if attr == xattrSharing || attr == xattrPublic {
		return f.changeServerXattr(ctx, acct, container, name, attr, data, remove)
	}
	short := strings.TrimPrefix(attr, "user.")
	if len(short) == 0 || len(short) > maxXattrName {
		return syscall.ENAMETOOLONG
	}
	if len(data) > maxXattrValue {
		return syscall.E2BIG
	}
	key := xattrKey(short)
	existing := userXattrs(info.Meta)
	maps.Copy(existing, f.pendingXattrs())
	_, exists := existing[attr]
	switch {
	case remove && !exists:
		return syscall.ENODATA
	case flags&xattrCreate != 0 && exists:
		return syscall.EEXIST
	case flags&xattrReplace != 0 && !exists:
		return syscall.ENODATA
	}
	val := ""
	if !remove {
		val = "v" + base64.RawURLEncoding.EncodeToString(data)
		if !exists && len(info.Meta)+1 > maxMetaKeys {
			return syscall.ENOSPC
		}
	}
	// An unflushed file: the change goes with its commit.
	if wf := f.pending(); wf != nil && wf.Dirty() {
		return f.changePendingXattr(wf, key, val, remove)
	}
	// Else a copy-to-self that keeps the attributes and the mtime.
	f.mu.Lock()
	p, mt := f.px, f.mtime
	f.mu.Unlock()
	if p.mtime == 0 && !mt.IsZero() {
		p.mtime = mt.UnixNano()
	}
	p.xattrs = len(userXattrs(mergeMeta(info.Meta, key, val))) > 0
	res, err := storeAttrs(ctx, acct, container, name, info.ContentType, info.ETag, p, map[string]string{key: val}, defaultFileType)
	if err != nil {
		return f.sys.fail("setxattr", full, err)
	}
	f.mu.Lock()
	f.px, f.ctype = p, withPosix(info.ContentType, p, defaultFileType)
	if res != nil && res.Version > f.version {
		f.version = res.Version
	}
	f.mu.Unlock()
	if wf := f.pending(); wf != nil {
		wf.SetMeta(withPosix(info.ContentType, p, defaultFileType), withPosixMeta(mergeMeta(info.Meta, key, val), p))
	}
	f.sys.lists.invalidate(dirKeyOf(acct, container, name))
	return 0
}

// changeServerXattr sets or removes the attributes that are the server's
// own object state, not metadata: the sharing permissions and publication.
func (f *fileNode) changeServerXattr(ctx context.Context, acct *account, container, name, attr string, data []byte, remove bool) syscall.Errno {
	full := acct.uuid + "/" + container + "/" + name
	var err error
	switch attr {
	case xattrSharing:
		s := pithos.Sharing{}
		if !remove {
			if s, err = pithos.ParseSharing(string(data)); err != nil {
				return syscall.EINVAL
			}
		}
		err = acct.client.SetSharing(ctx, container, name, s)
	case xattrPublic:
		switch v := strings.TrimSpace(string(data)); {
		case !remove && v == "true":
			_, err = acct.client.Publish(ctx, container, name)
		case remove || v == "false" || len(data) == 0:
			err = acct.client.Unpublish(ctx, container, name)
		default:
			return syscall.EINVAL
		}
	}
	if err != nil {
		return f.sys.fail("setxattr", full, err)
	}
	return 0
}

// changePendingXattr sets (or, with remove, drops) the metadata key of a
// user attribute in an unflushed file's pending metadata: it reaches the
// server with the file's commit.
func (f *fileNode) changePendingXattr(wf *writeback.File, key, val string, remove bool) syscall.Errno {
	b := wf.Base()
	meta := maps.Clone(b.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	for k := range meta {
		if strings.EqualFold(k, key) {
			delete(meta, k)
		}
	}
	if !remove {
		if len(meta)+1 > maxMetaKeys {
			return syscall.ENOSPC
		}
		meta[key] = val
	}
	f.mu.Lock()
	f.px.xattrs, f.pxLocal = len(userXattrs(meta)) > 0, true
	p := f.px
	f.mu.Unlock()
	wf.SetMeta(withPosix(b.ContentType, p, defaultFileType), withPosixMeta(meta, p))
	return 0
}

// mergeMeta returns meta with key set to val ("" removes it).
func mergeMeta(meta map[string]string, key, val string) map[string]string {
	out := maps.Clone(meta)
	if out == nil {
		out = map[string]string{}
	}
	for k := range out {
		if strings.EqualFold(k, key) {
			delete(out, k)
		}
	}
	if val != "" {
		out[key] = val
	}
	return out
}

// Directories and symlinks have no xattrs: reads find none, writes are not
// supported (ENOTSUP, which cp -a and rsync -X take as "no ACLs here",
// unlike go-fuse's default ENOATTR).

var (
	_ = (gofs.NodeGetxattrer)((*dirNode)(nil))
	_ = (gofs.NodeSetxattrer)((*dirNode)(nil))
	_ = (gofs.NodeRemovexattrer)((*dirNode)(nil))
	_ = (gofs.NodeListxattrer)((*dirNode)(nil))
	_ = (gofs.NodeGetxattrer)((*symlinkNode)(nil))
	_ = (gofs.NodeSetxattrer)((*symlinkNode)(nil))
	_ = (gofs.NodeRemovexattrer)((*symlinkNode)(nil))
	_ = (gofs.NodeListxattrer)((*symlinkNode)(nil))
)

func (d *dirNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

func (d *dirNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.ENOTSUP
}

func (d *dirNode) Removexattr(ctx context.Context, attr string) syscall.Errno { return syscall.ENOTSUP }

func (d *dirNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) { return 0, 0 }

func (l *symlinkNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

func (l *symlinkNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.ENOTSUP
}

func (l *symlinkNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	return syscall.ENOTSUP
}

func (l *symlinkNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return 0, 0
}
