package localcloud

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode"
)

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
	if cr.networks, err = parseServerNetworks(m); err != nil {
		return nil, err
	}
	if cr.keyNames, err = parseKeyNames(m); err != nil {
		return nil, err
	}
	if err := cr.parseOptions(m); err != nil {
		return nil, err
	}
	return cr, nil
}

// parseServerNetworks reads the networks a new server connects to.
func parseServerNetworks(m map[string]json.RawMessage) ([]map[string]json.RawMessage, error) {
	var out []map[string]json.RawMessage
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
			out = append(out, nm)
		}
	}
	return out, nil
}

// parseKeyNames reads a new server's key pairs: key_name or SNF:key_names
// (without repeats), not both.
func parseKeyNames(m map[string]json.RawMessage) ([]string, error) {
	var keyNames []string
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
			if !slices.Contains(keyNames, n) {
				keyNames = append(keyNames, n)
			}
		}
	}
	if keyName != "" {
		if len(keyNames) > 0 {
			return nil, badRequest("'key_name' and 'SNF:key_names' cannot be used together")
		}
		keyNames = []string{keyName}
	}
	return keyNames, nil
}

// parseOptions reads a new server's user data (checked, not kept), admin
// password, tags, project and sharing.
func (cr *createReq) parseOptions(m map[string]json.RawMessage) error {
	var err error
	if ud, ok, err := str(m, "user_data"); err != nil {
		return err
	} else if ok && !base64Re.MatchString(ud) {
		return badRequest("Marformed user_data request")
	}
	if pw, ok, err := str(m, "adminPass"); err != nil {
		return err
	} else if ok {
		if !strongPassword(pw) {
			return badRequest("Password must be at least 10 characters long and contain upper and lower case letters and digits")
		}
		cr.adminPass = pw
	}
	if raw, ok := m["tags"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &cr.tags) != nil {
			return badRequest("Malformed request. Invalid 'tags' field")
		}
		if len(cr.tags) > maxTags {
			return badRequest(fmt.Sprintf("Virtual servers cannot have more than %d tags", maxTags))
		}
		for _, tg := range cr.tags {
			if len(tg) > maxTagLen {
				return badRequest("Tag too long")
			}
		}
	}
	if p, ok, err := str(m, "project"); err != nil {
		return err
	} else if ok {
		cr.project = p
	}
	if cr.shared, err = boolField(m, "shared_to_project"); err != nil {
		return err
	}
	return nil
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
		img, f := t.imageForUse(q.u, cr.image)
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
		if err := t.attachNetworks(&q.caller, s, cr.networks); err != nil {
			return err
		}
		vol, err := t.newVolume(&q.caller, volumeSpec{
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
		out = t.serverDetail(&q.caller, s)
		return nil
	})
	if err != nil {
		return err
	}
	out.AdminPass = cr.adminPass
	out.Status = "BUILD"
	writeJSON(q.w, 202, serverReply{out})
	return nil
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
