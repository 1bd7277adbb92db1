package pithos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// History: the versions of an object, on Pithos+ (container versioning
// "auto": every replaced or deleted version is kept, GET ?version=list) and
// on plain Swift with object versioning (X-History-Location or
// X-Versions-Location: old versions are copied into an archive container
// named "<3 hex digits: the name's length><name>/<timestamp>").

// ErrNoHistory is returned for a container that keeps no history: a Pithos+
// container with versioning "none", a Swift container with no archive.
var ErrNoHistory = errors.New("pithos: the container keeps no history")

// ObjectVersion is one version of an object, and where to read it: on
// Pithos+ the object itself at version ID, on Swift an archived copy
// (Container/Name, ID 0) or the object itself (the current version).
type ObjectVersion struct {
	ID      int64 // Pithos+ version id; 0 on Swift
	Time    time.Time
	Bytes   int64
	ETag    string
	Current bool // the object's current version

	Container, Name string // where the version's bytes are
}

// History says where a container keeps its history.
type History struct {
	Pithos  bool   // Pithos+ versioning "auto"
	Archive string // Swift: the archive container
	Mode    string // Swift: "history" (X-History-Location) or "versions" (X-Versions-Location)
}

// HistoryOf returns where container keeps its history, or ErrNoHistory.
func (c *Client) HistoryOf(ctx context.Context, container string) (History, error) {
	info, err := c.ContainerInfo(ctx, container)
	if err != nil {
		return History{}, err
	}
	if info.Hashmaps {
		if info.Policy.Versioning == "none" {
			return History{}, fmt.Errorf("%s: versioning none: %w", container, ErrNoHistory)
		}
		return History{Pithos: true}, nil
	}
	if a := decodeHeader(info.Header.Get("X-History-Location")); a != "" {
		return History{Archive: a, Mode: "history"}, nil
	}
	if a := decodeHeader(info.Header.Get("X-Versions-Location")); a != "" {
		return History{Archive: a, Mode: "versions"}, nil
	}
	return History{}, fmt.Errorf("%s: no X-History-Location or X-Versions-Location: %w", container, ErrNoHistory)
}

// ObjectVersions returns the versions of container/name, newest first,
// with their sizes, the current one included (when the object exists).
// A name that never existed gives an empty list. On Pithos+ a size costs a
// HEAD per version; pass known to reuse sizes already fetched (versions
// never change), keyed by ID.
func (c *Client) ObjectVersions(ctx context.Context, h History, container, name string, known map[int64]ObjectVersion) ([]ObjectVersion, error) {
	if !h.Pithos {
		return c.swiftVersions(ctx, h, container, name)
	}
	vs, err := c.ListVersions(ctx, container, name)
	if synnefo.StatusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cur, err := c.ObjectInfo(ctx, container, name, GetOptions{})
	if err != nil && synnefo.StatusOf(err) != http.StatusNotFound {
		return nil, err
	}
	out := make([]ObjectVersion, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if k, ok := known[v.ID]; ok {
			k.Current = cur != nil && cur.Version == v.ID
			out = append(out, k)
			continue
		}
		info, err := c.ObjectInfo(ctx, container, name, GetOptions{Version: v.ID})
		if synnefo.StatusOf(err) == http.StatusNotFound {
			continue // purged meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ObjectVersion{ID: v.ID, Time: v.Timestamp, Bytes: info.Bytes, ETag: info.ETag,
			Current: cur != nil && cur.Version == v.ID, Container: container, Name: name})
	}
	return out, nil
}

// ArchivePrefix is the prefix of name's versions in a Swift archive
// container: its length in bytes as 3 hex digits, the name and a slash.
func ArchivePrefix(name string) string { return fmt.Sprintf("%03x%s/", len(name), name) }

// isDeleteMarker reports a Swift history-mode delete marker.
func isDeleteMarker(o *ObjectInfo) bool {
	return strings.HasPrefix(o.ContentType, "application/x-deleted")
}

// archiveTime parses the timestamp after an archive name's prefix.
func archiveTime(s string) time.Time {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

func (c *Client) swiftVersions(ctx context.Context, h History, container, name string) ([]ObjectVersion, error) {
	var out []ObjectVersion
	cur, err := c.ObjectInfo(ctx, container, name, GetOptions{})
	switch {
	case err == nil:
		out = append(out, ObjectVersion{Time: cur.LastModified, Bytes: cur.Bytes, ETag: cur.ETag, Current: true,
			Container: container, Name: name})
	case synnefo.StatusOf(err) != http.StatusNotFound:
		return nil, err
	}
	prefix := ArchivePrefix(name)
	l, err := c.ListObjects(ctx, h.Archive, ListOptions{Prefix: prefix})
	if synnefo.StatusOf(err) == http.StatusNotFound {
		return out, nil // no archive yet
	}
	if err != nil {
		return nil, err
	}
	var old []ObjectVersion
	for i := range l.Objects {
		o := &l.Objects[i]
		if isDeleteMarker(o) {
			continue
		}
		t := archiveTime(strings.TrimPrefix(o.Name, prefix))
		if t.IsZero() {
			t = o.LastModified
		}
		old = append(old, ObjectVersion{Time: t, Bytes: o.Bytes, ETag: o.ETag, Container: h.Archive, Name: o.Name})
	}
	sort.SliceStable(old, func(i, j int) bool { return old[i].Time.After(old[j].Time) })
	return append(out, old...), nil
}

// deletedProbes are how far back DeletedNames looks on Pithos+, which has
// no listing of deleted names: the listing "until" each of these ago.
var deletedProbes = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour,
	14 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour}

// DeletedEntries returns the deleted children of directory prefix (""
// or ending in "/") of container: names that existed once and exist no
// more (files), and the directories holding such names. On Swift in
// history mode the archive lists every deleted name (a delete leaves a
// marker); in versions mode a delete restores the previous version, so
// only names whose every version is gone count. Pithos+ has no listing of
// deleted names: the listings of the container at a ladder of past times
// (one minute ago to a year ago) are compared with the current one, so a
// name that lived and died between two of them is missed (it can still be
// looked up by its name). known are names the caller knows it deleted
// (full object names): those under prefix count unless they live again.
func (c *Client) DeletedEntries(ctx context.Context, h History, container, prefix string, now time.Time, known []string) (files, dirs []string, err error) {
	cur, err := c.ListDir(ctx, container, prefix)
	if err != nil {
		return nil, nil, err
	}
	live := map[string]bool{}
	for _, e := range cur {
		if e.Object != nil && !e.Object.IsDir() {
			live[e.Name] = true
		}
	}
	fileSet, dirSet := map[string]bool{}, map[string]bool{}
	add := func(rel string, isDir bool) {
		if rel == "" {
			return
		}
		if isDir {
			dirSet[rel] = true
		} else if !live[rel] {
			fileSet[rel] = true
		}
	}
	for _, n := range known {
		if rel, ok := strings.CutPrefix(n, prefix); ok {
			d, _, deeper := strings.Cut(rel, "/")
			add(d, deeper)
		}
	}
	if h.Pithos {
		err = c.pithosDeleted(ctx, container, prefix, now, add)
	} else {
		err = c.swiftDeleted(ctx, h, container, prefix, add)
	}
	if err != nil {
		return nil, nil, err
	}
	return sortedKeys(fileSet), sortedKeys(dirSet), nil
}

func (c *Client) pithosDeleted(ctx context.Context, container, prefix string, now time.Time, add func(string, bool)) error {
	for _, d := range deletedProbes {
		t := now.Add(-d).Unix()
		l, err := c.ListObjects(ctx, container, ListOptions{Prefix: prefix, Delimiter: "/", Until: t})
		if synnefo.StatusOf(err) == http.StatusNotFound {
			continue // the container did not exist yet
		}
		if err != nil {
			return err
		}
		for i := range l.Objects {
			o := &l.Objects[i]
			rel := strings.TrimPrefix(o.Name, prefix)
			if !strings.Contains(rel, "/") {
				add(rel, o.IsDir())
			}
		}
		for _, d := range l.Subdirs {
			add(strings.TrimSuffix(strings.TrimPrefix(d, prefix), "/"), true)
		}
	}
	return nil
}

func (c *Client) swiftDeleted(ctx context.Context, h History, container, prefix string, add func(string, bool)) error {
	l, err := c.ListObjects(ctx, h.Archive, ListOptions{})
	if synnefo.StatusOf(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	latest := map[string]*ObjectInfo{} // object name → its newest archive entry
	for i := range l.Objects {
		o := &l.Objects[i]
		name, ts, ok := parseArchiveName(o.Name)
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		if p := latest[name]; p == nil || archiveTime(ts).After(archiveTime(lastSegment(p.Name))) {
			latest[name] = o
		}
	}
	for name, o := range latest {
		if h.Mode == "history" && !isDeleteMarker(o) {
			continue // archived because replaced, not deleted
		}
		rel := strings.TrimPrefix(name, prefix)
		if d, _, found := strings.Cut(rel, "/"); found {
			add(d, true)
		} else {
			add(rel, false)
		}
	}
	return nil
}

// parseArchiveName splits "<3 hex><name>/<timestamp>" into name and timestamp.
func parseArchiveName(s string) (name, ts string, ok bool) {
	if len(s) < 4 {
		return "", "", false
	}
	n, err := strconv.ParseUint(s[:3], 16, 32)
	if err != nil || len(s) < 3+int(n)+1 || s[3+int(n)] != '/' {
		return "", "", false
	}
	return s[3 : 3+n], s[3+n+1:], true
}

func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RestoreVersion copies version v over container/name server-side (on
// Pithos+ X-Copy-From with X-Source-Version, on Swift from the archived
// copy): no data goes through the client. Conditions apply to the
// destination (IfMatch: the version it replaces; IfNoneMatch "*": a new
// name).
func (c *Client) RestoreVersion(ctx context.Context, v ObjectVersion, container, name string, cond Conditions) (*PutResult, error) {
	return c.CopyObject(ctx, v.Container, v.Name, container, name, CopyOptions{SourceVersion: v.ID, Conditions: cond})
}
