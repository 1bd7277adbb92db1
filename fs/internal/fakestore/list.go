package fakestore

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// afterSubdir follows a subdir in the next page's marker (as the client
// does): it sorts after every name under the subdir.
const afterSubdir = "\U0010FFFF"

// page runs Pithos+'s listing algorithm on the container's current names
// (under mu): names after marker within prefix, rolled up at the first
// delimiter after the prefix into subdirs, at most limit rows. more says a
// full page was returned (the caller asks again after last, the marker of
// the next page).
func (ct *container) page(prefix, delim, marker string, limit int) (l pithos.Listing, last string, more bool) {
	n, lastSub := 0, ""
	for _, name := range ct.sortedNames() {
		if n >= limit {
			return l, last, true
		}
		if !strings.HasPrefix(name, prefix) || (marker != "" && name <= marker) {
			continue
		}
		if delim != "" {
			if i := strings.Index(name[len(prefix):], delim); i >= 0 {
				pos := len(prefix) + i
				if pos > 0 && pos+len(delim) < len(name) {
					sub := name[:pos+len(delim)]
					if sub != lastSub {
						l.Subdirs = append(l.Subdirs, sub)
						last, lastSub, n = sub+afterSubdir, sub, n+1
					}
					continue
				}
			}
		}
		info := infoOf(ct.objects[name])
		l.Objects = append(l.Objects, *info)
		last, n = name, n+1
	}
	return l, last, false
}

// ObjectPages lists a container page by page (Prefix, Delimiter, Marker,
// Limit; the other filters are not modelled). Each page is one call.
func (s *Store) ObjectPages(ctx context.Context, container string, opts pithos.ListOptions) iter.Seq2[pithos.Listing, error] {
	return func(yield func(pithos.Listing, error) bool) {
		limit := opts.Limit
		if limit <= 0 || limit > 10000 {
			limit = 10000
		}
		marker := opts.Marker
		for {
			if err := s.enter(ctx, "ObjectPages", container, opts.Prefix); err != nil {
				yield(pithos.Listing{}, err)
				return
			}
			ct, err := s.container("GET", container)
			var l pithos.Listing
			var more bool
			if err == nil {
				l, marker, more = ct.page(opts.Prefix, opts.Delimiter, marker, limit)
			}
			s.unlock()
			if err != nil {
				yield(pithos.Listing{}, err)
				return
			}
			if (len(l.Objects) > 0 || len(l.Subdirs) > 0) && !yield(l, nil) || !more {
				return
			}
		}
	}
}

// ListDir lists the direct children of prefix, as the client's ListDir.
func (s *Store) ListDir(ctx context.Context, container, prefix string) ([]pithos.DirEntry, error) {
	p := prefix
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if err := s.enter(ctx, "ListDir", container, p); err != nil {
		return nil, err
	}
	defer s.unlock()
	ct, err := s.container("GET", container)
	if err != nil {
		return nil, err
	}
	l, _, _ := ct.page(p, "/", "", 1<<30)
	return pithos.DirEntries(&l, p), nil
}

// ListContainers lists the account's containers.
func (s *Store) ListContainers(ctx context.Context) ([]pithos.ContainerEntry, error) {
	if err := s.enter(ctx, "ListContainers", "", ""); err != nil {
		return nil, err
	}
	defer s.unlock()
	var out []pithos.ContainerEntry
	for _, n := range s.names() {
		ct := s.containers()[n]
		e := pithos.ContainerEntry{Name: n, LastModified: ct.created,
			Policy: pithos.ContainerPolicy{Versioning: ct.versioning}}
		for _, v := range ct.objects {
			e.Count++
			e.Bytes += v.info.Bytes
		}
		out = append(out, e)
	}
	return out, nil
}

// CreateContainer creates a container; false when it existed.
func (s *Store) CreateContainer(ctx context.Context, name string, opts pithos.CreateContainerOptions) (bool, error) {
	if err := s.enter(ctx, "CreateContainer", name, ""); err != nil {
		return false, err
	}
	defer s.unlock()
	if err := s.checkName(name); err != nil {
		return false, err
	}
	if s.containers()[name] != nil {
		return false, nil
	}
	v := opts.Versioning
	if v == "" {
		v = "auto"
	}
	s.containers()[name] = &container{created: s.c.tick(), versioning: v,
		objects: map[string]*version{}, history: map[string][]*version{}}
	return true, nil
}

// DeleteContainer deletes an empty container (fault.ErrNotEmpty when it is
// not, as the client reports the server's 409); AllObjects empties it.
func (s *Store) DeleteContainer(ctx context.Context, container string, opts pithos.DeleteContainerOptions) error {
	if err := s.enter(ctx, "DeleteContainer", container, ""); err != nil {
		return err
	}
	defer s.unlock()
	ct, err := s.container("DELETE", container)
	if err != nil {
		return err
	}
	if opts.AllObjects {
		clear(ct.objects)
		return nil
	}
	if len(ct.objects) > 0 {
		return fmt.Errorf("pithos: container %s: %w (%w)", container, fault.ErrNotEmpty,
			s.failure("DELETE", container, "", fault.ErrConflict))
	}
	delete(s.containers(), container)
	return nil
}

// Capabilities says the fake is Pithos+: hashmaps, its block size, sha256.
func (s *Store) Capabilities(ctx context.Context, container string) (pithos.Capabilities, error) {
	if err := s.enter(ctx, "Capabilities", container, ""); err != nil {
		return pithos.Capabilities{}, err
	}
	defer s.unlock()
	if _, err := s.container("HEAD", container); err != nil {
		return pithos.Capabilities{}, err
	}
	return pithos.Capabilities{Hashmaps: true, BlockSize: s.c.BlockSize, BlockHash: hashmap.DefaultBlockHash}, nil
}

// AccountInfo reports the account's containers and bytes (no quota).
func (s *Store) AccountInfo(ctx context.Context) (*pithos.AccountInfo, error) {
	if err := s.enter(ctx, "AccountInfo", "", ""); err != nil {
		return nil, err
	}
	defer s.unlock()
	info := &pithos.AccountInfo{LastModified: s.c.now}
	for _, ct := range s.containers() {
		info.ContainerCount++
		for _, v := range ct.objects {
			info.BytesUsed += v.info.Bytes
		}
	}
	return info, nil
}

// ListSharingAccounts lists the accounts with an object shared with this
// one (read or write permission naming it, or "*").
func (s *Store) ListSharingAccounts(ctx context.Context) ([]pithos.SharingAccount, error) {
	if err := s.enter(ctx, "ListSharingAccounts", "", ""); err != nil {
		return nil, err
	}
	defer s.unlock()
	var out []pithos.SharingAccount
	for acct, cts := range s.c.accounts {
		if acct != s.account && sharesWith(cts, s.account) {
			out = append(out, pithos.SharingAccount{Name: acct, LastModified: s.c.now})
		}
	}
	return out, nil
}

func sharesWith(cts map[string]*container, account string) bool {
	for _, ct := range cts {
		for _, v := range ct.objects {
			for _, m := range append(append([]string(nil), v.info.Sharing.Read...), v.info.Sharing.Write...) {
				if m == account || m == "*" {
					return true
				}
			}
		}
	}
	return false
}
