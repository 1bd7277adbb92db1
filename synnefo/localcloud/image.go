package localcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Plankton keeps image metadata in the object's "plankton" metadata domain,
// invisible to the object-store API (image-api.md §2). Here the domain is a
// record in its own bucket keyed by the object's UUID, the image id: it
// follows the object across new versions and moves (the UUID stays), is not
// carried by copies (new UUID), is invisible through Pithos, and the image
// vanishes when the object is deleted. Visibility is the object's Pithos
// read list, exactly as upstream, and every registration or update writes a
// new object version, so updated_at is the object's version time.
type imageRec struct {
	ID         string            `json:"id"`
	Acct       string            `json:"acct"` // last known path of the object
	Cont       string            `json:"cont"`
	Name       string            `json:"name"`
	Title      string            `json:"title"` // plankton:name
	DiskFormat string            `json:"disk_format"`
	ContFormat string            `json:"container_format"`
	CreatedAt  string            `json:"created_at"` // written, never read back (quirk)
	Owner      string            `json:"owner,omitempty"`
	Status     string            `json:"status,omitempty"` // plankton:status override
	Desc       string            `json:"description,omitempty"`
	VolumeID   string            `json:"volume_id,omitempty"`
	Props      map[string]string `json:"properties,omitempty"`
	IsSnapshot bool              `json:"is_snapshot,omitempty"`
	SnapStatus string            `json:"snap_status,omitempty"` // CREATING AVAILABLE ERROR (map availability)
	SnapUntil  int64             `json:"snap_until,omitempty"`
	SnapSize   int64             `json:"snap_size,omitempty"` // bytes: the volume's size, as Synnefo registers a snapshot
}

// keys is the number of plankton domain keys the record uses.
func (r *imageRec) keys() int {
	n := 4 + len(r.Props)
	for _, s := range []string{r.Owner, r.Status, r.Desc, r.VolumeID} {
		if s != "" {
			n++
		}
	}
	return n
}

// imageView is a registered image with its object resolved.
type imageView struct {
	rec             *imageRec
	obj             *objectRec
	acct, cont, nam string
}

var (
	uuidRe            = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	diskFormats       = []string{"diskdump", "extdump", "ntfsdump"}
	containerFormats  = []string{"aki", "ari", "ami", "bare", "ovf"}
	imageSortKeys     = []string{"id", "name", "status", "size", "disk_format", "container_format", "created_at", "updated_at"}
	maxPropertyKeyLen = 93
	maxPropertyValLen = 256
	maxPlanktonKeys   = 32
)

func (t *txn) imageRec(id string) (*imageRec, bool) {
	var r imageRec
	ok := getJSON(t.tx.Bucket(bImages), []byte(id), &r)
	return &r, ok
}

func (t *txn) putImageRec(r *imageRec) error { return putJSON(t.tx.Bucket(bImages), []byte(r.ID), r) }

// objectByUUID finds the current object with a UUID: first at hint, then by
// scanning (an object moved since registration).
func (t *txn) objectByUUID(id, acct, cont, name string) (*objectRec, string, string, string, bool) {
	if acct != "" {
		if o, ok := t.object(acct, cont, name); ok && o.UUID == id {
			return o, acct, cont, name, true
		}
	}
	cur := t.tx.Bucket(bObjects).Cursor()
	needle := []byte(`"uuid":"` + id + `"`)
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if !strings.Contains(string(v), string(needle)) {
			continue
		}
		var o objectRec
		if err := json.Unmarshal(v, &o); err != nil || o.UUID != id {
			continue
		}
		a, c, n := splitKey(k)
		return &o, a, c, n, true
	}
	return nil, "", "", "", false
}

// imageByID resolves a registered image (no access check).
func (t *txn) imageByID(id string) (*imageView, bool) {
	r, ok := t.imageRec(id)
	if !ok {
		return nil, false
	}
	o, a, c, n, ok := t.objectByUUID(id, r.Acct, r.Cont, r.Name)
	if !ok {
		return nil, false
	}
	if a != r.Acct || c != r.Cont || n != r.Name {
		r.Acct, r.Cont, r.Name = a, c, n
		if t.tx.Writable() {
			if err := t.putImageRec(r); err != nil {
				return nil, false
			}
		}
	}
	return &imageView{rec: r, obj: o, acct: a, cont: c, nam: n}, true
}

func (t *txn) canRead(v *imageView, user string) bool {
	return t.accessFor(v.acct, v.cont, v.nam, user).read || v.obj.Public != ""
}

func (t *txn) canWrite(v *imageView, user string) bool {
	return t.accessFor(v.acct, v.cont, v.nam, user).write
}

// imageForUse resolves imageRef for server creation (§3.2).
func (t *txn) imageForUse(q *creq, id string) (*imageView, *fault) {
	if !uuidRe.MatchString(id) {
		return nil, badRequest("Invalid imageRef '" + id + "'")
	}
	v, ok := t.imageByID(id)
	if !ok {
		return nil, notFound("Image '" + id + "' not found")
	}
	if !t.canRead(v, q.u.UUID) {
		return nil, forbidden("Image '" + id + "' is not accessible")
	}
	return v, nil
}

// lookupImage resolves an image for the image API: 400 for a malformed
// id, 404 when unknown or unregistered, 403 without read access.
func (t *txn) lookupImage(q *creq, id string) (*imageView, *fault) {
	if !uuidRe.MatchString(id) {
		return nil, badRequest("")
	}
	v, ok := t.imageByID(id)
	if !ok {
		if _, _, _, _, exists := t.objectByUUID(id, "", "", ""); exists {
			return nil, notFound(fmt.Sprintf("Object '%s' does not exist.", id))
		}
		return nil, notFound("")
	}
	if !t.canRead(v, q.u.UUID) {
		return nil, forbidden("")
	}
	return v, nil
}

// ---- rendering ----

func (v *imageView) public() bool {
	return v.obj.Sharing != nil && slices.Contains(v.obj.Sharing.Read, "*")
}

// status is the JSON status (image-api.md §4).
func (v *imageView) status() string {
	if v.rec.Status != "" {
		return v.rec.Status
	}
	switch v.rec.SnapStatus {
	case "CREATING":
		return "UNAVAILABLE"
	case "ERROR":
		return "ERROR"
	}
	return "AVAILABLE"
}

func headStatus(s string) string {
	switch strings.ToUpper(s) {
	case "AVAILABLE":
		return "AVAILABLE"
	case "UNAVAILABLE", "SAVING":
		return "SAVING"
	case "ERROR":
		return "ERROR"
	}
	return "UNKNOWN"
}

func computeStatus(s string) string {
	switch strings.ToUpper(s) {
	case "AVAILABLE":
		return "ACTIVE"
	case "UNAVAILABLE", "SAVING":
		return "SAVING"
	case "ERROR":
		return "ERROR"
	case "DELETED":
		return "DELETED"
	}
	return "UNKNOWN"
}

// quotePath percent-encodes like Python's urllib.quote (safe "/").
func quotePath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.-/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// unquote percent-decodes leniently, like Python's urllib.unquote.
func unquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(n))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func (v *imageView) location() string {
	return "pithos://" + quotePath(v.acct) + "/" + quotePath(v.cont) + "/" + quotePath(v.nam)
}

// size is the image's size in bytes: its object's, or for a snapshot the
// size of the volume it was taken of.
func (v *imageView) size() int64 {
	if v.rec.IsSnapshot && v.rec.SnapSize > 0 {
		return v.rec.SnapSize
	}
	return v.obj.Bytes
}

func (v *imageView) checksum() string { h, _ := topHash(v.obj.Hashes); return h }

func planktonDate(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05") }

func (v *imageView) props() map[string]string {
	out := map[string]string{}
	for k, val := range v.rec.Props {
		out[k] = val
	}
	return out
}

// detailJSON is an /images/detail entry (§5.3).
func (v *imageView) detailJSON() map[string]any {
	date := planktonDate(v.obj.Mtime) // created_at == updated_at (quirk)
	m := map[string]any{
		"id": v.rec.ID, "name": v.rec.Title, "location": v.location(), "owner": v.acct,
		"disk_format": v.rec.DiskFormat, "container_format": v.rec.ContFormat,
		"size": v.size(), "checksum": v.checksum(), "status": v.status(),
		"is_public": v.public(), "is_snapshot": v.rec.IsSnapshot,
		"created_at": date, "updated_at": date, "deleted_at": "", "properties": v.props(),
	}
	if v.rec.Desc != "" {
		m["description"] = v.rec.Desc
	}
	return m
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

// visibleImages lists every registered image the caller can read.
func (t *txn) visibleImages(user string) []*imageView {
	var out []*imageView
	cur := t.tx.Bucket(bImages).Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		if v, ok := t.imageByID(string(k)); ok && t.canRead(v, user) {
			out = append(out, v)
		}
	}
	return out
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
	var rows []map[string]any
	err := c.store.view(func(t *txn) error {
		for _, v := range t.visibleImages(q.u.UUID) {
			rows = append(rows, v.detailJSON())
		}
		return nil
	})
	if err != nil {
		return err
	}
	less := func(a, b map[string]any) int {
		switch x := a[key].(type) {
		case int64:
			y := b[key].(int64)
			return cmpInt(x, y)
		default:
			return strings.Compare(fmt.Sprint(x), fmt.Sprint(b[key]))
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		r := less(rows[i], rows[j])
		if r == 0 {
			r = strings.Compare(rows[i]["id"].(string), rows[j]["id"].(string))
		}
		if dir == "desc" {
			return r > 0
		}
		return r < 0
	})
	out := []any{}
	for _, r := range rows {
		if detail {
			out = append(out, r)
			continue
		}
		out = append(out, map[string]any{
			"id": r["id"], "name": r["name"], "status": r["status"], "disk_format": r["disk_format"],
			"container_format": r["container_format"], "size": r["size"],
		})
	}
	writeJSON(q.w, 200, map[string]any{"images": out})
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
		if v, f = t.lookupImage(q, id); f != nil {
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
func (c *Cloud) registerImage(q *creq) error {
	params, props, err := imageHeaders(q.r)
	if err != nil {
		return err
	}
	for k := range params {
		if slices.Contains(readOnlyParams, k) {
			return badRequest("Invalid parameters")
		}
	}
	nameRaw, ok := params["name"]
	if !ok {
		return badRequest("Image 'name' parameter is required")
	}
	name := unquote(nameRaw)
	if !utf8.ValidString(name) {
		return badRequest("Could not decode request as UTF-8 string")
	}
	if name == "" || utf8.RuneCountInString(name) > 256 {
		return badRequest("Invalid image name")
	}
	loc, ok := params["location"]
	if !ok {
		return badRequest("'location' parameter is required")
	}
	acct, cont, obj, ok := parseLocation(loc)
	if !ok {
		return badRequest("Invalid location '" + loc + "'")
	}
	if _, ok := params["id"]; ok {
		return badRequest("Setting the image ID is not supported")
	}
	if st, ok := params["store"]; ok && st != "pithos" {
		return badRequest("Invalid store '" + st + "'")
	}
	disk := "diskdump"
	if v, ok := params["disk_format"]; ok {
		if !slices.Contains(diskFormats, v) {
			return badRequest("Invalid disk format '" + v + "'")
		}
		disk = v
	}
	contFmt := "bare"
	if v, ok := params["container_format"]; ok {
		if !slices.Contains(containerFormats, v) {
			return badRequest("Invalid container format '" + v + "'")
		}
		contFmt = v
	}
	public := strings.EqualFold(params["is_public"], "true")
	if err := checkProps(props); err != nil {
		return err
	}
	var v *imageView
	err = c.store.update(func(t *txn) error {
		if !t.accessFor(acct, cont, obj, q.u.UUID).read {
			return forbidden("")
		}
		o, ok := t.object(acct, cont, obj)
		if !ok {
			return notFound("")
		}
		if _, ok := params["size"]; ok {
			return badRequest("Invalid 'size' field")
		}
		if sum, ok := params["checksum"]; ok {
			if h, _ := topHash(o.Hashes); !strings.EqualFold(sum, h) {
				return badRequest("Invalid checksum field")
			}
		}
		if acct != q.u.UUID {
			return forbidden("Only the owner can register an image")
		}
		rec, exists := t.imageRec(o.UUID)
		if !exists {
			rec = &imageRec{ID: o.UUID}
		}
		rec.Acct, rec.Cont, rec.Name = acct, cont, obj
		rec.Title, rec.DiskFormat, rec.ContFormat = name, disk, contFmt
		rec.CreatedAt = strconv.FormatFloat(float64(q.now)/1e9, 'f', 6, 64)
		if ow, ok := params["owner"]; ok {
			rec.Owner = ow
		}
		rec.Props = mergeMeta(rec.Props, props, false)
		if rec.keys() > maxPlanktonKeys {
			return badRequest("Too many metadata items")
		}
		read := []string{q.u.UUID}
		if public {
			read = append(read, "*")
		}
		o.Sharing = &perms{Read: read}
		if err := t.newImageVersion(q, acct, cont, obj, o); err != nil {
			return err
		}
		if err := t.putImageRec(rec); err != nil {
			return err
		}
		v = &imageView{rec: rec, obj: o, acct: acct, cont: cont, nam: obj}
		return nil
	})
	if err != nil {
		return err
	}
	v.headers(q.w.Header())
	q.w.WriteHeader(200)
	return nil
}

// newImageVersion stores o as a new version of its object (a metadata
// change in Pithos terms: same content and UUID, new version and mtime).
func (t *txn) newImageVersion(q *creq, acct, cont, name string, o *objectRec) error {
	cr, ok := t.container(acct, cont)
	if !ok {
		return notFound("")
	}
	o.ModifiedBy = q.u.UUID
	return t.putObject(acct, cont, name, cr, o)
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
		if v, f = t.lookupImage(q, id); f != nil {
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
		if err := t.newImageVersion(q, v.acct, v.cont, v.nam, v.obj); err != nil {
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

// setPublic adds or removes "*" in the object's read list.
func setPublic(o *objectRec, public bool) {
	p := &perms{}
	if o.Sharing != nil {
		p.Read = slices.Clone(o.Sharing.Read)
		p.Write = slices.Clone(o.Sharing.Write)
	}
	p.Read = slices.DeleteFunc(p.Read, func(e string) bool { return e == "*" })
	if public {
		p.Read = append(p.Read, "*")
	}
	o.Sharing = p
	if len(p.Read) == 0 && len(p.Write) == 0 {
		o.Sharing = nil
	}
}

func (c *Cloud) unregisterImage(q *creq, id string) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		v, f := t.lookupImage(q, id)
		if f != nil {
			return f
		}
		return t.unregister(q, v)
	})
}

// unregister drops the registration of image v (the caller needs write
// access); its object stays.
func (t *txn) unregister(q *creq, v *imageView) error {
	if !t.canWrite(v, q.u.UUID) {
		return forbidden("")
	}
	return t.tx.Bucket(bImages).Delete([]byte(v.rec.ID))
}

// ---- members (§9) ----

func (c *Cloud) listMembers(q *creq, id string) error {
	var members []any
	err := c.store.view(func(t *txn) error {
		v, f := t.lookupImage(q, id)
		if f != nil {
			return f
		}
		members = []any{}
		if v.obj.Sharing != nil {
			for _, m := range v.obj.Sharing.Read {
				if m != "*" {
					members = append(members, map[string]any{"member_id": m, "can_share": false})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, 200, map[string]any{"members": members})
	return nil
}

// editMembers rewrites the read list of the image's object (owner only).
func (c *Cloud) editMembers(q *creq, id string, edit func(read []string) []string) error {
	return c.store.update(func(t *txn) error {
		v, f := t.lookupImage(q, id)
		if f != nil {
			return f
		}
		if v.acct != q.u.UUID {
			return forbidden("")
		}
		p := &perms{}
		if v.obj.Sharing != nil {
			p.Read, p.Write = slices.Clone(v.obj.Sharing.Read), v.obj.Sharing.Write
		}
		p.Read = edit(p.Read)
		v.obj.Sharing = p
		if len(p.Read) == 0 && len(p.Write) == 0 {
			v.obj.Sharing = nil
		}
		return t.setState(v.acct, v.cont, v.nam, v.obj)
	})
}

func (c *Cloud) setMembers(q *creq, id string) error {
	var body struct {
		Memberships []struct {
			MemberID string `json:"member_id"`
		} `json:"memberships"`
	}
	var raw map[string]json.RawMessage
	if err := readBody(q, &raw); err != nil {
		return err
	}
	mraw, ok := raw["memberships"]
	if !ok || json.Unmarshal(mraw, &body.Memberships) != nil {
		return badRequest("Invalid memberships")
	}
	var members []string
	for _, m := range body.Memberships {
		if m.MemberID == "" {
			return badRequest("Invalid memberships")
		}
		members = append(members, strings.ToLower(m.MemberID))
	}
	err := c.editMembers(q, id, func(read []string) []string {
		out := slices.Clone(members)
		if slices.Contains(read, "*") {
			out = append(out, "*")
		}
		return out
	})
	if err != nil {
		return err
	}
	q.w.WriteHeader(204)
	return nil
}

func (c *Cloud) changeMember(q *creq, id, member string, add bool) error {
	member = strings.ToLower(member)
	err := c.editMembers(q, id, func(read []string) []string {
		read = slices.DeleteFunc(read, func(e string) bool { return e == member })
		if add {
			read = append(read, member)
		}
		return read
	})
	if err != nil {
		return err
	}
	q.w.WriteHeader(204)
	return nil
}

func (c *Cloud) sharedImages(q *creq, member string) error {
	out := []any{}
	err := c.store.view(func(t *txn) error {
		for _, v := range t.visibleImages(q.u.UUID) {
			if !v.public() && v.acct == member {
				out = append(out, map[string]any{"image_id": v.rec.ID, "can_share": false})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(q.w, 200, map[string]any{"shared_images": out})
	return nil
}

// ---- compute's view of images (cyclades-api.md §5) ----

func (q *creq) computeImageJSON(v *imageView) map[string]any {
	st := computeStatus(v.status())
	progress := 0
	if st == "ACTIVE" {
		progress = 100
	}
	return map[string]any{
		"id": v.rec.ID, "name": v.rec.Title, "created": isoDate(v.obj.Mtime), "updated": isoDate(v.obj.Mtime),
		"status": st, "progress": progress, "user_id": v.acct, "tenant_id": v.acct, "public": v.public(),
		"links": []any{
			map[string]any{"rel": "self", "href": q.computeURL() + "/images/" + v.rec.ID},
			map[string]any{"rel": "bookmark", "href": q.computeURL() + "/images/" + v.rec.ID},
			map[string]any{"rel": "alternate", "href": q.imageURL() + "/images/" + v.rec.ID},
		},
		"metadata": v.props(), "is_snapshot": v.rec.IsSnapshot,
	}
}

// computeImage resolves an image for the compute API (404 "Image not found.").
func (t *txn) computeImage(q *creq, id string) (*imageView, error) {
	v, ok := t.imageByID(id)
	if !ok || !t.canRead(v, q.u.UUID) {
		return nil, notFound("Image not found.")
	}
	return v, nil
}

func (c *Cloud) serveComputeImages(q *creq) error {
	s := q.seg
	if root, detail := collection(s); root {
		return route(q, map[string]func() error{
			"GET": func() error {
				if _, _, err := parseChangesSince(q); err != nil {
					return err
				}
				out := []any{}
				err := c.store.view(func(t *txn) error {
					imgs := t.visibleImages(q.u.UUID)
					sort.Slice(imgs, func(i, j int) bool { return imgs[i].rec.ID < imgs[j].rec.ID })
					for _, v := range imgs {
						if detail {
							out = append(out, q.computeImageJSON(v))
						} else {
							out = append(out, map[string]any{"id": v.rec.ID, "name": v.rec.Title, "links": q.computeImageJSON(v)["links"]})
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
				writeJSON(q.w, 200, map[string]any{"images": out})
				return nil
			},
			"POST": func() error { return notImplemented("Creating images is not supported") },
		})
	}
	id := s[1]
	if len(s) == 2 {
		return route(q, map[string]func() error{
			"GET": func() error {
				return showRecord(c, q, "image", func(t *txn) (*imageView, error) { return t.computeImage(q, id) }, q.computeImageJSON)
			},
			"DELETE": func() error {
				return c.updateStatus(q, 204, func(t *txn) error {
					v, err := t.computeImage(q, id)
					if err != nil {
						return err
					}
					return t.unregister(q, v)
				})
			},
		})
	}
	if s[2] != "metadata" || len(s) > 4 {
		return endpointNotFound()
	}
	// update merges props into the image (writes need write access).
	update := func(props map[string]string) error {
		return c.store.update(func(t *txn) error {
			v, err := t.computeImage(q, id)
			if err != nil {
				return err
			}
			if !t.canWrite(v, q.u.UUID) {
				return forbidden("")
			}
			if err := checkProps(props); err != nil {
				return err
			}
			for k, val := range props {
				if v.rec.Props == nil {
					v.rec.Props = map[string]string{}
				}
				v.rec.Props[k] = val
			}
			if v.rec.keys() > maxPlanktonKeys {
				return badRequest("Too many metadata items")
			}
			if err := t.newImageVersion(q, v.acct, v.cont, v.nam, v.obj); err != nil {
				return err
			}
			return t.putImageRec(v.rec)
		})
	}
	get := func() (map[string]string, error) {
		var props map[string]string
		err := c.store.view(func(t *txn) error {
			v, err := t.computeImage(q, id)
			if err == nil {
				props = v.props()
			}
			return err
		})
		return props, err
	}
	if len(s) == 3 {
		return route(q, map[string]func() error{
			"GET": func() error {
				props, err := get()
				if err != nil {
					return err
				}
				writeJSON(q.w, 200, map[string]any{"metadata": props})
				return nil
			},
			"POST": func() error {
				sent, err := metadataBody(q)
				if err != nil {
					return err
				}
				if err := update(sent); err != nil {
					return err
				}
				props, err := get()
				if err != nil {
					return err
				}
				writeJSON(q.w, 201, map[string]any{"metadata": props})
				return nil
			},
		})
	}
	key := s[3]
	return route(q, map[string]func() error{
		"GET": func() error {
			props, err := get()
			if err != nil {
				return err
			}
			val, ok := props[key]
			if !ok {
				return notFound("Metadata key not found.")
			}
			writeJSON(q.w, 200, map[string]any{"meta": map[string]string{key: val}})
			return nil
		},
		"PUT": func() error {
			val, err := metaKeyBody(q, key)
			if err != nil {
				return err
			}
			if err := update(map[string]string{key: val}); err != nil {
				return err
			}
			writeJSON(q.w, 201, map[string]any{"meta": map[string]string{key: val}})
			return nil
		},
		"DELETE": func() error {
			// Upstream drops the key from a copy and merge-writes the rest,
			// so the property survives (cyclades-api.md §5): a no-op.
			props, err := get()
			if err != nil {
				return err
			}
			if _, ok := props[key]; !ok {
				return notFound("Metadata key not found.")
			}
			q.w.WriteHeader(204)
			return nil
		},
	})
}
