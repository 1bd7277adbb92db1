// Directory operations that make a new entry: Create, Symlink, and the Link refusal.

package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Create makes a new file: nothing reaches the server until its first
// FLUSH commits it (If-None-Match: *).
func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	raw, errno := newSegment(name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, nil, 0, syscall.ENOENT
	}
	m, errno := d.sys.manager(ctx, acct)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	p := k.under + raw
	full := k.String() + "/" + raw
	caps, err := acct.client.Capabilities(ctx, k.container)
	if err != nil {
		return nil, nil, 0, d.sys.fail("create", full, err)
	}
	px := d.newPosix(ctx, mode, 0o644, false)
	base := writeback.Base{Container: k.container, Name: p, BlockSize: caps.BlockSize, BlockHash: caps.BlockHash,
		Swift: !caps.Hashmaps, ContentType: withPosix("", px, defaultFileType), Meta: withPosixMeta(nil, px)}
	if base.Swift || base.BlockSize <= 0 {
		base.BlockSize = swiftBlockSize
	}
	wf, err := m.Open(base, nil)
	if err != nil {
		return nil, nil, 0, d.sys.fail("create", full, err)
	}
	if wf.Size() > 0 || wf.Base().ETag != "" {
		// An object with unflushed changes under this name: O_CREAT opens it.
		if flags&syscall.O_EXCL != 0 {
			wf.Release()
			return nil, nil, 0, syscall.EEXIST
		}
		if flags&syscall.O_TRUNC != 0 {
			if err := wf.Truncate(ctx, 0); err != nil {
				wf.Release()
				return nil, nil, 0, d.sys.fail("create", full, err)
			}
		}
	}
	fn := &fileNode{sys: d.sys, wrote: true, size: wf.Size(), created: true, mtime: time.Now()}
	if b := wf.Base(); b.ETag == "" {
		fn.px, fn.ctype = px, b.ContentType
	}
	// A fresh number per creation: a path-based one would be the number of
	// an earlier file of that name, possibly still live under another name
	// after a rename (the kernel would then see one inode under two names
	// and skip a rename between them as a no-op).
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	ino := inoOf("created", acct.uuid, k.container, p, hex.EncodeToString(nonce[:]))
	ch := d.NewInode(ctx, fn, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: ino})
	fn.fillAttr(&out.Attr)
	out.Attr.Ino = ino
	// Nothing reached the server: the listing stays valid, and the pending
	// file shows in it through withPending until its commit puts it there.
	d.entriesChanged(0)
	return ch, &writeHandle{f: fn, wf: wf, acct: acct, path: full}, 0, 0
}

// Symlink creates a symlink object (If-None-Match: *: never over an
// existing name).
func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if len(target) > maxSymlinkTarget {
		return nil, syscall.ENAMETOOLONG
	}
	raw, errno := newSegment(name)
	if errno != 0 {
		return nil, errno
	}
	acct, k, ok := d.where()
	if !ok {
		return nil, syscall.ENOENT
	}
	px := d.newPosix(ctx, 0o777, 0o777, false)
	px.hasMode = false // a symlink's mode is always 0777
	var meta map[string]string
	if len(target) <= 256 && !strings.Contains(target, "~") {
		meta = map[string]string{symlinkMetaKey: target}
	}
	opts := pithos.PutOptions{ContentType: withPosix(symlinkType, px, symlinkType), Meta: withPosixMeta(meta, px)}
	e, errno := d.putNewEntry(ctx, acct, k, raw, "symlink", target, opts)
	if errno != 0 {
		return nil, errno
	}
	ch := d.sys.child(ctx, &d.Inode, acct, k, e, out)
	if l, ok := ch.Operations().(*symlinkNode); ok {
		l.mu.Lock()
		l.target, l.known = target, true
		l.mu.Unlock()
	}
	return ch, 0
}

// Link: objects have no hard links (link(2) answers EPERM where the file
// system does not support them), and a virtual file cannot be linked into
// a container either.
func (d *dirNode) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// putNewEntry creates object raw in directory k with body as its content,
// never over an existing name (If-None-Match: *, EEXIST), and returns its
// entry from the directory's listing: the last step of Symlink and Mknod.
func (d *dirNode) putNewEntry(ctx context.Context, acct *account, k dirKey, raw, op, body string, opts pithos.PutOptions) (pithos.DirEntry, syscall.Errno) {
	opts.Conditions = pithos.Conditions{IfNoneMatch: "*"}
	var r io.Reader // none for an empty object, as before (a reader of 0 bytes may go chunked)
	if body != "" {
		r = strings.NewReader(body)
	}
	_, err := acct.client.PutObject(ctx, k.container, k.under+raw, r, int64(len(body)), opts)
	d.sys.lists.invalidate(k)
	if err != nil {
		if errors.Is(err, fault.ErrPrecondition) {
			return pithos.DirEntry{}, syscall.EEXIST
		}
		return pithos.DirEntry{}, d.sys.fail(op, k.String()+"/"+raw, err)
	}
	d.entriesChanged(0)
	_, _, l, errno := d.listing(ctx, d.sys.cfg.ListTTL)
	if errno != 0 {
		return pithos.DirEntry{}, errno
	}
	e, ok := l.find(raw)
	if !ok {
		return pithos.DirEntry{}, syscall.ENOENT
	}
	return e, 0
}
