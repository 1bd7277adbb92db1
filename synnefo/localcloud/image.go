package localcloud

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ---- rendering ----

// detail is an /images/detail entry (§5.3).
func (v *imageView) detail() *imageDetail {
	date := planktonDate(v.obj.Mtime) // created_at == updated_at (quirk)
	return &imageDetail{
		ID: v.rec.ID, Name: v.rec.Title, Location: v.location(), Owner: v.acct,
		DiskFormat: v.rec.DiskFormat, ContainerFormat: v.rec.ContFormat,
		Size: v.size(), Checksum: v.checksum(), Status: v.status(),
		IsPublic: v.public(), IsSnapshot: v.rec.IsSnapshot,
		CreatedAt: date, UpdatedAt: date, DeletedAt: "", Properties: v.props(), Description: v.rec.Desc,
	}
}

// headers writes the HEAD-style x-image-meta-* headers (§6).
func (v *imageView) headers(h http.Header) {
	date := planktonDate(v.obj.Mtime)
	pyBool := map[bool]string{true: "True", false: "False"}
	set := func(k, val string) { h["X-Image-Meta-"+k] = []string{val} }
	set("Id", v.rec.ID)
	set("Name", quotePath(v.rec.Title))
	set("Location", v.location())
	set("Disk-Format", v.rec.DiskFormat)
	set("Container-Format", v.rec.ContFormat)
	set("Size", itoa(v.size()))
	set("Checksum", v.checksum())
	set("Created-At", date)
	set("Updated-At", date)
	set("Deleted-At", "")
	set("Status", headStatus(v.status()))
	set("Is-Public", pyBool[v.public()])
	set("Owner", v.acct)
	set("Is-Snapshot", pyBool[v.rec.IsSnapshot])
	set("Description", quotePath(v.rec.Desc))
	for k, val := range v.rec.Props {
		h["X-Image-Meta-Property-"+quotePath(strings.ReplaceAll(k, "_", "-"))] = []string{quotePath(val)}
	}
}

// ---- header parsing ----

// normKey lower-cases and maps ASCII punctuation to "_" (§3.2).
func normKey(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if c < 0x80 && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0 {
			b[i] = '_'
		}
	}
	return string(b)
}

// imageHeaders collects X-Image-Meta-* headers: params by normalised name
// and properties (decoded, normalised).
func imageHeaders(r *http.Request) (params map[string]string, props map[string]string, err error) {
	params, props = map[string]string{}, map[string]string{}
	for name, vals := range r.Header {
		wsgi := strings.ReplaceAll(strings.ToLower(name), "-", "_")
		val := strings.Join(vals, ",")
		if rest, ok := strings.CutPrefix(wsgi, "x_image_meta_property_"); ok {
			key := normKey(unquote(name[len(name)-len(rest):]))
			v := unquote(val)
			if !utf8.ValidString(key) || !utf8.ValidString(v) {
				return nil, nil, badRequest("Could not decode request as UTF-8 string")
			}
			props[key] = v
			continue
		}
		if rest, ok := strings.CutPrefix(wsgi, "x_image_meta_"); ok {
			if !utf8.ValidString(val) {
				return nil, nil, badRequest("Could not decode request as UTF-8 string")
			}
			params[normKey(rest)] = val
		}
	}
	return params, props, nil
}

func checkProps(props map[string]string) error {
	for k, v := range props {
		if len(k) > maxPropertyKeyLen {
			return badRequest("Metadata key too long: " + k)
		}
		if len(v) > maxPropertyValLen {
			return badRequest("Metadata value too long for key " + k)
		}
	}
	return nil
}

// parseLocation splits pithos://ACCOUNT/CONTAINER/PATH, decoding each part.
func parseLocation(loc string) (acct, cont, name string, ok bool) {
	rest, found := strings.CutPrefix(loc, "pithos://")
	if !found {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return unquote(parts[0]), unquote(parts[1]), unquote(parts[2]), true
}

// ---- image API ----

// imageNotAllowed is Plankton's bare 405 (empty body).
func imageNotAllowed(q *creq, allow string) error {
	q.w.Header().Set("Allow", allow)
	q.w.WriteHeader(405)
	return nil
}

func (c *Cloud) serveImage(q *creq) error {
	s := q.seg
	if len(s) == 0 {
		return endpointNotFound()
	}
	m := q.r.Method
	switch {
	case s[0] == "images" && (len(s) == 1 || len(s) == 2 && s[1] == ""):
		switch m {
		case "GET":
			return c.listImages(q, false)
		case "POST":
			return c.registerImage(q)
		}
		return imageNotAllowed(q, "GET, POST")
	case s[0] == "images" && len(s) == 2 && s[1] == "detail":
		if m != "GET" {
			return imageNotAllowed(q, "GET")
		}
		return c.listImages(q, true)
	case s[0] == "images" && len(s) == 2:
		id := s[1]
		switch m {
		case "HEAD":
			return c.headImage(q, id)
		case "GET":
			q.w.WriteHeader(501)
			return nil
		case "PUT":
			return c.updateImage(q, id)
		case "DELETE":
			return c.unregisterImage(q, id)
		}
		return imageNotAllowed(q, "HEAD, GET, PUT, DELETE")
	case s[0] == "images" && len(s) == 3 && s[2] == "members":
		switch m {
		case "GET":
			return c.listMembers(q, s[1])
		case "PUT":
			return c.setMembers(q, s[1])
		}
		return imageNotAllowed(q, "GET, PUT")
	case s[0] == "images" && len(s) == 4 && s[2] == "members" && s[3] != "":
		switch m {
		case "PUT":
			return c.changeMember(q, s[1], s[3], true)
		case "DELETE":
			return c.changeMember(q, s[1], s[3], false)
		}
		return imageNotAllowed(q, "PUT, DELETE")
	case s[0] == "shared-images" && len(s) == 2 && s[1] != "":
		if m != "GET" {
			return imageNotAllowed(q, "GET")
		}
		return c.sharedImages(q, s[1])
	}
	return endpointNotFound()
}

func (c *Cloud) listImages(q *creq, detail bool) error {
	qp := q.r.URL.Query()
	key := "created_at"
	if v, ok := qp["sort_key"]; ok {
		key = v[0]
		if !slices.Contains(imageSortKeys, key) {
			return badRequest("Invalid 'sort_key' parameter")
		}
	}
	dir := "desc"
	if v, ok := qp["sort_dir"]; ok {
		dir = v[0]
		if dir != "asc" && dir != "desc" {
			return badRequest("Invalid 'sort_dir' parameter")
		}
	}
	for _, p := range []string{"size_min", "size_max"} {
		if v, ok := qp[p]; ok {
			if _, err := strconv.ParseInt(v[0], 10, 64); err != nil {
				return badRequest("Malformed request. Invalid '" + p + "' parameter")
			}
		}
	}
	rows := []*imageDetail{}
	err := c.store.view(func(t *txn) error {
		for _, v := range t.visibleImages(q.u.UUID) {
			rows = append(rows, v.detail())
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		r := rows[i].compare(rows[j], key)
		if r == 0 {
			r = strings.Compare(rows[i].ID, rows[j].ID)
		}
		if dir == "desc" {
			return r > 0
		}
		return r < 0
	})
	if detail {
		writeJSON(q.w, 200, imagesReply[*imageDetail]{rows})
		return nil
	}
	out := imagesReply[imageSummary]{Images: make([]imageSummary, 0, len(rows))}
	for _, r := range rows {
		out.Images = append(out.Images, r.summary())
	}
	writeJSON(q.w, 200, out)
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c *Cloud) headImage(q *creq, id string) error {
	var v *imageView
	err := c.store.view(func(t *txn) error {
		var f *fault
		if v, f = t.lookupImage(q.u, id); f != nil {
			return f
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.headers(q.w.Header())
	q.w.WriteHeader(200)
	return nil
}

// readOnlyParams are image fields a registration may not set (400); other
// unknown X-Image-Meta-* headers are ignored.
var readOnlyParams = []string{"status", "created_at", "updated_at", "deleted_at", "is_snapshot", "description"}

// registerImage is POST /images/ (§3).
// registration is a validated image registration (§6.1).
type registration struct {
	acct, cont, obj string // the image file
	name            string
	disk, contFmt   string
	public          bool
	params, props   map[string]string
}

func (c *Cloud) registerImage(q *creq) error {
	params, props, err := imageHeaders(q.r)
	if err != nil {
		return err
	}
	reg, err := parseRegistration(params, props)
	if err != nil {
		return err
	}
	var v *imageView
	err = c.store.update(func(t *txn) error {
		var err error
		v, err = t.register(q.u.UUID, q.now, reg)
		return err
	})
	if err != nil {
		return err
	}
	v.headers(q.w.Header())
	q.w.WriteHeader(200)
	return nil
}

// parseRegistration checks the x-image-meta-* parameters and properties of
// a registration.
func parseRegistration(params, props map[string]string) (*registration, error) {
	for k := range params {
		if slices.Contains(readOnlyParams, k) {
			return nil, badRequest("Invalid parameters")
		}
	}
	nameRaw, ok := params["name"]
	if !ok {
		return nil, badRequest("Image 'name' parameter is required")
	}
	reg := &registration{name: unquote(nameRaw), disk: "diskdump", contFmt: "bare", params: params, props: props}
	if !utf8.ValidString(reg.name) {
		return nil, badRequest("Could not decode request as UTF-8 string")
	}
	if reg.name == "" || utf8.RuneCountInString(reg.name) > 256 {
		return nil, badRequest("Invalid image name")
	}
	loc, ok := params["location"]
	if !ok {
		return nil, badRequest("'location' parameter is required")
	}
	if reg.acct, reg.cont, reg.obj, ok = parseLocation(loc); !ok {
		return nil, badRequest("Invalid location '" + loc + "'")
	}
	if _, ok := params["id"]; ok {
		return nil, badRequest("Setting the image ID is not supported")
	}
	if st, ok := params["store"]; ok && st != "pithos" {
		return nil, badRequest("Invalid store '" + st + "'")
	}
	if v, ok := params["disk_format"]; ok {
		if !slices.Contains(diskFormats, v) {
			return nil, badRequest("Invalid disk format '" + v + "'")
		}
		reg.disk = v
	}
	if v, ok := params["container_format"]; ok {
		if !slices.Contains(containerFormats, v) {
			return nil, badRequest("Invalid container format '" + v + "'")
		}
		reg.contFmt = v
	}
	reg.public = strings.EqualFold(params["is_public"], "true")
	if err := checkProps(props); err != nil {
		return nil, err
	}
	return reg, nil
}

var updateForbidden = []string{"location", "size", "checksum", "id", "store", "created_at", "updated_at", "deleted_at", "is_snapshot", "description"}

// updateImage is PUT /images/{id} (§7).
func (c *Cloud) updateImage(q *creq, id string) error {
	params, props, err := imageHeaders(q.r)
	if err != nil {
		return err
	}
	for k := range params {
		if slices.Contains(updateForbidden, k) {
			return badRequest("Invalid metadata")
		}
	}
	if v, ok := params["disk_format"]; ok && !slices.Contains(diskFormats, v) {
		return badRequest("Invalid disk format '" + v + "'")
	}
	if v, ok := params["container_format"]; ok && !slices.Contains(containerFormats, v) {
		return badRequest("Invalid container format '" + v + "'")
	}
	if err := checkProps(props); err != nil {
		return err
	}
	var v *imageView
	err = c.store.update(func(t *txn) error {
		var f *fault
		if v, f = t.lookupImage(q.u, id); f != nil {
			return f
		}
		if !t.canWrite(v, q.u.UUID) {
			return forbidden("")
		}
		r := v.rec
		if n, ok := params["name"]; ok {
			if n = unquote(n); n == "" {
				return notFound("") // deleting plankton:name unregisters; upstream rolls back with 404
			}
			r.Title = n
		}
		if d, ok := params["disk_format"]; ok {
			r.DiskFormat = d
		}
		if cf, ok := params["container_format"]; ok {
			r.ContFormat = cf
		}
		if st, ok := params["status"]; ok {
			r.Status = st
		}
		if ow, ok := params["owner"]; ok {
			r.Owner = ow
		}
		r.Props = mergeMeta(r.Props, props, false)
		if r.keys() > maxPlanktonKeys {
			return badRequest("Too many metadata items")
		}
		if pub, ok := params["is_public"]; ok {
			if v.acct != q.u.UUID {
				return forbidden("")
			}
			setPublic(v.obj, strings.EqualFold(pub, "true"))
		}
		if err := t.newImageVersion(q.u.UUID, v.acct, v.cont, v.nam, v.obj); err != nil {
			return err
		}
		return t.putImageRec(r)
	})
	if err != nil {
		return err
	}
	v.headers(q.w.Header())
	q.w.WriteHeader(200)
	return nil
}

func (c *Cloud) unregisterImage(q *creq, id string) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		v, f := t.lookupImage(q.u, id)
		if f != nil {
			return f
		}
		return t.unregister(q.u, v)
	})
}

// ---- members (§9) ----

// ---- compute's view of images (cyclades-api.md §5) ----
