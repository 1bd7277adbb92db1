package localcloud

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// flavor is one entry of the fixed flavor set (cyclades-api.md §4).
type flavor struct {
	ID       int64
	VCPUs    int
	RAM      int // MiB
	Disk     int // GiB
	VolType  int64
	Template string
}

func (f flavor) name() string { return fmt.Sprintf("C%dR%dD%d%s", f.VCPUs, f.RAM, f.Disk, f.Template) }

// volumeType is a block storage volume type (§8.1 /types).
type volumeType struct {
	ID         int64
	Template   string
	Detachable bool
}

var volumeTypes = []volumeType{
	{1, "drbd", false},
	{2, "ext_archipelago", true},
}

// flavors is a realistic default set; only ext_* flavors can be snapshotted.
var flavors = []flavor{
	{1, 1, 512, 5, 2, "ext_archipelago"},
	{2, 1, 1024, 10, 2, "ext_archipelago"},
	{3, 2, 2048, 20, 2, "ext_archipelago"},
	{4, 2, 4096, 40, 2, "ext_archipelago"},
	{5, 4, 8192, 80, 2, "ext_archipelago"},
	{6, 8, 16384, 160, 2, "ext_archipelago"},
	{7, 1, 1024, 10, 1, "drbd"},
	{8, 2, 2048, 20, 1, "drbd"},
	// Same disk and volume type as 2, 3 and 7: a server can be resized
	// between them (Synnefo only changes CPUs and RAM).
	{9, 2, 1024, 10, 2, "ext_archipelago"},
	{10, 4, 4096, 20, 2, "ext_archipelago"},
	{11, 2, 2048, 10, 1, "drbd"},
}

func flavorByID(id int64) (flavor, bool) {
	for _, f := range flavors {
		if f.ID == id {
			return f, true
		}
	}
	return flavor{}, false
}

func volumeTypeByID(id int64) (volumeType, bool) {
	for _, v := range volumeTypes {
		if v.ID == id {
			return v, true
		}
	}
	return volumeType{}, false
}

// Limits of server creation (cyclades-api.md §3.2).
const (
	maxServerMeta     = 10
	maxMetaKey        = 50
	maxMetaValue      = 500
	maxPersonality    = 5
	maxPersonalityLen = 10240
	maxServerNICs     = 8
	maxTags           = 50
	maxTagLen         = 46
	passwordTTL       = 5 * time.Minute
)

// serverRec is a stored server. Status is derived (§3.6): Oper is Ganeti's
// operstate, Task the pending job, due at TaskUntil.
type serverRec struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	Owner       string            `json:"owner"`
	Project     string            `json:"project"`
	Shared      bool              `json:"shared,omitempty"`
	Flavor      int64             `json:"flavor"`
	Image       string            `json:"image"`
	Meta        map[string]string `json:"meta,omitempty"`
	KeyNames    []string          `json:"key_names,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	TagsPending map[string]int64  `json:"tags_pending,omitempty"` // tag -> end of its PENDADD job
	Personality []json.RawMessage `json:"personality,omitempty"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
	Oper        string            `json:"oper"` // BUILD STARTED STOPPED ERROR DESTROYED
	Task        string            `json:"task,omitempty"`
	TaskStart   int64             `json:"task_start,omitempty"`
	TaskUntil   int64             `json:"task_until,omitempty"`
	ResizeTo    int64             `json:"resize_to,omitempty"`
	Deleted     bool              `json:"deleted,omitempty"`
	Ports       []int64           `json:"ports,omitempty"`
	Volumes     []int64           `json:"volumes,omitempty"`
	AdminPass   string            `json:"admin_pass,omitempty"`
	PassUntil   int64             `json:"pass_until,omitempty"`
	Diagnostics []map[string]any  `json:"diagnostics,omitempty"`
}

func (s *serverRec) status() string {
	switch {
	case s.Deleted:
		return "DELETED"
	case s.Oper == "STARTED" && s.Task == "REBOOT":
		return "REBOOT"
	case s.Oper == "STOPPED" && s.Task == "RESIZE":
		return "RESIZE"
	}
	switch s.Oper {
	case "BUILD":
		return "BUILD"
	case "ERROR":
		return "ERROR"
	case "STOPPED":
		return "STOPPED"
	case "STARTED":
		return "ACTIVE"
	case "DESTROYED":
		return "DELETED"
	}
	return "UNKNOWN"
}

var taskStates = map[string]string{
	"BUILD": "BUILDING", "START": "STARTING", "STOP": "STOPPING", "REBOOT": "REBOOTING",
	"DESTROY": "DESTROYING", "RESIZE": "RESIZING",
	"ATTACH_VOLUME": "ATTACHING_VOLUME", "DETACH_VOLUME": "DETACHING_VOLUME",
}

// progress rises with time during BUILD and is 100 afterwards.
func (s *serverRec) progress(now int64) int {
	if s.Oper != "BUILD" {
		return 100
	}
	if s.TaskUntil <= s.TaskStart {
		return 0
	}
	p := int(100 * (now - s.TaskStart) / (s.TaskUntil - s.TaskStart))
	return min(max(p, 0), 99)
}

func (c *Cloud) actionDelay() time.Duration { return max(c.cfg.BuildDelay/2, time.Millisecond) }

// serveCompute routes /cyclades/compute/v2.0/...
func (c *Cloud) serveCompute(q *creq) error {
	return bySegment(q, map[string]func(*creq) error{
		"servers":         c.serveServers,
		"flavors":         c.serveFlavors,
		"images":          c.serveComputeImages,
		"os-keypairs":     c.serveKeypairs,
		"os-floating-ips": c.serveComputeFloatingIPs,
	})
}

// ---- flavors ----

func (c *Cloud) serveFlavors(q *creq) error {
	s := q.seg
	switch {
	case len(s) == 1 || len(s) == 2 && (s[1] == "" || s[1] == "detail"):
		return route(q, map[string]func() error{"GET": func() error {
			detail := len(s) == 2 && s[1] == "detail"
			out := []any{}
			qp := q.r.URL.Query()
			if v := qp.Get("SNF:is_public"); v != "" && strings.ToLower(v) != "true" {
				writeJSON(q.w, 200, map[string]any{"flavors": out})
				return nil
			}
			if v := qp.Get("SNF:flavor-access"); v != "" {
				writeJSON(q.w, 200, map[string]any{"flavors": out})
				return nil
			}
			for _, f := range flavors {
				out = append(out, q.flavorView(f, detail))
			}
			writeJSON(q.w, 200, map[string]any{"flavors": out})
			return nil
		}})
	case len(s) == 2 || len(s) == 3 && s[2] == "os-extra_specs":
		id, ok := parseNumID(s[1])
		if !ok {
			return endpointNotFound()
		}
		return route(q, map[string]func() error{"GET": func() error {
			f, ok := flavorByID(id)
			if !ok {
				return notFound("Flavor not found.")
			}
			if len(s) == 3 {
				writeJSON(q.w, 200, map[string]any{"extra_specs": map[string]any{}})
				return nil
			}
			writeJSON(q.w, 200, map[string]any{"flavor": q.flavorView(f, true)})
			return nil
		}})
	}
	return endpointNotFound()
}

// ---- servers ----

func (c *Cloud) serveServers(q *creq) error {
	s := q.seg
	if len(s) == 1 || len(s) == 2 && s[1] == "" {
		return route(q, map[string]func() error{
			"GET":  func() error { return c.listServers(q, false) },
			"POST": func() error { return c.createServer(q) },
		})
	}
	if len(s) == 2 && s[1] == "detail" {
		return route(q, map[string]func() error{"GET": func() error { return c.listServers(q, true) }})
	}
	id, ok := parseNumID(s[1])
	if !ok {
		return endpointNotFound()
	}
	if len(s) == 2 {
		return route(q, map[string]func() error{
			"GET":    func() error { return c.getServer(q, id) },
			"PUT":    func() error { return c.renameServer(q, id) },
			"DELETE": func() error { return c.deleteServer(q, id) },
		})
	}
	switch s[2] {
	case "action":
		if len(s) == 3 {
			return route(q, map[string]func() error{"POST": func() error { return c.serverAction(q, id) }})
		}
	case "metadata":
		if len(s) == 3 {
			return route(q, map[string]func() error{
				"GET":  func() error { return c.serverMeta(q, id, "") },
				"POST": func() error { return c.updateServerMeta(q, id) },
			})
		}
		if len(s) == 4 && s[3] != "" {
			key := s[3]
			return route(q, map[string]func() error{
				"GET":    func() error { return c.serverMeta(q, id, key) },
				"PUT":    func() error { return c.putServerMetaKey(q, id, key) },
				"DELETE": func() error { return c.deleteServerMetaKey(q, id, key) },
			})
		}
	case "ips":
		if len(s) == 3 || len(s) == 4 && s[3] != "" {
			return route(q, map[string]func() error{"GET": func() error { return c.serverIPs(q, id, s[3:]) }})
		}
	case "password":
		if len(s) == 3 {
			return route(q, map[string]func() error{
				"GET":    func() error { return c.serverPassword(q, id, false) },
				"DELETE": func() error { return c.serverPassword(q, id, true) },
			})
		}
	case "tags":
		if len(s) == 3 {
			return c.serveServerTags(q, id, "")
		}
		if len(s) == 4 && s[3] != "" {
			return c.serveServerTags(q, id, s[3])
		}
	case "os-volume_attachments":
		return c.serveVolumeAttachments(q, id, s[3:])
	case "diagnostics", "stats":
		if len(s) == 3 {
			return route(q, map[string]func() error{"GET": func() error { return c.serverExtra(q, id, s[2]) }})
		}
	}
	return endpointNotFound()
}

// visibleServer loads a server the caller may see (owner only here: the
// local cloud has no projects beyond each user's own).
func (t *txn) visibleServer(q *creq, id int64) (*serverRec, error) {
	return findRec(t, bServers, id, q.ownsServer, "Server not found.")
}

// ownsServer reports whether s is the caller's.
func (q *creq) ownsServer(s *serverRec) bool { return s.Owner == q.u.UUID }

func (c *Cloud) listServers(q *creq, detail bool) error {
	return c.listSince(q, "servers", func(t *txn, f changesSince) []any {
		out := []any{}
		each(t, bServers, func(s *serverRec) bool {
			switch {
			case !q.ownsServer(s) || !f.shows(s.Updated, s.Deleted):
			case detail:
				out = append(out, t.serverDetail(q, s))
			default:
				out = append(out, serverSummary{ID: s.ID, Name: s.Name, Links: links(q.computeURL() + "/servers/" + itoa(s.ID))})
			}
			return true
		})
		return out
	})
}

func (c *Cloud) getServer(q *creq, id int64) error {
	return c.viewJSON(q, "server", func(t *txn) (any, error) {
		s, err := t.visibleServer(q, id)
		if err != nil {
			return nil, err
		}
		return t.serverDetail(q, s), nil
	})
}

// serverDetail reads a server's state and renders its detail form.
func (t *txn) serverDetail(q *creq, s *serverRec) *serverDetail {
	return q.serverDetail(s, t.serverState(s))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// createReq is a validated POST /servers body.
type createReq struct {
	name, image, project, adminPass string
	flavor                          int64
	shared                          bool
	meta                            map[string]string
	personality                     []json.RawMessage
	networks                        []map[string]json.RawMessage
	keyNames, tags                  []string
}

var base64Re = regexp.MustCompile(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`)

func parseCreateServer(q *creq, m map[string]json.RawMessage) (*createReq, error) {
	cr := &createReq{project: q.u.UUID}
	var err error
	var ok bool
	if cr.name, ok, err = str(m, "name"); err != nil || !ok {
		return nil, badRequest("Malformed request")
	}
	if len([]rune(cr.name)) > 255 {
		return nil, badRequest("Server name is too long")
	}
	if cr.image, ok, err = str(m, "imageRef"); err != nil || !ok {
		return nil, badRequest("Malformed request")
	}
	fraw, ok := m["flavorRef"]
	if !ok {
		return nil, badRequest("Malformed request")
	}
	if cr.flavor, ok = intID(fraw); !ok {
		return nil, badRequest("Invalid flavorRef")
	}
	if cr.meta, err = parseMeta(m["metadata"]); err != nil {
		return nil, err
	}
	if len(cr.meta) > maxServerMeta {
		return nil, badRequest(fmt.Sprintf("Virtual servers cannot have more than %d metadata items", maxServerMeta))
	}
	if raw, ok := m["personality"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &cr.personality); err != nil {
			return nil, badRequest("Malformed personality in request")
		}
		if err := checkPersonality(cr.personality); err != nil {
			return nil, err
		}
	}
	if raw, ok := m["networks"]; ok && string(raw) != "null" {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, badRequest("Malformed request. Invalid 'networks' field")
		}
		for _, it := range items {
			var nm map[string]json.RawMessage
			if json.Unmarshal(it, &nm) != nil || nm == nil {
				return nil, badRequest("Malformed request. Invalid 'networks' field")
			}
			cr.networks = append(cr.networks, nm)
		}
	}
	keyName, _, err := str(m, "key_name")
	if err != nil {
		return nil, err
	}
	if raw, ok := m["SNF:key_names"]; ok && string(raw) != "null" {
		var names []string
		if json.Unmarshal(raw, &names) != nil {
			return nil, badRequest("Malformed request. Invalid 'SNF:key_names' field")
		}
		for _, n := range names {
			if !slices.Contains(cr.keyNames, n) {
				cr.keyNames = append(cr.keyNames, n)
			}
		}
	}
	if keyName != "" {
		if len(cr.keyNames) > 0 {
			return nil, badRequest("'key_name' and 'SNF:key_names' cannot be used together")
		}
		cr.keyNames = []string{keyName}
	}
	if ud, ok, err := str(m, "user_data"); err != nil {
		return nil, err
	} else if ok && !base64Re.MatchString(ud) {
		return nil, badRequest("Marformed user_data request")
	}
	if pw, ok, err := str(m, "adminPass"); err != nil {
		return nil, err
	} else if ok {
		if !strongPassword(pw) {
			return nil, badRequest("Password must be at least 10 characters long and contain upper and lower case letters and digits")
		}
		cr.adminPass = pw
	}
	if raw, ok := m["tags"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &cr.tags) != nil {
			return nil, badRequest("Malformed request. Invalid 'tags' field")
		}
		if len(cr.tags) > maxTags {
			return nil, badRequest(fmt.Sprintf("Virtual servers cannot have more than %d tags", maxTags))
		}
		for _, tg := range cr.tags {
			if len(tg) > maxTagLen {
				return nil, badRequest("Tag too long")
			}
		}
	}
	if p, ok, err := str(m, "project"); err != nil {
		return nil, err
	} else if ok {
		cr.project = p
	}
	if cr.shared, err = boolField(m, "shared_to_project"); err != nil {
		return nil, err
	}
	return cr, nil
}

// parseMeta reads a metadata object of str->str (ints are accepted and
// stringified, as Synnefo does), checking key and value lengths.
func parseMeta(raw json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	if raw == nil || string(raw) == "null" {
		return out, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, badRequest("Malformed metadata")
	}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) != nil {
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return nil, badRequest("Malformed metadata: values must be strings")
			}
			s = n.String()
		}
		if len([]rune(k)) > maxMetaKey || k == "" {
			return nil, badRequest("Malformed metadata: invalid key length")
		}
		if len([]rune(s)) > maxMetaValue {
			return nil, badRequest("Malformed metadata: value too long")
		}
		out[k] = s
	}
	return out, nil
}

func checkPersonality(items []json.RawMessage) error {
	if len(items) > maxPersonality {
		return overLimit("Maximum number of personalities exceeded")
	}
	for _, it := range items {
		var p map[string]json.RawMessage
		if json.Unmarshal(it, &p) != nil || p == nil {
			return badRequest("Malformed personality in request")
		}
		for k := range p {
			switch k {
			case "path", "contents", "owner", "group", "mode":
			default:
				return badRequest("Malformed personality in request")
			}
		}
		var contents string
		if raw, ok := p["contents"]; !ok || json.Unmarshal(raw, &contents) != nil {
			// Synnefo crashes here (500); a clear 400 serves clients better.
			return badRequest("Malformed personality in request: 'contents' is required")
		}
		if len(contents) > maxPersonalityLen {
			return overLimit("Maximum size of personality exceeded")
		}
		data, err := base64.StdEncoding.DecodeString(contents)
		if err != nil {
			return badRequest("Invalid personality contents")
		}
		if len(data) > maxPersonalityLen {
			return overLimit("Maximum size of personality exceeded")
		}
	}
	return nil
}

func strongPassword(pw string) bool {
	var up, low, dig bool
	for _, r := range pw {
		up = up || unicode.IsUpper(r)
		low = low || unicode.IsLower(r)
		dig = dig || unicode.IsDigit(r)
	}
	return len(pw) >= 10 && up && low && dig
}

func newPassword() string {
	for {
		b := randomBytes(10)
		for i := range b {
			b[i] = alnum[int(b[i])%len(alnum)]
		}
		if pw := string(b); strongPassword(pw) {
			return pw
		}
	}
}

func (c *Cloud) createServer(q *creq) error {
	m, err := bodyObject(q, "server")
	if err != nil {
		return err
	}
	cr, err := parseCreateServer(q, m)
	if err != nil {
		return err
	}
	fl, ok := flavorByID(cr.flavor)
	if !ok {
		return notFound("Flavor not found.")
	}
	if cr.adminPass == "" {
		cr.adminPass = newPassword()
	}
	var out *serverDetail
	err = c.store.update(func(t *txn) error {
		img, f := t.imageForUse(q, cr.image)
		if f != nil {
			return f
		}
		for _, kn := range cr.keyNames {
			if _, ok := t.keypair(q.u.UUID, kn); !ok {
				return notFound(fmt.Sprintf("Keypair '%s' not found", kn))
			}
		}
		id, err := t.nextSeq(bServers)
		if err != nil {
			return err
		}
		until := q.now + int64(c.cfg.BuildDelay)
		s := &serverRec{
			ID: id, Name: cr.name, Owner: q.u.UUID, Project: cr.project, Shared: cr.shared,
			Flavor: fl.ID, Image: cr.image, Meta: cr.meta, KeyNames: cr.keyNames, Tags: cr.tags,
			Personality: cr.personality, Created: q.now, Updated: q.now,
			Oper: "BUILD", Task: "BUILD", TaskStart: q.now, TaskUntil: until,
			AdminPass: cr.adminPass, PassUntil: q.now + int64(passwordTTL),
		}
		if err := t.attachNetworks(q, s, cr.networks); err != nil {
			return err
		}
		vol, err := t.newVolume(q, volumeSpec{
			name: "", size: fl.Disk, typ: fl.VolType, server: id, image: img, deleteOnTerm: true, project: cr.project,
		})
		if err != nil {
			return err
		}
		s.Volumes = []int64{vol.ID}
		if err := putRec(t, bServers, id, s); err != nil {
			return err
		}
		if err := t.commissionServer(c, q.u, s.Project, fl); err != nil {
			return err
		}
		if err := t.schedule(dueServer, itoa(id), until); err != nil {
			return err
		}
		out = t.serverDetail(q, s)
		return nil
	})
	if err != nil {
		return err
	}
	out.AdminPass = cr.adminPass
	out.Status = "BUILD"
	writeJSON(q.w, 202, map[string]any{"server": out})
	return nil
}

// settleServer completes the pending job of a server that was due at at.
func (t *txn) settleServer(sid string, at int64) error {
	id, _ := strconv.ParseInt(sid, 10, 64)
	s, ok := getRec[serverRec](t, bServers, id)
	if !ok || s.Task == "" || s.TaskUntil != at {
		return nil // superseded
	}
	task := s.Task
	s.Task, s.TaskStart, s.TaskUntil, s.Updated = "", 0, 0, at
	switch task {
	case "BUILD":
		s.Oper = "STARTED"
		portStatus, volStatus := "ACTIVE", "in_use"
		if reason := t.buildFailure(s); reason != "" {
			s.Oper = "ERROR"
			portStatus, volStatus = "ERROR", "error"
			s.Diagnostics = append(s.Diagnostics, map[string]any{
				"level": "ERROR", "created": isoDate(at), "source": "image-helper",
				"message": reason, "details": "",
			})
		}
		if err := t.setPortsStatus(s.Ports, portStatus, at); err != nil {
			return err
		}
		if err := t.setVolumesStatus(s.Volumes, volStatus, at); err != nil {
			return err
		}
	case "START", "REBOOT":
		s.Oper = "STARTED"
	case "STOP":
		s.Oper = "STOPPED"
	case "RESIZE":
		s.Oper = "STOPPED"
		s.Flavor, s.ResizeTo = s.ResizeTo, 0
	case "DESTROY":
		s.Oper, s.Deleted = "DESTROYED", true
		if err := t.releaseServerPorts(s, at); err != nil {
			return err
		}
		if err := t.releaseServerVolumes(s, at); err != nil {
			return err
		}
		s.Ports = nil
	}
	return putRec(t, bServers, id, s)
}

// buildFailure says why a build fails: the image vanished (unregistered or
// its object deleted) during BUILD, or it has no content to deploy.
func (t *txn) buildFailure(s *serverRec) string {
	img, ok := t.imageByID(s.Image)
	if !ok {
		return "Image " + s.Image + " is no longer available"
	}
	if img.obj.Bytes == 0 {
		return "Image " + s.Image + " is empty: nothing to deploy"
	}
	return ""
}

func (c *Cloud) renameServer(q *creq, id int64) error {
	m, err := bodyObject(q, "server")
	if err != nil {
		return err
	}
	name, ok, err := str(m, "name")
	if err != nil || !ok {
		return badRequest("Malformed request")
	}
	if len([]rune(name)) > 255 {
		return badRequest("Server name is too long")
	}
	return c.updateStatus(q, 204, func(t *txn) error {
		s, err := t.writableServer(q, id)
		if err != nil {
			return err
		}
		s.Name, s.Updated = name, q.now
		return putRec(t, bServers, id, s)
	})
}

// writableServer loads a server for rename/metadata writes: it must not be
// deleted (400).
func (t *txn) writableServer(q *creq, id int64) (*serverRec, error) {
	s, err := t.visibleServer(q, id)
	if err != nil {
		return nil, err
	}
	if s.Deleted {
		return nil, badRequest("Server has been deleted.")
	}
	return s, nil
}

func (c *Cloud) deleteServer(q *creq, id int64) error {
	return c.startAction(q, id, "DESTROY", 204)
}

// startTask records a pending job and queues its completion.
func (t *txn) startTask(s *serverRec, task string, now, until int64) error {
	s.Task, s.TaskStart, s.TaskUntil, s.Updated = task, now, until, now
	if err := putRec(t, bServers, s.ID, s); err != nil {
		return err
	}
	return t.schedule(dueServer, itoa(s.ID), until)
}

// ---- metadata ----

func (c *Cloud) serverMeta(q *creq, id int64, key string) error {
	s, err := c.viewServer(q, id)
	if err != nil {
		return err
	}
	if key == "" {
		meta := s.Meta
		if meta == nil {
			meta = map[string]string{}
		}
		writeJSON(q.w, 200, map[string]any{"metadata": meta})
		return nil
	}
	v, ok := s.Meta[key]
	if !ok {
		return notFound("Metadata key not found.")
	}
	writeJSON(q.w, 200, map[string]any{"meta": map[string]string{key: v}})
	return nil
}

// viewServer loads a server the caller may see in a read-only transaction.
func (c *Cloud) viewServer(q *creq, id int64) (*serverRec, error) {
	var s *serverRec
	err := c.store.view(func(t *txn) error {
		var err error
		s, err = t.visibleServer(q, id)
		return err
	})
	return s, err
}

func (c *Cloud) updateServerMeta(q *creq, id int64) error {
	var body map[string]json.RawMessage
	if err := readBody(q, &body); err != nil {
		return err
	}
	raw, ok := body["metadata"]
	if !ok {
		return badRequest("Malformed request")
	}
	sent, err := parseMeta(raw)
	if err != nil {
		return err
	}
	return c.updateJSON(q, 201, "metadata", func(t *txn) (any, error) {
		return t.mergeServerMeta(q, id, sent)
	})
}

func (c *Cloud) putServerMetaKey(q *creq, id int64, key string) error {
	val, err := metaKeyBody(q, key)
	if err != nil {
		return err
	}
	return c.updateJSON(q, 201, "meta", func(t *txn) (any, error) {
		_, err := t.mergeServerMeta(q, id, map[string]string{key: val})
		return map[string]string{key: val}, err
	})
}

// mergeServerMeta writes sent into the metadata of a server that is not
// deleted, within the metadata limit, and returns the merged metadata.
func (t *txn) mergeServerMeta(q *creq, id int64, sent map[string]string) (map[string]string, error) {
	s, err := t.writableServer(q, id)
	if err != nil {
		return nil, err
	}
	if s.Meta == nil {
		s.Meta = map[string]string{}
	}
	maps.Copy(s.Meta, sent)
	if len(s.Meta) > maxServerMeta {
		return nil, badRequest(fmt.Sprintf("Virtual servers cannot have more than %d metadata items", maxServerMeta))
	}
	s.Updated = q.now
	return s.Meta, putRec(t, bServers, id, s)
}

func (c *Cloud) deleteServerMetaKey(q *creq, id int64, key string) error {
	return c.updateStatus(q, 204, func(t *txn) error {
		s, err := t.writableServer(q, id)
		if err != nil {
			return err
		}
		if _, ok := s.Meta[key]; !ok {
			return notFound("Metadata key not found.")
		}
		delete(s.Meta, key)
		s.Updated = q.now
		return putRec(t, bServers, id, s)
	})
}

// ---- ips, password and read-only extras ----

func (c *Cloud) serverIPs(q *creq, id int64, rest []string) error {
	var out *serverDetail
	err := c.store.view(func(t *txn) error {
		s, err := t.visibleServer(q, id)
		if err != nil {
			return err
		}
		out = t.serverDetail(q, s)
		return nil
	})
	if err != nil {
		return err
	}
	addrs := out.Addresses
	if len(rest) == 1 {
		v, ok := addrs[rest[0]]
		if !ok {
			return notFound("Network not found.")
		}
		writeJSON(q.w, 200, map[string]any{"network": map[string]any{rest[0]: v}})
		return nil
	}
	writeJSON(q.w, 200, struct {
		Addresses   map[string][]serverAddress `json:"addresses"`
		Attachments []serverAttachment         `json:"attachments"`
	}{addrs, out.Attachments})
	return nil
}

func (c *Cloud) serverPassword(q *creq, id int64, del bool) error {
	var pw string
	err := c.store.update(func(t *txn) error {
		s, err := t.visibleServer(q, id)
		if err != nil {
			return err
		}
		if del {
			s.AdminPass, s.PassUntil = "", 0
			return putRec(t, bServers, id, s)
		}
		if s.AdminPass == "" || q.now >= s.PassUntil {
			return notFound("Password not found.")
		}
		pw = s.AdminPass
		return nil
	})
	if err != nil {
		return err
	}
	if del {
		q.w.WriteHeader(204)
		return nil
	}
	writeJSON(q.w, 200, map[string]any{"password": pw})
	return nil
}

func (c *Cloud) serverExtra(q *creq, id int64, what string) error {
	s, err := c.viewServer(q, id)
	if err != nil {
		return err
	}
	switch what {
	case "diagnostics":
		d := s.Diagnostics
		if d == nil {
			d = []map[string]any{}
		}
		writeJSON(q.w, 200, d)
	case "stats":
		writeJSON(q.w, 200, map[string]any{"stats": map[string]any{
			"serverRef": s.ID, "refresh": 60, "cpuBar": "", "cpuTimeSeries": "", "netBar": "", "netTimeSeries": "",
		}})
	}
	return nil
}
