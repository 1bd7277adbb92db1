package fs

import (
	"context"
	"net/http"
	"syscall"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
)

// probeMinEntries is the size from which a lookup of a name missing from a
// directory's cached listing asks the server about that one name instead
// of listing the whole directory again.
const probeMinEntries = 1000

// lookupEntry finds name in the directory for a LOOKUP, as of at most the
// attribute TTL ago (close-to-open: a name created or changed behind the
// mount shows at the next lookup after the kernel's entry expired).
//
// A name missing from the cached listing (within the listing TTL) of a
// directory this mount changed within the attribute TTL is absent. Else a
// name in the cached listing, or any name in a small directory, is looked
// up in a listing no older than the attribute TTL, fetched again when
// older. A name missing from the cached listing (still within the listing
// TTL) of a large directory is asked about by itself: a HEAD of the object,
// then, when there is none, a one-entry listing of NAME/ for a directory.
// That is the pattern of every file creation (open with O_CREAT looks the
// new name up first, holding the directory's lock), which would otherwise
// list the whole directory again every second while files are being
// created in it, and make every other creator and reader of the directory
// wait for it.
func (d *dirNode) lookupEntry(ctx context.Context, name string) (*account, dirKey, pithos.DirEntry, bool, syscall.Errno) {
	ttl := d.sys.cfg.AttrTTL
	acct, k, l, errno := d.listing(ctx, max(ttl, d.sys.cfg.ListTTL))
	if errno != 0 {
		return nil, k, pithos.DirEntry{}, false, errno
	}
	e, ok := findEntry(l, name)
	if time.Since(l.at) < ttl || !ok && time.Since(l.changed) < ttl {
		// Fresh, or a new name in a directory this mount is writing into
		// (cp -r, tar x, many writers): taken as absent from a listing up
		// to the listing TTL old, without a request. A file made behind
		// the mount meanwhile is never overwritten: the new file's commit
		// is conditional (If-None-Match: *) and keeps a conflict copy.
		return acct, k, e, ok, 0
	}
	if ok || len(l.base.entries) < probeMinEntries {
		if acct, k, l, errno = d.listing(ctx, ttl); errno != 0 {
			return nil, k, pithos.DirEntry{}, false, errno
		}
		e, ok = findEntry(l, name)
		return acct, k, e, ok, 0
	}
	raw, kind := decodeName(name)
	if kind != nameExact {
		return acct, k, e, ok, 0 // a shortened name is known from listings only
	}
	e, ok, err := probeName(ctx, acct, k, raw)
	if err != nil {
		return nil, k, pithos.DirEntry{}, false, d.sys.fail("lookup", k.String()+"/"+name, err)
	}
	return acct, k, e, ok, 0
}

// probeName asks the server whether segment name exists in directory k:
// as an object (HEAD), else as a directory with something below it (a
// one-entry listing of NAME/). Both requests go at once: the caller may
// hold the directory's lock in the kernel.
func probeName(ctx context.Context, acct *account, k dirKey, name string) (pithos.DirEntry, bool, error) {
	path := k.under + name
	type dirResult struct {
		found bool
		err   error
	}
	dirc := make(chan dirResult, 1)
	go func() {
		for page, err := range acct.client.ObjectPages(ctx, k.container, pithos.ListOptions{Prefix: path + "/", Delimiter: "/", Limit: 1}) {
			dirc <- dirResult{found: err == nil && (len(page.Objects) > 0 || len(page.Subdirs) > 0), err: err}
			return
		}
		dirc <- dirResult{}
	}()
	info, err := acct.client.ObjectInfo(ctx, k.container, path, pithos.GetOptions{})
	dir := <-dirc
	switch {
	case err == nil:
		return pithos.DirEntry{Name: name, IsDir: info.IsDir() || dir.found, Object: info}, true, nil
	case synnefo.StatusOf(err) != http.StatusNotFound:
		return pithos.DirEntry{}, false, err
	case dir.err != nil:
		return pithos.DirEntry{}, false, dir.err
	case dir.found:
		return pithos.DirEntry{Name: name, IsDir: true}, true, nil
	}
	return pithos.DirEntry{}, false, nil
}
