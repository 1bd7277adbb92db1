package control_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

// activeServer registers an image and creates a server through the mount,
// on a flavor whose disk can be snapshotted (ext_*), and waits until it is
// ACTIVE.
func (e *env) activeServer(t *testing.T, mnt, name string) int64 {
	t.Helper()
	ctx := context.Background()
	flavors, err := e.compute.ListFlavors(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var flavor string
	for _, f := range flavors {
		if strings.HasPrefix(f.DiskTemplate, "ext_") {
			flavor = f.Name
			break
		}
	}
	if flavor == "" {
		t.Fatalf("no ext_* flavor among %+v", flavors)
	}
	e.upload(t, "images", "base.diskdump", []byte(strings.Repeat("base image ", 1000)))
	mustSh(t, mnt, `echo '{"location": "/images/base.diskdump"}' > images/base.json`)
	mustSh(t, mnt, fmt.Sprintf(`echo '{"flavor": %q, "image": "base"}' > servers/%s.json`, flavor, name))
	waitFor(t, name+" ACTIVE", func() bool {
		out, err := sh(mnt, "cat servers/"+name+".json")
		return err == nil && strings.Contains(out, `"ACTIVE"`)
	})
	all, err := e.compute.ListServers(ctx, cyclades.ListOptions{})
	if err != nil || len(all) != 1 {
		t.Fatalf("servers: %+v %v", all, err)
	}
	return all[0].ID
}

// readJSON cats a control file and decodes it.
func readJSON(t *testing.T, mnt, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(mustSh(t, mnt, "cat "+path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestVolumeSpecsRefused: each bad document fails at write with EINVAL (or
// EBUSY for a volume that is not ready), .last-error says why, and nothing
// is created.
func TestVolumeSpecsRefused(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	mnt := mount(t, e.srv, false)
	e.activeServer(t, mnt, "web1")
	tests := []struct {
		file, doc, reason string
	}{
		{"volumes/v.json", `{"server": "web1"}`, `needs "size"`},
		{"volumes/v.json", `{"size": 0, "server": "web1"}`, `needs "size"`},
		{"volumes/v.json", `{"size": "ten", "server": "web1"}`, "bad JSON"},
		{"volumes/v.json", `{"size": 1}`, `needs a "server"`},
		{"volumes/v.json", `{"size": 1, "server": "nope"}`, `unknown server "nope"`},
		{"volumes/v.json", `{"size": 1, "server": "web1", "colour": "red"}`, `unknown field "colour"`},
		{"volumes/v.json", `{"size": 1, "type": "no-such-type"}`, `unknown volume type "no-such-type"`},
		{"volumes/v.json", `{"size": 1, "server": "web1", "delete_on_termination": false}`, "existing volume"},
		{"snapshots/s.json", `{"name": "s"}`, `needs a "volume"`},
		{"snapshots/s.json", `{"volume": "nope"}`, `unknown volume "nope"`},
		{"snapshots/s.json", `{"volume": 12.5}`, `is an id or a name`},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			_, err := sh(mnt, "echo '"+tt.doc+"' | tee "+tt.file+" >/dev/null") // tee names write()'s errno; dash's echo says "I/O error" for any
			if err == nil || !strings.Contains(err.Error(), "Invalid argument") {
				t.Errorf("write of %s: %v, want EINVAL", tt.doc, err)
			}
			dir := tt.file[:strings.IndexByte(tt.file, '/')]
			if le := mustSh(t, mnt, "cat "+dir+"/.last-error"); !strings.Contains(le, tt.reason) || !strings.Contains(le, "invalid argument") {
				t.Errorf(".last-error = %q, want %q", le, tt.reason)
			}
		})
	}
	vols, err := e.volumes.ListVolumes(ctx, false)
	if err != nil || len(vols) != 1 { // the server's root volume
		t.Fatalf("bad specs created volumes: %+v %v", vols, err)
	}
	snaps, err := e.volumes.ListSnapshots(ctx, false)
	if err != nil || len(snaps) != 0 {
		t.Fatalf("bad specs created snapshots: %+v %v", snaps, err)
	}
	if out := mustSh(t, mnt, "ls volumes snapshots"); strings.Contains(out, "v.json") || strings.Contains(out, "s.json") {
		t.Errorf("a refused file is listed:\n%s", out)
	}

	// With the cloud's clock stopped nothing settles: a volume still being created cannot be snapshotted
	// yet, nor can a volume be attached to a server still being built: EBUSY, and the reason.
	e.start = time.Now()
	e.paused.Store(true)
	mustSh(t, mnt, `echo '{"size": 2, "server": "web1"}' > volumes/late.json`)
	_, errSnap := sh(mnt, `echo '{"volume": "late"}' | tee snapshots/early.json >/dev/null`)
	leSnap := mustSh(t, mnt, "cat snapshots/.last-error")
	mustSh(t, mnt, `echo '{"flavor": 1, "image": "base"}' > servers/web2.json`)
	_, errVol := sh(mnt, `echo '{"size": 2, "server": "web2"}' | tee volumes/early.json >/dev/null`)
	leVol := mustSh(t, mnt, "cat volumes/.last-error")
	e.paused.Store(false)
	if errSnap == nil || !strings.Contains(errSnap.Error(), "busy") || !strings.Contains(leSnap, `volume "late" is creating`) {
		t.Errorf("snapshot of a volume being created: %v, .last-error %q; want EBUSY", errSnap, leSnap)
	}
	if errVol == nil || !strings.Contains(errVol.Error(), "busy") || !strings.Contains(leVol, "being built") {
		t.Errorf("a volume for a server being built: %v, .last-error %q; want EBUSY", errVol, leVol)
	}
	if vols := mustVolumes(t, e); len(vols) != 3 { // web1's root, late, web2's root
		t.Errorf("volumes after the refused requests: %+v", vols)
	}
}

func TestVolumesAndSnapshotsThroughTheMount(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	mnt := mount(t, e.srv, false)
	ls := mustSh(t, mnt, "ls")
	for _, d := range []string{"volumes", "snapshots"} {
		if !strings.Contains(ls, d) {
			t.Fatalf("ls = %q, missing %s", ls, d)
		}
	}
	srvID := e.activeServer(t, mnt, "web1")

	// Create and attach: the file reads back the live volume.
	mustSh(t, mnt, `echo '{"size": 10, "server": "web1", "description": "scratch"}' > volumes/data.json`)
	var vol cyclades.Volume
	waitFor(t, "data in_use", func() bool {
		readJSON(t, mnt, "volumes/data.json", &vol)
		return vol.Status == "in_use"
	})
	if vol.Size != 10 || vol.DisplayName != "data" || vol.DisplayDescription != "scratch" ||
		len(vol.Attachments) != 1 || vol.Attachments[0].ServerID != srvID {
		t.Fatalf("volumes/data.json = %+v, want 10 GiB attached to server %d", vol, srvID)
	}
	got, err := e.volumes.GetVolume(ctx, vol.ID)
	if err != nil || got.Size != 10 || got.Status != "in_use" {
		t.Fatalf("the volume as the Go client sees it: %+v %v", got, err)
	}
	if out := mustSh(t, mnt, "cat volumes/"+vol.ID+".json"); !strings.Contains(out, `"display_name": "data"`) {
		t.Errorf("lookup by id: %s", out)
	}
	// An update of the existing file renames nothing it is not told to; a size change is refused.
	mustSh(t, mnt, `echo '{"description": "logs"}' > volumes/data.json`)
	if got, err := e.volumes.GetVolume(ctx, vol.ID); err != nil || got.DisplayDescription != "logs" || got.DisplayName != "data" {
		t.Errorf("after the update: %+v %v", got, err)
	}
	if _, err := sh(mnt, `echo '{"size": 20}' | tee volumes/data.json >/dev/null`); err == nil || !strings.Contains(err.Error(), "Invalid argument") {
		t.Errorf("a size change of an existing volume: %v, want EINVAL", err)
	}

	// Snapshot through snapshots/: registered at the volume's size, and an image too.
	mustSh(t, mnt, `echo '{"volume": "data"}' > snapshots/nightly.json`)
	var snap cyclades.Snapshot
	waitFor(t, "nightly AVAILABLE", func() bool {
		readJSON(t, mnt, "snapshots/nightly.json", &snap)
		return snap.Status == "AVAILABLE"
	})
	if snap.VolumeID != vol.ID || snap.Size != 10 || snap.DisplayName != "nightly" {
		t.Fatalf("snapshots/nightly.json = %+v, want volume %s, 10 GiB", snap, vol.ID)
	}
	var img struct {
		ID         string `json:"id"`
		Size       int64  `json:"size"`
		IsSnapshot bool   `json:"is_snapshot"`
		Location   string `json:"location"`
	}
	readJSON(t, mnt, "images/nightly.json", &img)
	if img.ID != snap.ID || !img.IsSnapshot || img.Size != 10<<30 || !strings.HasSuffix(img.Location, "/snapshots/nightly") {
		t.Fatalf("images/nightly.json = %+v, want the snapshot %s as an image of 10 GiB", img, snap.ID)
	}

	// Detach ("server": null) and attach again by writing to the existing file.
	mustSh(t, mnt, `echo '{"server": null}' > volumes/data.json`)
	waitFor(t, "data detached", func() bool {
		vol = cyclades.Volume{} // an empty "attachments" is left out of the document
		readJSON(t, mnt, "volumes/data.json", &vol)
		return vol.Status == "available" && len(vol.Attachments) == 0
	})
	if _, err := sh(mnt, `echo '{"server": "nope"}' | tee volumes/data.json >/dev/null`); err == nil || !strings.Contains(err.Error(), "Invalid argument") {
		t.Errorf("attach to an unknown server: %v, want EINVAL", err)
	}
	mustSh(t, mnt, `echo '{"server": "web1"}' > volumes/data.json`)
	waitFor(t, "data attached again", func() bool {
		readJSON(t, mnt, "volumes/data.json", &vol)
		return vol.Status == "in_use" && len(vol.Attachments) == 1 && vol.Attachments[0].ServerID == srvID
	})

	// rm is refused without --allow-delete-volumes: EPERM, the reason, nothing deleted.
	for _, f := range []string{"volumes/data.json", "snapshots/nightly.json"} {
		_, err := sh(mnt, "rm "+f)
		if err == nil || !strings.Contains(err.Error(), "not permitted") {
			t.Errorf("rm %s without the flag: %v, want EPERM", f, err)
		}
		dir := f[:strings.IndexByte(f, '/')]
		if le := mustSh(t, mnt, "cat "+dir+"/.last-error"); !strings.Contains(le, "--allow-delete-volumes") {
			t.Errorf("%s/.last-error = %q", dir, le)
		}
	}
	if got, err := e.volumes.GetVolume(ctx, vol.ID); err != nil || got.Status != "in_use" {
		t.Errorf("the refused rm touched the volume: %+v %v", got, err)
	}
	if _, err := e.volumes.GetSnapshot(ctx, snap.ID); err != nil {
		t.Errorf("the refused rm touched the snapshot: %v", err)
	}
	if out := mustSh(t, mnt, "ls volumes snapshots"); !strings.Contains(out, "data.json") || !strings.Contains(out, "nightly.json") {
		t.Errorf("after the refused rm:\n%s", out)
	}
}

func TestDeleteVolumesWithTheFlag(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	mnt := mount(t, e.srv, true)
	e.activeServer(t, mnt, "db")
	mustSh(t, mnt, `echo '{"size": 1, "server": "db"}' > volumes/spare.json`)
	var vol cyclades.Volume
	waitFor(t, "spare in_use", func() bool {
		readJSON(t, mnt, "volumes/spare.json", &vol)
		return vol.Status == "in_use"
	})
	mustSh(t, mnt, `echo '{"volume": "spare"}' > snapshots/before.json`)
	waitFor(t, "before.json in images/", func() bool {
		_, err := sh(mnt, "cat images/before.json")
		return err == nil
	})

	mustSh(t, mnt, "rm snapshots/before.json")
	if snaps, err := e.volumes.ListSnapshots(ctx, false); err != nil || len(snaps) != 0 {
		t.Errorf("snapshots after rm: %+v %v", snaps, err)
	}
	waitFor(t, "before.json gone from images/", func() bool {
		out, err := sh(mnt, "ls images")
		return err == nil && !strings.Contains(out, "before.json")
	})

	// The root volume cannot go while its server lives: the cloud refuses, EINVAL.
	var root string
	for _, v := range mustVolumes(t, e) {
		if v.ID != vol.ID {
			root = v.ID
		}
	}
	if _, err := sh(mnt, "rm volumes/"+root+".json"); err == nil {
		t.Error("rm of the server's root volume succeeded")
	}
	if le := mustSh(t, mnt, "cat volumes/.last-error"); !strings.Contains(le, "root volume") {
		t.Errorf(".last-error = %q", le)
	}

	mustSh(t, mnt, "rm volumes/spare.json")
	waitFor(t, "spare gone", func() bool { return len(mustVolumes(t, e)) == 1 })
	waitFor(t, "spare.json gone from the listing", func() bool {
		out, err := sh(mnt, "ls volumes")
		return err == nil && !strings.Contains(out, "spare.json")
	})
}

func mustVolumes(t *testing.T, e *env) []cyclades.Volume {
	t.Helper()
	vols, err := e.volumes.ListVolumes(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	return vols
}
