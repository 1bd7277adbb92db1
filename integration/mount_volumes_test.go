package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMountVolumesAndSnapshots: on a whole-cloud mount of `pithosfs serve`,
// a volume is created and attached by writing JSON to volumes/, snapshotted
// by writing JSON to snapshots/, and the snapshot shows in images/ at the
// volume's size. rm of either is EPERM without --allow-delete-volumes and
// works on a mount given it.
func TestMountVolumesAndSnapshots(t *testing.T) {
	srv := startServe(t)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	root := m.Dir
	ls := sh(t, "ls "+shq(root))
	for _, d := range []string{"servers", "volumes", "snapshots", "images"} {
		if !strings.Contains(ls, d) {
			t.Fatalf("ls of the mount root = %q, missing %s", ls, d)
		}
	}
	serverID := activeServerThroughMount(t, root, "web1")

	sh(t, "echo "+shq(`{"size": 10, "server": "web1"}`)+" > "+shq(filepath.Join(root, "volumes", "data.json")))
	var vol struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Size        int64  `json:"size"`
		Attachments []struct {
			ServerID int64 `json:"server_id"`
		} `json:"attachments"`
	}
	waitJSON(t, filepath.Join(root, "volumes", "data.json"), &vol, func() bool { return vol.Status == "in_use" })
	if vol.Size != 10 || len(vol.Attachments) != 1 || vol.Attachments[0].ServerID != serverID {
		t.Fatalf("volumes/data.json = %+v, want 10 GiB attached to server %d", vol, serverID)
	}

	sh(t, "echo "+shq(`{"volume": "data"}`)+" > "+shq(filepath.Join(root, "snapshots", "data-1.json")))
	var snap struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Size     int64  `json:"size"`
		VolumeID string `json:"volume_id"`
	}
	waitJSON(t, filepath.Join(root, "snapshots", "data-1.json"), &snap, func() bool { return snap.Status == "AVAILABLE" })
	if snap.VolumeID != vol.ID || snap.Size != 10 {
		t.Fatalf("snapshots/data-1.json = %+v, want a 10 GiB snapshot of volume %s", snap, vol.ID)
	}
	var img struct {
		ID         string `json:"id"`
		Size       int64  `json:"size"`
		IsSnapshot bool   `json:"is_snapshot"`
		Location   string `json:"location"`
	}
	waitJSON(t, filepath.Join(root, "images", "data-1.json"), &img, func() bool { return img.ID != "" })
	if img.ID != snap.ID || !img.IsSnapshot || img.Size != 10<<30 || img.Location != "pithos://"+alice.UUID+"/snapshots/data-1" {
		t.Fatalf("images/data-1.json = %+v, want snapshot %s registered at 10 GiB", img, snap.ID)
	}

	// Without --allow-delete-volumes: EPERM, the reason in .last-error, nothing deleted.
	for _, f := range []string{"volumes/data.json", "snapshots/data-1.json"} {
		out, err := shErr("rm " + shq(filepath.Join(root, f)))
		if err == nil || !strings.Contains(out, "Operation not permitted") {
			t.Errorf("rm %s without the flag: %v %s, want EPERM", f, err, out)
		}
		dir := filepath.Dir(f)
		if le := sh(t, "cat "+shq(filepath.Join(root, dir, ".last-error"))); !strings.Contains(le, "--allow-delete-volumes") {
			t.Errorf("%s/.last-error = %q", dir, le)
		}
	}
	if out := sh(t, "ls "+shq(filepath.Join(root, "volumes"))+" "+shq(filepath.Join(root, "snapshots"))); !strings.Contains(out, "data.json") || !strings.Contains(out, "data-1.json") {
		t.Fatalf("after the refused rm:\n%s", out)
	}

	// A mount given the flag deletes both.
	m2 := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Extra: []string{"--allow-delete-volumes"}})
	sh(t, "rm "+shq(filepath.Join(m2.Dir, "snapshots", "data-1.json")))
	waitUnlisted(t, filepath.Join(m2.Dir, "images"), "data-1.json")
	waitUnlisted(t, filepath.Join(m2.Dir, "snapshots"), "data-1.json")
	sh(t, "rm "+shq(filepath.Join(m2.Dir, "volumes", "data.json")))
	waitUnlisted(t, filepath.Join(m2.Dir, "volumes"), "data.json")
}

// activeServerThroughMount registers an image and creates a server on an
// ext_* flavor (whose volumes can be snapshotted) through the mount, and
// returns its id once it is ACTIVE.
func activeServerThroughMount(t *testing.T, root, name string) int64 {
	t.Helper()
	img := filepath.Join(root, alice.Name, "disks", "base.img")
	sh(t, "mkdir -p "+shq(filepath.Dir(img))+" && head -c 200000 /dev/urandom > "+shq(img))
	sh(t, "echo "+shq(`{"location": "`+img+`"}`)+" > "+shq(filepath.Join(root, "images", "base.json")))
	flavor := strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(root, "flavors"))+" | grep ext_ | head -1"))
	if flavor == "" {
		t.Fatal("no ext_* flavor in flavors/")
	}
	spec := `{"flavor": "` + strings.TrimSuffix(flavor, ".json") + `", "image": "base"}`
	sh(t, "echo "+shq(spec)+" > "+shq(filepath.Join(root, "servers", name+".json")))
	var sv struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	waitJSON(t, filepath.Join(root, "servers", name+".json"), &sv, func() bool { return sv.Status == "ACTIVE" })
	return sv.ID
}

// waitJSON reads path into v until done reports true (30 s at most).
func waitJSON(t *testing.T, path string, v any, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && json.Unmarshal(b, v) == nil && done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got there: %s %v", path, b, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitUnlisted waits until dir's listing no longer has name (30 s at most).
func waitUnlisted(t *testing.T, dir, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := shErr("ls " + shq(dir))
		if err == nil && !strings.Contains(out, name) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still lists %s: %s %v", dir, name, out, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
