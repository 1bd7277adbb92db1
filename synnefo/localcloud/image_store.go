package localcloud

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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
func (t *txn) imageForUse(u *User, id string) (*imageView, *fault) {
	if !uuidRe.MatchString(id) {
		return nil, badRequest("Invalid imageRef '" + id + "'")
	}
	v, ok := t.imageByID(id)
	if !ok {
		return nil, notFound("Image '" + id + "' not found")
	}
	if !t.canRead(v, u.UUID) {
		return nil, forbidden("Image '" + id + "' is not accessible")
	}
	return v, nil
}

// lookupImage resolves an image for the image API: 400 for a malformed
// id, 404 when unknown or unregistered, 403 without read access.
func (t *txn) lookupImage(u *User, id string) (*imageView, *fault) {
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
	if !t.canRead(v, u.UUID) {
		return nil, forbidden("")
	}
	return v, nil
}

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

// register registers (or re-registers) the image file of reg for user at
// now: the file must be the user's own and readable; it is shared with
// everyone when the image is public.
func (t *txn) register(user string, now int64, reg *registration) (*imageView, error) {
	acct, cont, obj := reg.acct, reg.cont, reg.obj
	if !t.accessFor(acct, cont, obj, user).read {
		return nil, forbidden("")
	}
	o, ok := t.object(acct, cont, obj)
	if !ok {
		return nil, notFound("")
	}
	if _, ok := reg.params["size"]; ok {
		return nil, badRequest("Invalid 'size' field")
	}
	if sum, ok := reg.params["checksum"]; ok {
		if h, _ := topHash(o.Hashes); !strings.EqualFold(sum, h) {
			return nil, badRequest("Invalid checksum field")
		}
	}
	if acct != user {
		return nil, forbidden("Only the owner can register an image")
	}
	rec, exists := t.imageRec(o.UUID)
	if !exists {
		rec = &imageRec{ID: o.UUID}
	}
	rec.Acct, rec.Cont, rec.Name = acct, cont, obj
	rec.Title, rec.DiskFormat, rec.ContFormat = reg.name, reg.disk, reg.contFmt
	rec.CreatedAt = strconv.FormatFloat(float64(now)/1e9, 'f', 6, 64)
	if ow, ok := reg.params["owner"]; ok {
		rec.Owner = ow
	}
	rec.Props = mergeMeta(rec.Props, reg.props, false)
	if rec.keys() > maxPlanktonKeys {
		return nil, badRequest("Too many metadata items")
	}
	read := []string{user}
	if reg.public {
		read = append(read, "*")
	}
	o.Sharing = &perms{Read: read}
	if err := t.newImageVersion(user, acct, cont, obj, o); err != nil {
		return nil, err
	}
	if err := t.putImageRec(rec); err != nil {
		return nil, err
	}
	return &imageView{rec: rec, obj: o, acct: acct, cont: cont, nam: obj}, nil
}

// newImageVersion stores o as a new version of its object (a metadata
// change in Pithos terms: same content and UUID, new version and mtime).
func (t *txn) newImageVersion(by, acct, cont, name string, o *objectRec) error {
	cr, ok := t.container(acct, cont)
	if !ok {
		return notFound("")
	}
	o.ModifiedBy = by
	return t.putObject(acct, cont, name, cr, o)
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

// unregister drops the registration of image v (the caller needs write
// access); its object stays.
func (t *txn) unregister(u *User, v *imageView) error {
	if !t.canWrite(v, u.UUID) {
		return forbidden("")
	}
	return t.tx.Bucket(bImages).Delete([]byte(v.rec.ID))
}
