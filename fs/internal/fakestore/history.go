package fakestore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
)

// HistoryOf says the container keeps Pithos+ versions, or
// pithos.ErrNoHistory for versioning "none".
func (s *Store) HistoryOf(ctx context.Context, container string) (pithos.History, error) {
	if err := s.enter(ctx, "HistoryOf", container, ""); err != nil {
		return pithos.History{}, err
	}
	defer s.unlock()
	ct, err := s.container("HEAD", container)
	if err != nil {
		return pithos.History{}, err
	}
	if ct.versioning == "none" {
		return pithos.History{}, fmt.Errorf("%s: versioning none: %w", container, pithos.ErrNoHistory)
	}
	return pithos.History{Pithos: true}, nil
}

// ObjectVersions returns the versions of container/name, newest first, the
// current one included; a name that never existed has none.
func (s *Store) ObjectVersions(ctx context.Context, _ pithos.History, container, name string, _ map[int64]pithos.ObjectVersion) ([]pithos.ObjectVersion, error) {
	if err := s.enter(ctx, "ObjectVersions", container, name); err != nil {
		return nil, err
	}
	defer s.unlock()
	ct, err := s.container("GET", container)
	if err != nil {
		return nil, err
	}
	var out []pithos.ObjectVersion
	cur := ct.objects[name]
	for _, v := range slices.Backward(ct.history[name]) {
		out = append(out, pithos.ObjectVersion{ID: v.info.Version, Time: v.info.VersionTimestamp,
			Bytes: v.info.Bytes, ETag: v.info.ETag, Current: v == cur, Container: container, Name: name})
	}
	return out, nil
}

// DeletedEntries returns the deleted children of directory prefix: names
// with versions and no current object (files), and the directories below
// prefix holding such names. The fake knows every deleted name, so known
// adds nothing.
func (s *Store) DeletedEntries(ctx context.Context, _ pithos.History, container, prefix string, _ time.Time, _ []string) (files, dirs []string, err error) {
	if err := s.enter(ctx, "DeletedEntries", container, prefix); err != nil {
		return nil, nil, err
	}
	defer s.unlock()
	ct, err := s.container("GET", container)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for name, vs := range ct.history {
		rel, ok := strings.CutPrefix(name, prefix)
		if !ok || rel == "" || len(vs) == 0 || ct.objects[name] != nil {
			continue
		}
		if d, _, isDir := strings.Cut(rel, "/"); isDir {
			if !seen[d+"/"] {
				seen[d+"/"] = true
				dirs = append(dirs, d)
			}
		} else {
			files = append(files, rel)
		}
	}
	slices.Sort(files)
	slices.Sort(dirs)
	return files, dirs, nil
}
