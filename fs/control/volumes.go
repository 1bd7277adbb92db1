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

// volumes is volumes/: one file per block storage volume.
type volumes struct{ cfg *Config }

// volumeSpec is what a user writes to volumes/NAME.json: a new volume, or,
// for an existing one, a new name, description or delete_on_termination,
// or a server to attach it to ("server": null detaches it).
type volumeSpec struct {
	Name                string            `json:"name"`
	Size                *int64            `json:"size"` // GiB
	Server              json.RawMessage   `json:"server"`
	Type                json.RawMessage   `json:"type"`
	Description         *string           `json:"description"`
	Metadata            map[string]string `json:"metadata"`
	Project             string            `json:"project"`
	DeleteOnTermination *bool             `json:"delete_on_termination"`
}

// detach reports whether the spec says "server": null.
func (s *volumeSpec) detach() bool { return string(s.Server) == "null" }

func (v *volumes) list(ctx context.Context) ([]entry, error) {
	all, err := v.cfg.Volumes.ListVolumes(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(all))
	for _, vol := range all {
		if vol.Deleted || vol.Status == "deleted" {
			continue
		}
		name := vol.DisplayName
		if name == "" {
			name = vol.ID // a server's root volume has no name
		}
		out = append(out, entry{name: name, id: vol.ID, mine: vol.UserID == "" || vol.UserID == v.cfg.Account})
	}
	return out, nil
}

func (v *volumes) render(ctx context.Context, id string) ([]byte, error) {
	vol, err := v.cfg.Volumes.GetVolume(ctx, id)
	if err != nil {
		return nil, err
	}
	return pretty(vol), nil
}

func (v *volumes) check(ctx context.Context, name, id string, data []byte) error {
	var spec volumeSpec
	complete, err := decodeStrict(data, &spec)
	if err != nil || !complete {
		return err
	}
	if id != "" {
		if _, _, err := volumeUpdate(&spec); err != nil {
			return err
		}
		if spec.Server != nil && !spec.detach() {
			_, err = v.serverID(ctx, spec.Server)
		}
		return err
	}
	_, err = v.request(ctx, name, &spec)
	return err
}

// volumeUpdate turns a spec written to an existing volume into an update
// (changed reports whether it changes anything; the server is applied
// apart).
func volumeUpdate(spec *volumeSpec) (u cyclades.VolumeUpdate, changed bool, err error) {
	if spec.Size != nil || spec.Type != nil || spec.Metadata != nil || spec.Project != "" {
		return u, false, invalid("an existing volume takes only \"name\", \"description\", \"delete_on_termination\" or \"server\" (its size and type cannot change)")
	}
	u = cyclades.VolumeUpdate{DisplayDescription: spec.Description, DeleteOnTermination: spec.DeleteOnTermination}
	if spec.Name != "" {
		u.DisplayName = &spec.Name
	}
	changed = u.DisplayName != nil || u.DisplayDescription != nil || u.DeleteOnTermination != nil
	if !changed && spec.Server == nil {
		return u, false, invalid("nothing to do: write {\"name\": ...}, {\"description\": ...}, {\"delete_on_termination\": ...} or {\"server\": ...}")
	}
	return u, changed, nil
}

// request turns a spec into a create request, resolving the server and the
// volume type by id or name.
func (v *volumes) request(ctx context.Context, file string, spec *volumeSpec) (*cyclades.CreateVolumeRequest, error) {
	if spec.Size == nil || *spec.Size <= 0 {
		return nil, invalid("a new volume needs \"size\": a whole number of GiB greater than 0")
	}
	if spec.Server == nil && spec.Type == nil {
		return nil, invalid("a new volume needs a \"server\" to attach it to (or a detachable \"type\")")
	}
	if spec.DeleteOnTermination != nil {
		return nil, invalid("\"delete_on_termination\" can only be changed on an existing volume")
	}
	if len(spec.Metadata) > 10 {
		return nil, invalid("at most 10 metadata items")
	}
	name := spec.Name
	if name == "" {
		name = strings.TrimSuffix(file, ".json")
	}
	req := &cyclades.CreateVolumeRequest{Size: *spec.Size, DisplayName: name, Metadata: spec.Metadata, Project: spec.Project}
	if spec.Description != nil {
		req.DisplayDescription = *spec.Description
	}
	var err error
	if spec.Server != nil {
		if req.ServerID, err = v.serverID(ctx, spec.Server); err != nil {
			return nil, err
		}
	}
	if spec.Type != nil {
		if req.VolumeType, err = v.typeID(ctx, spec.Type); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// idOrName reads a JSON number or string.
func idOrName(raw json.RawMessage, field string) (string, error) {
	var num int64
	if string(raw) != "null" && json.Unmarshal(raw, &num) == nil { // null would leave num 0
		return strconv.FormatInt(num, 10), nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return "", invalid("%q is an id or a name", field)
	}
	return s, nil
}

// serverID resolves a server by id or name; a name several servers share
// is refused (the id tells them apart).
func (v *volumes) serverID(ctx context.Context, raw json.RawMessage) (int64, error) {
	want, err := idOrName(raw, "server")
	if err != nil {
		return 0, err
	}
	if v.cfg.Compute == nil {
		n, err := strconv.ParseInt(want, 10, 64)
		if err != nil {
			return 0, invalid("no compute service to find server %q by name: give its id", want)
		}
		return n, nil
	}
	all, err := v.cfg.Compute.ListServers(ctx, cyclades.ListOptions{})
	if err != nil {
		return 0, err
	}
	var byName []int64
	for _, s := range all {
		if strconv.FormatInt(s.ID, 10) == want {
			return s.ID, nil
		}
		if s.Name == want {
			byName = append(byName, s.ID)
		}
	}
	switch len(byName) {
	case 0:
		return 0, invalid("unknown server %q", want)
	case 1:
		return byName[0], nil
	}
	return 0, invalid("%d servers are named %q: give the server's id", len(byName), want)
}

// typeID resolves a volume type by id or name (its disk template).
func (v *volumes) typeID(ctx context.Context, raw json.RawMessage) (int64, error) {
	want, err := idOrName(raw, "type")
	if err != nil {
		return 0, err
	}
	types, err := v.cfg.Volumes.ListVolumeTypes(ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range types {
		if !t.Deleted && (strconv.FormatInt(t.ID, 10) == want || t.Name == want) {
			return t.ID, nil
		}
	}
	return 0, invalid("unknown volume type %q", want)
}

func (v *volumes) create(ctx context.Context, name string, data []byte) (string, string, error) {
	var spec volumeSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return "", "", err
	}
	req, err := v.request(ctx, name, &spec)
	if err != nil {
		return "", "", err
	}
	vol, err := v.cfg.Volumes.CreateVolume(ctx, *req)
	if err != nil {
		return "", "", err
	}
	return vol.ID, "", nil
}

func (v *volumes) update(ctx context.Context, id string, data []byte) error {
	var spec volumeSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return err
	}
	u, changed, err := volumeUpdate(&spec)
	if err != nil {
		return err
	}
	if changed {
		if _, err := v.cfg.Volumes.UpdateVolume(ctx, id, u); err != nil {
			return err
		}
	}
	if spec.Server == nil {
		return nil
	}
	return v.attach(ctx, id, &spec)
}

// attach attaches a detached volume to the spec's server, or detaches it
// ("server": null), through the compute API as Synnefo does.
func (v *volumes) attach(ctx context.Context, id string, spec *volumeSpec) error {
	if v.cfg.Compute == nil {
		return invalid("no compute service: volumes cannot be attached or detached here")
	}
	vol, err := v.cfg.Volumes.GetVolume(ctx, id)
	if err != nil {
		return err
	}
	if spec.detach() {
		if len(vol.Attachments) == 0 {
			return invalid("volume %s is not attached", id)
		}
		return v.cfg.Compute.DetachVolume(ctx, vol.Attachments[0].ServerID, id)
	}
	server, err := v.serverID(ctx, spec.Server)
	if err != nil {
		return err
	}
	if len(vol.Attachments) > 0 {
		if vol.Attachments[0].ServerID == server {
			return nil
		}
		return invalid("volume %s is attached to server %d: detach it first with {\"server\": null}", id, vol.Attachments[0].ServerID)
	}
	_, err = v.cfg.Compute.AttachVolume(ctx, server, id)
	return err
}

func (v *volumes) remove(ctx context.Context, id string) error {
	if !v.cfg.AllowDeleteVolumes {
		return &userError{errno: eperm, msg: "deleting volumes needs a mount with --allow-delete-volumes"}
	}
	return v.cfg.Volumes.DeleteVolume(ctx, id)
}

func (v *volumes) uploads() bool { return false }

func (v *volumes) uploadAndRegister(context.Context, string, io.ReaderAt, int64) (string, error) {
	return "", fmt.Errorf("volumes/ takes JSON files only")
}
