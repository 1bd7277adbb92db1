package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

// servers is servers/: one file per Cyclades server.
type servers struct{ cfg *Config }

// serverSpec is what a user writes to servers/NAME.json: a new server, or,
// for an existing one, an action or metadata.
type serverSpec struct {
	Name        string            `json:"name"`
	Flavor      json.RawMessage   `json:"flavor"`
	Image       string            `json:"image"`
	Networks    []json.RawMessage `json:"networks"`
	Metadata    map[string]string `json:"metadata"`
	Personality []personality     `json:"personality"`
	KeyName     string            `json:"key_name"`
	Project     string            `json:"project"`
	Action      string            `json:"action"`
}

// personality is an injected file; contents are plain text (encoded for the
// API by the client).
type personality struct {
	Path     string `json:"path"`
	Contents string `json:"contents"`
	Owner    string `json:"owner"`
	Group    string `json:"group"`
	Mode     int    `json:"mode"`
}

func (s *servers) list(ctx context.Context) ([]entry, error) {
	all, err := s.cfg.Compute.ListServers(ctx, cyclades.ListOptions{Detail: true})
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(all))
	for _, sv := range all {
		if sv.Status == "DELETED" || sv.Deleted {
			continue
		}
		out = append(out, entry{name: sv.Name, id: strconv.FormatInt(sv.ID, 10), mine: true})
	}
	return out, nil
}

func parseID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, invalid("bad server id %q", id)
	}
	return n, nil
}

func (s *servers) render(ctx context.Context, id string) ([]byte, error) {
	n, err := parseID(id)
	if err != nil {
		return nil, err
	}
	sv, err := s.cfg.Compute.GetServer(ctx, n)
	if err != nil {
		return nil, err
	}
	sv.AdminPass = ""
	if sv.TaskState == "DESTROYING" && sv.Status != cyclades.StatusDeleted {
		// Deleted (rm of its file), not gone yet: say so rather than its last state (ACTIVE).
		sv.Status = "DELETING"
	}
	return pretty(sv), nil
}

// withAdminPass adds the one-time password to a rendered server document.
func withAdminPass(doc []byte, pass string) []byte {
	var m map[string]any
	if json.Unmarshal(doc, &m) != nil {
		return doc
	}
	m["adminPass"] = pass
	return pretty(m)
}

func (s *servers) check(ctx context.Context, name, id string, data []byte) error {
	var spec serverSpec
	complete, err := decodeStrict(data, &spec)
	if err != nil || !complete {
		return err
	}
	if id != "" {
		return checkServerUpdate(&spec)
	}
	_, err = s.request(ctx, name, &spec)
	return err
}

func checkServerUpdate(spec *serverSpec) error {
	if spec.Flavor != nil || spec.Image != "" || spec.Networks != nil || spec.Personality != nil || spec.Name != "" || spec.KeyName != "" || spec.Project != "" {
		return invalid("an existing server takes only {\"action\": ...} or {\"metadata\": {...}}")
	}
	switch spec.Action {
	case "", "start", "shutdown", "reboot":
	default:
		return invalid("unknown action %q (want start, shutdown or reboot)", spec.Action)
	}
	if spec.Action == "" && spec.Metadata == nil {
		return invalid("nothing to do: write {\"action\": ...} or {\"metadata\": {...}}")
	}
	return nil
}

// request turns a spec into a create request, resolving the flavor and the
// image by id or name.
func (s *servers) request(ctx context.Context, file string, spec *serverSpec) (*cyclades.CreateServerRequest, error) {
	if spec.Action != "" {
		return nil, invalid("no server %s to run %q on", file, spec.Action)
	}
	name := spec.Name
	if name == "" {
		name = strings.TrimSuffix(file, ".json")
	}
	if spec.Flavor == nil || spec.Image == "" {
		return nil, invalid("a new server needs \"flavor\" and \"image\"")
	}
	flavor, err := s.flavorID(ctx, spec.Flavor)
	if err != nil {
		return nil, err
	}
	img, err := s.imageID(ctx, spec.Image)
	if err != nil {
		return nil, err
	}
	req := &cyclades.CreateServerRequest{Name: name, FlavorID: flavor, ImageID: img, Metadata: spec.Metadata, Project: spec.Project}
	if spec.KeyName != "" {
		req.KeyNames = []string{spec.KeyName}
	}
	if spec.Networks != nil {
		req.Networks = []cyclades.ServerNetwork{}
		for _, raw := range spec.Networks {
			var uuid string
			if json.Unmarshal(raw, &uuid) == nil {
				req.Networks = append(req.Networks, cyclades.ServerNetwork{UUID: uuid})
				continue
			}
			var sn cyclades.ServerNetwork
			if err := json.Unmarshal(raw, &sn); err != nil || (sn.UUID == "" && sn.Port == "") {
				return nil, invalid("a network is a uuid string or {\"uuid\": ...} / {\"port\": ...}: %s", raw)
			}
			req.Networks = append(req.Networks, sn)
		}
	}
	if len(spec.Metadata) > 10 {
		return nil, invalid("at most 10 metadata items")
	}
	if len(spec.Personality) > 5 {
		return nil, invalid("at most 5 personality files")
	}
	for _, p := range spec.Personality {
		if p.Path == "" || len(p.Contents) > 10240 {
			return nil, invalid("a personality file needs a path and at most 10240 bytes of contents")
		}
		req.Personality = append(req.Personality, cyclades.PersonalityFile{Path: p.Path, Contents: []byte(p.Contents), Owner: p.Owner, Group: p.Group, Mode: p.Mode})
	}
	return req, nil
}

func (s *servers) flavorID(ctx context.Context, raw json.RawMessage) (int64, error) {
	var want string
	var num int64
	if json.Unmarshal(raw, &num) == nil {
		want = strconv.FormatInt(num, 10)
	} else if json.Unmarshal(raw, &want) != nil {
		return 0, invalid("\"flavor\" is an id or a name")
	}
	flavors, err := s.cfg.Compute.ListFlavors(ctx, true)
	if err != nil {
		return 0, err
	}
	for _, f := range flavors {
		if strconv.FormatInt(f.ID, 10) == want || f.Name == want {
			return f.ID, nil
		}
	}
	return 0, invalid("unknown flavor %q", want)
}

func (s *servers) imageID(ctx context.Context, want string) (string, error) {
	imgs, err := s.cfg.Compute.ListImages(ctx, true)
	if err != nil {
		return "", err
	}
	for _, im := range imgs {
		if im.ID == want {
			return im.ID, nil
		}
	}
	for _, im := range imgs {
		if im.Name == want {
			return im.ID, nil
		}
	}
	return "", invalid("unknown image %q", want)
}

func (s *servers) create(ctx context.Context, name string, data []byte) (string, string, error) {
	var spec serverSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return "", "", err
	}
	req, err := s.request(ctx, name, &spec)
	if err != nil {
		return "", "", err
	}
	sv, err := s.cfg.Compute.CreateServer(ctx, *req)
	if err != nil {
		return "", "", err
	}
	return strconv.FormatInt(sv.ID, 10), sv.AdminPass, nil
}

func (s *servers) update(ctx context.Context, id string, data []byte) error {
	var spec serverSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return err
	}
	if err := checkServerUpdate(&spec); err != nil {
		return err
	}
	n, err := parseID(id)
	if err != nil {
		return err
	}
	if spec.Metadata != nil {
		if _, err := s.cfg.Compute.UpdateServerMetadata(ctx, n, spec.Metadata); err != nil {
			return err
		}
	}
	switch spec.Action {
	case "start":
		return s.cfg.Compute.StartServer(ctx, n)
	case "shutdown":
		return s.cfg.Compute.ShutdownServer(ctx, n)
	case "reboot":
		return s.cfg.Compute.RebootServer(ctx, n, false)
	}
	return nil
}

func (s *servers) remove(ctx context.Context, id string) error {
	if !s.cfg.AllowDeleteServers {
		return &userError{errno: eperm, msg: "deleting servers needs a mount with --allow-delete-servers"}
	}
	n, err := parseID(id)
	if err != nil {
		return err
	}
	return s.cfg.Compute.DeleteServer(ctx, n)
}

func (s *servers) uploads() bool { return false }

func (s *servers) uploadAndRegister(context.Context, string, io.ReaderAt, int64) (string, error) {
	return "", fmt.Errorf("servers/ takes JSON files only")
}
