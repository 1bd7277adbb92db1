package pithos

import (
	"bytes"
	"context"
	"iter"
	"net/http"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/pithosfs/pithosfs/synnefo"
)

// ListOptions filter an object listing (GET /{account}/{container}).
type ListOptions struct {
	Prefix    string // names starting with Prefix (Pithos+ strips a leading '/')
	Delimiter string // roll names up into Subdirs at the first Delimiter after Prefix
	Path      string // Pithos+: objects directly under Path/ only, no subdirs
	Marker    string // start strictly after this name
	Limit     int    // page size (default and maximum 10000); pages are followed until exhausted
	Meta      string // Pithos+ meta filter, e.g. "Mode,!Xattr-Foo,Owner=bob"
	Shared    bool   // Pithos+: only shared objects
	Public    bool   // Pithos+: only public objects
	Until     int64  // Pithos+: listing as of this Unix time
}

// Listing is the result of a listing: objects and virtual directories ("subdir" entries, which end
// with the delimiter). An object and a subdir may share a name (an "a/b/" marker object); both appear.
type Listing struct {
	Objects []ObjectInfo
	Subdirs []string
}

type listEntryJSON struct {
	Subdir           *string    `json:"subdir"`
	Name             string     `json:"name"`
	Bytes            flexInt    `json:"bytes"`
	ContentType      string     `json:"content_type"`
	Hash             string     `json:"hash"`
	XObjectHash      string     `json:"x_object_hash"`
	LastModified     string     `json:"last_modified"`
	UUID             string     `json:"x_object_uuid"`
	Version          flexInt    `json:"x_object_version"`
	VersionTimestamp flexString `json:"x_object_version_timestamp"`
	ModifiedBy       string     `json:"x_object_modified_by"`
	Sharing          string     `json:"x_object_sharing"`
	SharedBy         string     `json:"x_object_shared_by"`
	AllowedTo        string     `json:"x_object_allowed_to"`
	Public           string     `json:"x_object_public"`
}

// fill sets o, the listing's own element, from the entry (filled in place
// rather than built and copied in: an ObjectInfo is some 300 bytes, and a
// page holds up to 10 000).
func (e *listEntryJSON) fill(o *ObjectInfo) {
	*o = ObjectInfo{
		Name: e.Name, Bytes: int64(e.Bytes), ContentType: e.ContentType, Hash: e.XObjectHash, MD5: e.Hash,
		ETag: e.XObjectHash, LastModified: parseListingTime(e.LastModified), UUID: e.UUID, Version: int64(e.Version),
		VersionTimestamp: parseUnixDecimal(string(e.VersionTimestamp)), ModifiedBy: e.ModifiedBy,
		SharedBy: e.SharedBy, AllowedTo: e.AllowedTo, Public: e.Public,
	}
	if o.ETag == "" {
		o.ETag = e.Hash
	}
	o.Sharing, _ = ParseSharing(e.Sharing)
}

func (c *Client) pageSize(opts ListOptions) int {
	if opts.Limit > 0 && opts.Limit <= 10000 {
		return opts.Limit
	}
	return c.cfg.PageSize
}

// listingJSON decodes a listing page with encoding/json/v2 (the module that
// mirrors it until Go 1.27 makes it the standard library's): a third to a half
// of encoding/json's CPU for a page of 10 000 entries, where decoding was the
// daemon's largest cost of an `ls -l`. The options keep encoding/json's
// tolerance of invalid UTF-8 (replaced by U+FFFD) and of a member given twice
// (the last wins); unknown members are ignored. Member names match exactly
// (encoding/json also folds case, which costs a quarter more here): Swift and
// Pithos+ send them in lower case.
var listingJSON = jsonv2.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// pageEnd is where a page stopped: the name of its last entry and whether that was a subdir.
type pageEnd struct {
	name   string
	subdir bool
}

// afterSubdir is appended to a subdir to form the next marker: it sorts after every name under the
// subdir, so the next page neither repeats it nor can get stuck on it (a Pithos+ page of limit 1 could
// otherwise return the same subdir forever, §7).
const afterSubdir = "\U0010FFFF"

// listPage fetches one page after marker and returns it, where it ended and its raw entry count.
func (c *Client) listPage(ctx context.Context, container string, opts ListOptions, marker string) (Listing, pageEnd, int, error) {
	q := jsonQuery()
	limit := c.pageSize(opts)
	q.Set("limit", strconv.Itoa(limit))
	for k, v := range map[string]string{"prefix": opts.Prefix, "delimiter": opts.Delimiter, "path": opts.Path,
		"marker": marker, "meta": opts.Meta} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.Shared {
		q.Set("shared", "")
	}
	if opts.Public {
		q.Set("public", "")
	}
	c.setUntil(q)
	if opts.Until > 0 {
		q.Set("until", strconv.FormatInt(opts.Until, 10))
	}
	var page []listEntryJSON
	if _, err := c.http.DoDecode(ctx, &synnefo.Request{Method: http.MethodGet, Path: c.containerPath(container), Query: q,
		Success: []int{http.StatusOK, http.StatusNoContent}}, nil, func(body []byte) error {
		page = make([]listEntryJSON, 0, min(entriesHint(body), limit+1))
		return jsonv2.Unmarshal(body, &page, listingJSON)
	}); err != nil {
		return Listing{}, pageEnd{}, 0, err
	}
	l := Listing{Objects: make([]ObjectInfo, 0, len(page))}
	var end pageEnd
	for i := range page {
		e := &page[i]
		if e.Subdir != nil {
			end = pageEnd{*e.Subdir, true}
			if *e.Subdir+afterSubdir != marker { // a repeat of the previous page's last subdir
				l.Subdirs = append(l.Subdirs, *e.Subdir)
			}
			continue
		}
		end = pageEnd{e.Name, false}
		l.Objects = l.Objects[:len(l.Objects)+1]
		o := &l.Objects[len(l.Objects)-1]
		e.fill(o)
		c.versionTimes(o)
	}
	if len(l.Objects) == 0 {
		l.Objects = nil // as before presizing: no objects, no slice
	}
	if c.asOf != nil && opts.Until == 0 {
		c.remember(container, l.Objects)
	}
	return l, end, len(page), nil
}

// ObjectPages iterates over a listing one server page at a time, following markers until a page comes
// back short. Iteration stops at the first error, which is yielded.
func (c *Client) ObjectPages(ctx context.Context, container string, opts ListOptions) iter.Seq2[Listing, error] {
	return func(yield func(Listing, error) bool) {
		marker := opts.Marker
		limit := c.pageSize(opts)
		var prev pageEnd
		for {
			page, end, n, err := c.listPage(ctx, container, opts, marker)
			if err != nil {
				yield(Listing{}, err)
				return
			}
			if (len(page.Objects) > 0 || len(page.Subdirs) > 0) && !yield(page, nil) {
				return
			}
			if n < limit || end.name == "" || end == prev {
				return
			}
			prev = end
			marker = end.name
			if end.subdir {
				marker += afterSubdir
			}
		}
	}
}

// entriesHint is about how many entries a JSON listing page holds: one
// object each, so its opening braces (a brace inside a name adds one). It
// sizes the decoded page, so it need not be exact; counting one byte is
// vectorised (counting the "name" keys cost 8 % of a cold listing's CPU).
func entriesHint(body []byte) int {
	return bytes.Count(body, []byte{'{'})
}

// ListObjects returns the whole listing, de-duplicated, following markers across pages.
func (c *Client) ListObjects(ctx context.Context, container string, opts ListOptions) (*Listing, error) {
	var out *Listing
	var seenObj, seenDir map[string]bool
	for page, err := range c.ObjectPages(ctx, container, opts) {
		if err != nil {
			return nil, err
		}
		if out == nil {
			// The first page as it is: a listing of one page (up to 10 000
			// entries) needs no copy and no set of names; the server lists
			// each name once within a page.
			out = &page
			continue
		}
		if seenObj == nil {
			seenObj, seenDir = make(map[string]bool, 2*len(out.Objects)), make(map[string]bool, 2*len(out.Subdirs))
			for _, o := range out.Objects {
				seenObj[o.Name] = true
			}
			for _, d := range out.Subdirs {
				seenDir[d] = true
			}
		}
		for _, o := range page.Objects {
			if !seenObj[o.Name] {
				seenObj[o.Name] = true
				out.Objects = append(out.Objects, o)
			}
		}
		for _, d := range page.Subdirs {
			if !seenDir[d] {
				seenDir[d] = true
				out.Subdirs = append(out.Subdirs, d)
			}
		}
	}
	if out == nil {
		out = &Listing{}
	}
	return out, nil
}

// DirEntry is one entry of a directory view: an object, a virtual directory, or both merged (a marker
// object named "x" or "x/" plus the "x/" subdir).
type DirEntry struct {
	Name   string      // relative to the listed prefix, without trailing delimiter
	IsDir  bool        // a subdir, a marker object, or both
	Object *ObjectInfo // nil for a purely virtual directory
}

// ListDir lists the direct children of prefix (a directory path, "" for the container root), merging
// directory markers with their subdirs (§16.3). A prefix that ends in '/' is listed as it is: "a/" and
// "a//" are two directories ("a" and its child named ""), "/" holds the names with a leading '/'. An
// entry's Name may be empty (a name with "//", or a leading '/', at the container root); the
// directory's own marker (named prefix itself) is no entry. A name below a subdirectory the server did
// not roll up, or outside prefix, shows as that subdirectory or not at all.
func (c *Client) ListDir(ctx context.Context, container, prefix string) ([]DirEntry, error) {
	p := prefix
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	l, err := c.ListObjects(ctx, container, ListOptions{Prefix: p, Delimiter: "/"})
	if err != nil {
		return nil, err
	}
	return DirEntries(l, p), nil
}

// DirEntries is the directory view of one delimiter "/" listing of prefix
// ("" or ending in "/"): ListDir's merge of objects, markers and subdirs,
// for a listing that did not come through this client (a test fake's).
func DirEntries(l *Listing, p string) []DirEntry {
	n := len(l.Objects) + len(l.Subdirs)
	index := make(map[string]int, n)
	out := make([]DirEntry, 0, n)
	add := func(name string, dir bool, obj *ObjectInfo) {
		if i, ok := index[name]; ok {
			out[i].IsDir = out[i].IsDir || dir
			if obj != nil && (out[i].Object == nil || !strings.HasSuffix(obj.Name, "/")) {
				out[i].Object = obj
			}
			return
		}
		index[name] = len(out)
		out = append(out, DirEntry{Name: name, IsDir: dir, Object: obj})
	}
	for i := range l.Objects {
		o := &l.Objects[i]
		rel, under := strings.CutPrefix(o.Name, p)
		switch slash := strings.IndexByte(rel, '/'); {
		case !under || rel == "":
		case slash >= 0 && slash < len(rel)-1:
			add(rel[:slash], true, nil) // not rolled up into its subdir
		default:
			add(strings.TrimSuffix(rel, "/"), o.IsDir() || slash >= 0, o)
		}
	}
	for _, d := range l.Subdirs {
		if rel, under := strings.CutPrefix(d, p); under && rel != "" {
			name, _, _ := strings.Cut(rel, "/")
			add(name, true, nil)
		}
	}
	return out
}
