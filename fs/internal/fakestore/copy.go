package fakestore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/object"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// CopyObject copies an object (with opts.Delimiter, its subtree) server-side.
func (s *Store) CopyObject(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts pithos.CopyOptions) (*object.PutResult, error) {
	return s.copy(ctx, "CopyObject", srcContainer, srcName, dstContainer, dstName, opts, false)
}

// MoveObject moves an object (with opts.Delimiter, its subtree) server-side,
// keeping its uuid.
func (s *Store) MoveObject(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts pithos.CopyOptions) (*object.PutResult, error) {
	return s.copy(ctx, "MoveObject", srcContainer, srcName, dstContainer, dstName, opts, true)
}

// copy is CopyObject and MoveObject: all pairs in one step, as the
// server's one transaction.
func (s *Store) copy(ctx context.Context, op, srcCont, srcName, dstCont, dstName string, opts pithos.CopyOptions, move bool) (*object.PutResult, error) {
	if err := s.enter(ctx, op, dstCont, dstName); err != nil {
		return nil, err
	}
	defer s.unlock()
	src := s
	if opts.SourceAccount != "" {
		src = s.WithAccount(opts.SourceAccount)
	}
	sct, err := src.container("PUT", srcCont)
	if err != nil {
		return nil, err
	}
	dct, err := s.container("PUT", dstCont)
	if err != nil {
		return nil, err
	}
	get := object.GetOptions{}
	if !move {
		get.Version = opts.SourceVersion
	}
	first, err := src.read("PUT", srcCont, srcName, get)
	if err != nil {
		return nil, err
	}
	target := dct.objects[dstName]
	if opts.UseMethod {
		target = first
	}
	if err := s.checkWrite("PUT", dstCont, dstName, target, opts.Conditions); err != nil {
		return nil, err
	}
	type pair struct {
		from, to string
		v        *version
	}
	pairs := []pair{{srcName, dstName, first}}
	if opts.Delimiter != "" {
		prefix := srcName + opts.Delimiter
		for _, n := range sct.sortedNames() {
			if strings.HasPrefix(n, prefix) {
				pairs = append(pairs, pair{n, dstName + opts.Delimiter + n[len(prefix):], sct.objects[n]})
			}
		}
	}
	var res *object.PutResult
	for _, p := range pairs {
		r := s.copyOne(sct, dct, src.account == s.account && srcCont == dstCont && p.from == p.to, p.from, p.to, p.v, opts, move)
		if res == nil {
			res = r
		}
	}
	return res, nil
}

// copyOne writes one copied or moved version (under mu); a move onto
// itself changes nothing.
func (s *Store) copyOne(sct, dct *container, onto bool, from, to string, src *version, opts pithos.CopyOptions, move bool) *object.PutResult {
	edits := opts.ContentType != "" || len(opts.Meta) > 0 || opts.Sharing != nil || opts.Public != nil
	if move && onto && !edits {
		return &object.PutResult{ETag: src.info.ETag, Version: src.info.Version}
	}
	v := &version{hashes: src.hashes, info: *infoOf(src)}
	v.info.Name = to
	v.info.Meta = mergeMeta(src.info.Meta, opts.Meta, false)
	if opts.ContentType != "" && !opts.IgnoreContentType {
		v.info.ContentType = opts.ContentType
	}
	v.info.Sharing, v.info.Public = object.Sharing{}, ""
	if cur := dct.objects[to]; cur != nil {
		v.info.Sharing, v.info.Public = cur.info.Sharing, cur.info.Public
	}
	switch {
	case move:
	case !onto:
		v.info.UUID = fmt.Sprintf("uuid-%d", s.c.next()) // a copy is a new object
	}
	v.share(opts.Sharing, opts.Public)
	if move && !onto {
		delete(sct.objects, from)
	}
	now := s.c.tick()
	v.info.Version, v.info.VersionTimestamp, v.info.LastModified, v.info.ModifiedBy = s.c.next(), now, now, s.account
	dct.set(to, v)
	return &object.PutResult{ETag: v.info.ETag, Version: v.info.Version}
}

// DeleteObject deletes an object (with opts.Delimiter, also its subtree);
// its versions stay (Pithos+ history).
func (s *Store) DeleteObject(ctx context.Context, container, name string, opts pithos.DeleteOptions) error {
	if err := s.enter(ctx, "DeleteObject", container, name); err != nil {
		return err
	}
	defer s.unlock()
	ct, _, err := s.object("DELETE", container, name)
	if err != nil {
		return err
	}
	delete(ct.objects, name)
	if opts.Delimiter != "" {
		for _, n := range ct.sortedNames() {
			if strings.HasPrefix(n, name+opts.Delimiter) {
				delete(ct.objects, n)
			}
		}
	}
	s.c.tick()
	return nil
}

// RestoreVersion copies version v over container/name server-side; cond
// applies to the destination.
func (s *Store) RestoreVersion(ctx context.Context, v pithos.ObjectVersion, container, name string, cond object.Conditions) (*object.PutResult, error) {
	return s.copy(ctx, "RestoreVersion", v.Container, v.Name, container, name,
		pithos.CopyOptions{SourceVersion: v.ID, Conditions: cond}, false)
}

// SetSharing sets an object's permissions.
func (s *Store) SetSharing(ctx context.Context, container, name string, sh object.Sharing) error {
	return s.setState(ctx, "SetSharing", container, name, func(i *object.Info) { i.Sharing = sh })
}

// Publish makes an object public and returns its URL.
func (s *Store) Publish(ctx context.Context, container, name string) (string, error) {
	var url string
	err := s.setState(ctx, "Publish", container, name, func(i *object.Info) {
		if i.Public == "" {
			i.Public = "fake://public/" + i.UUID
		}
		url = i.Public
	})
	return url, err
}

// Unpublish makes an object private again.
func (s *Store) Unpublish(ctx context.Context, container, name string) error {
	return s.setState(ctx, "Unpublish", container, name, func(i *object.Info) { i.Public = "" })
}

// setState changes the current version's sharing or public state in place
// (no new version, as on the server).
func (s *Store) setState(ctx context.Context, op, container, name string, change func(*object.Info)) error {
	if err := s.enter(ctx, op, container, name); err != nil {
		return err
	}
	defer s.unlock()
	_, v, err := s.object("POST", container, name)
	if err != nil {
		return err
	}
	change(&v.info)
	return nil
}

// names returns the account's container names in order (under mu).
func (s *Store) names() []string {
	var out []string
	for n := range s.containers() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkName refuses what the server refuses as a container name.
func (s *Store) checkName(name string) error {
	if name == "" || strings.Contains(name, "/") || len(name) > 256 {
		return s.failure("PUT", name, "", fault.ErrInvalid)
	}
	return nil
}
