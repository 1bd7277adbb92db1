package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

// snapshots is snapshots/: one file per volume snapshot (each is also an
// image, so it shows in images/ too).
type snapshots struct{ cfg *Config }

// snapshotSpec is what a user writes to snapshots/NAME.json: the volume to
// snapshot, or, for an existing snapshot, a new name or description.
type snapshotSpec struct {
	Volume      json.RawMessage `json:"volume"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
}

func (s *snapshots) list(ctx context.Context) ([]entry, error) {
	all, err := s.cfg.Volumes.ListSnapshots(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(all))
	for _, sn := range all {
		if sn.Status == "DELETED" {
			continue
		}
		out = append(out, entry{name: sn.DisplayName, id: sn.ID, mine: sn.UserID == "" || sn.UserID == s.cfg.Account})
	}
	return out, nil
}

func (s *snapshots) render(ctx context.Context, id string) ([]byte, error) {
	sn, err := s.cfg.Volumes.GetSnapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	return pretty(sn), nil
}

func (s *snapshots) check(ctx context.Context, name, id string, data []byte) error {
	var spec snapshotSpec
	complete, err := decodeStrict(data, &spec)
	if err != nil || !complete {
		return err
	}
	if id != "" {
		return checkSnapshotUpdate(&spec)
	}
	_, err = s.volume(ctx, &spec)
	return err
}

func checkSnapshotUpdate(spec *snapshotSpec) error {
	if spec.Volume != nil {
		return invalid("an existing snapshot takes only \"name\" or \"description\"; write a new file to take another snapshot")
	}
	if spec.Name == "" && spec.Description == nil {
		return invalid("nothing to do: write {\"name\": ...} or {\"description\": ...}")
	}
	return nil
}

// volume resolves the spec's volume by id or name; a volume that is busy
// (creating, attaching, deleting, …) cannot be snapshotted yet: EBUSY.
func (s *snapshots) volume(ctx context.Context, spec *snapshotSpec) (*cyclades.Volume, error) {
	if spec.Volume == nil {
		return nil, invalid("a new snapshot needs a \"volume\" (its name or id)")
	}
	want, err := idOrName(spec.Volume, "volume")
	if err != nil {
		return nil, err
	}
	all, err := s.cfg.Volumes.ListVolumes(ctx, true)
	if err != nil {
		return nil, err
	}
	var found []cyclades.Volume
	for _, v := range all {
		if v.Deleted || v.Status == "deleted" {
			continue
		}
		if v.ID == want {
			found = []cyclades.Volume{v}
			break
		}
		if v.DisplayName == want {
			found = append(found, v)
		}
	}
	switch {
	case len(found) == 0:
		return nil, invalid("unknown volume %q", want)
	case len(found) > 1:
		return nil, invalid("%d volumes are named %q: give the volume's id", len(found), want)
	}
	v := &found[0]
	if v.Status != "in_use" && v.Status != "available" {
		return nil, &userError{errno: syscall.EBUSY, msg: fmt.Sprintf("volume %q is %s: snapshot it once it is in_use", want, v.Status)}
	}
	return v, nil
}

func (s *snapshots) create(ctx context.Context, name string, data []byte) (string, string, error) {
	var spec snapshotSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return "", "", err
	}
	v, err := s.volume(ctx, &spec)
	if err != nil {
		return "", "", err
	}
	if spec.Name == "" {
		spec.Name = strings.TrimSuffix(name, ".json")
	}
	desc := ""
	if spec.Description != nil {
		desc = *spec.Description
	}
	sn, err := s.cfg.Volumes.CreateSnapshot(ctx, v.ID, spec.Name, desc)
	if err != nil {
		return "", "", err
	}
	return sn.ID, "", nil
}

func (s *snapshots) update(ctx context.Context, id string, data []byte) error {
	var spec snapshotSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return err
	}
	if err := checkSnapshotUpdate(&spec); err != nil {
		return err
	}
	var name *string
	if spec.Name != "" {
		name = &spec.Name
	}
	_, err := s.cfg.Volumes.UpdateSnapshot(ctx, id, name, spec.Description)
	return err
}

// remove deletes the snapshot and its Pithos object, so it is guarded by
// the same flag as volumes.
func (s *snapshots) remove(ctx context.Context, id string) error {
	if !s.cfg.AllowDeleteVolumes {
		return &userError{errno: eperm, msg: "deleting snapshots needs a mount with --allow-delete-volumes"}
	}
	return s.cfg.Volumes.DeleteSnapshot(ctx, id)
}

func (s *snapshots) uploads() bool { return false }

func (s *snapshots) uploadAndRegister(context.Context, string, io.ReaderAt, int64) (string, error) {
	return "", fmt.Errorf("snapshots/ takes JSON files only")
}
