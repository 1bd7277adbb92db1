package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMountControlTrees: a whole-cloud `pithosfs mount` shows servers/,
// images/, flavors/ and networks/ beside the accounts; an object written
// through the mount is registered by naming its path inside the mount, and
// a server is created from it with echo and watched with cat.
func TestMountControlTrees(t *testing.T) {
	srv := startServe(t)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	root := m.Dir
	ls := sh(t, "ls "+shq(root))
	for _, d := range []string{"servers", "images", "flavors", "networks", alice.Name} {
		if !strings.Contains(ls, d) {
			t.Fatalf("ls of the mount root = %q, missing %s", ls, d)
		}
	}
	img := filepath.Join(root, alice.Name, "disks", "base.img")
	sh(t, "mkdir "+shq(filepath.Dir(img))+" && head -c 2000000 /dev/urandom > "+shq(img))
	sh(t, "echo "+shq(`{"location": "`+img+`"}`)+" > "+shq(filepath.Join(root, "images", "base.json")))
	doc := sh(t, "cat "+shq(filepath.Join(root, "images", "base.json")))
	if !strings.Contains(doc, "pithos://"+alice.UUID+"/disks/base.img") {
		t.Fatalf("image registered from a mount path:\n%s", doc)
	}
	flavor := strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(root, "flavors"))+" | head -1"))
	flavor = strings.TrimSuffix(flavor, ".json")
	spec := `{"flavor": "` + flavor + `", "image": "base"}`
	sh(t, "echo "+shq(spec)+" > "+shq(filepath.Join(root, "servers", "web.json")))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := os.ReadFile(filepath.Join(root, "servers", "web.json"))
		if err == nil && strings.Contains(string(out), `"ACTIVE"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never became ACTIVE: %s %v", out, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := shErr("rm " + shq(filepath.Join(root, "servers", "web.json"))); err == nil {
		t.Fatal("rm of a server file succeeded without --allow-delete-servers")
	}
}
