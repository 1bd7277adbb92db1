package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// The test binary doubles as the mount process: with PITHOSFS_CONTROL_MOUNT
// set it mounts the control trees there and serves until unmounted, so the
// test drives a mount that lives in another process, as a user's shell would.
func TestMain(m *testing.M) {
	if dir := os.Getenv("PITHOSFS_CONTROL_MOUNT"); dir != "" {
		if err := serveMount(dir); err != nil {
			fmt.Fprintln(os.Stderr, "mount:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type root struct {
	gofs.Inode
	cfg control.Config
}

func (r *root) OnAdd(ctx context.Context) { control.Add(ctx, &r.Inode, r.cfg) }

func serveMount(dir string) error {
	ctx := context.Background()
	id, err := astakos.New(os.Getenv("PITHOSFS_URL"), os.Getenv("PITHOSFS_TOKEN"), synnefo.Options{})
	if err != nil {
		return err
	}
	cfg, err := control.FromCatalog(ctx, id, synnefo.Options{})
	if err != nil {
		return err
	}
	cfg.AllowDeleteServers = os.Getenv("PITHOSFS_ALLOW_DELETE") == "1"
	cfg.AllowDeleteVolumes = cfg.AllowDeleteServers
	cfg.TempDir = os.TempDir()
	cfg.TTL = 200 * time.Millisecond
	srv, err := gofs.Mount(dir, &root{cfg: cfg}, &gofs.Options{MountOptions: fuse.MountOptions{FsName: "pithosfs-control-test"}})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	srv.Wait()
	return nil
}

// mount starts the mount process and waits until the control trees show.
func mount(t *testing.T, srv *localcloud.Server, allowDelete bool) string {
	t.Helper()
	dir := t.TempDir()
	u := srv.Cloud.Users()[0]
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PITHOSFS_CONTROL_MOUNT="+dir, "PITHOSFS_URL="+srv.IdentityURL(), "PITHOSFS_TOKEN="+u.Token)
	if allowDelete {
		cmd.Env = append(cmd.Env, "PITHOSFS_ALLOW_DELETE=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exec.Command("fusermount3", "-u", dir).Run() != nil {
			exec.Command("fusermount3", "-uz", dir).Run()
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("mount stderr:\n%s", stderr.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "servers")); err == nil {
			return dir
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("mount did not come up: %s", stderr.String())
	return ""
}

// sh runs a shell command in dir; it returns stdout and the error.
func sh(dir, script string) (string, error) {
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, errb.String())
	}
	return out.String(), nil
}

func mustSh(t *testing.T, dir, script string) string {
	t.Helper()
	out, err := sh(dir, script)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return out
}

func waitFor(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if fn() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type env struct {
	srv     *localcloud.Server
	compute *cyclades.ComputeClient
	volumes *cyclades.BlockStorageClient
	pithos  *pithos.Client
	flavor  cyclades.Flavor
	// paused stops the cloud's clock while set (a server's DESTROY then lasts until it is cleared).
	paused atomic.Bool
	start  time.Time
}

// now is the cloud's clock: the real time, except that it stands still while paused.
func (e *env) now() time.Time {
	if e.paused.Load() {
		return e.start
	}
	return time.Now()
}

func setup(t *testing.T) *env {
	t.Helper()
	e := &env{}
	srv, err := localcloud.Start(localcloud.Config{Dir: t.TempDir(), BlockSize: 64 << 10, BuildDelay: 300 * time.Millisecond, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	u := srv.Cloud.Users()[0]
	id, _ := astakos.New(srv.IdentityURL(), u.Token, synnefo.Options{})
	cfg, err := control.FromCatalog(ctx, id, synnefo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	flavors, err := cfg.Compute.ListFlavors(ctx, true)
	if err != nil || len(flavors) == 0 {
		t.Fatalf("flavors: %v %v", flavors, err)
	}
	pc, ok := cfg.Pithos.(*pithos.Client)
	if !ok {
		t.Fatalf("the catalog's object store is a %T, want *pithos.Client", cfg.Pithos)
	}
	e.srv, e.compute, e.volumes, e.pithos, e.flavor = srv, cfg.Compute, cfg.Volumes, pc, flavors[0]
	return e
}

// upload puts an object into the user's container with the Go client.
func (e *env) upload(t *testing.T, container, name string, data []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.pithos.CreateContainer(ctx, container, pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pithos.UploadObject(ctx, container, name, bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestImagesAndServersThroughTheMount(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.upload(t, "images", "debian.diskdump", bytes.Repeat([]byte("debian"), 50000))
	mnt := mount(t, e.srv, false)

	ls := mustSh(t, mnt, "ls")
	for _, d := range []string{"servers", "images", "flavors", "networks"} {
		if !strings.Contains(ls, d) {
			t.Fatalf("ls = %q, missing %s", ls, d)
		}
	}
	fl := mustSh(t, mnt, "cat flavors/"+e.flavor.Name+".json")
	if !strings.Contains(fl, `"ram"`) {
		t.Fatalf("flavor file: %s", fl)
	}
	if _, err := sh(mnt, "echo '{}' > flavors/x.json"); err == nil {
		t.Fatal("flavors/ accepted a new file")
	}

	// Register an image by writing JSON.
	mustSh(t, mnt, `echo '{"location": "/images/debian.diskdump", "properties": {"os": "debian"}}' > images/debian.json`)
	var doc map[string]any
	if err := json.Unmarshal([]byte(mustSh(t, mnt, "cat images/debian.json")), &doc); err != nil {
		t.Fatal(err)
	}
	wantLoc := "pithos://" + e.srv.Cloud.Users()[0].UUID + "/images/debian.diskdump"
	if doc["location"] != wantLoc || doc["name"] != "debian" {
		t.Fatalf("image doc = %v, want location %s", doc, wantLoc)
	}
	// Copy a file in: uploaded and registered under its file name.
	local := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(local, bytes.Repeat([]byte("disk-image-bytes"), 100000), 0o644)
	mustSh(t, mnt, "cp "+local+" images/")
	waitFor(t, "disk.img registered", func() bool {
		out, err := sh(mnt, "cat images/disk.img.json")
		return err == nil && strings.Contains(out, "/images/disk.img")
	})
	info, err := e.pithos.ObjectInfo(ctx, "images", "disk.img", pithos.GetOptions{})
	if err != nil || info.Bytes != 1600000 {
		t.Fatalf("uploaded object: %+v %v", info, err)
	}
	imgDoc := mustSh(t, mnt, "cat images/disk.img.json")
	if !strings.Contains(imgDoc, info.Hash) {
		t.Errorf("image checksum is not the object's hash %s:\n%s", info.Hash, imgDoc)
	}

	// Bad input: EINVAL at write, a readable reason, nothing created.
	// A truncated document can only be refused at close(): tee reports it.
	if _, err := sh(mnt, `printf '{"flavor": ' | tee servers/bad.json >/dev/null`); err == nil {
		t.Error("incomplete JSON accepted")
	}
	if !strings.Contains(mustSh(t, mnt, "cat servers/.last-error"), "incomplete JSON") {
		t.Error(".last-error does not explain the incomplete document")
	}
	if _, err := sh(mnt, `echo '{"flavor": 1, "image": "debian", "nonsense": 1}' > servers/bad.json`); err == nil {
		t.Error("unknown field accepted")
	}
	if !strings.Contains(mustSh(t, mnt, "cat servers/.last-error"), "nonsense") {
		t.Error(".last-error does not name the bad field")
	}
	if _, err := sh(mnt, `echo '{"flavor": "no-such-flavor", "image": "debian"}' > servers/bad.json`); err == nil {
		t.Error("unknown flavor accepted")
	}
	if le := mustSh(t, mnt, "cat servers/.last-error"); !strings.Contains(le, "unknown flavor") || !strings.Contains(le, "invalid argument") {
		t.Errorf(".last-error = %q", le)
	}
	// ls -l shows .last-error as it is (its size, the time of the error) and the directories' times are the
	// mount's start, not 1970.
	le := mustSh(t, mnt, "cat servers/.last-error")
	var leSize, leTime, dirTime int64
	if _, err := fmt.Sscan(mustSh(t, mnt, "stat -c '%s %Y' servers/.last-error; stat -c %Y servers"), &leSize, &leTime, &dirTime); err != nil {
		t.Fatal(err)
	}
	if leSize != int64(len(le)) || time.Since(time.Unix(leTime, 0)) > time.Hour || time.Since(time.Unix(dirTime, 0)) > time.Hour {
		t.Errorf("stat of .last-error: size %d (its text has %d bytes), mtime %s; servers/ mtime %s",
			leSize, len(le), time.Unix(leTime, 0), time.Unix(dirTime, 0))
	}
	if all, _ := e.compute.ListServers(ctx, cyclades.ListOptions{}); len(all) != 0 {
		t.Fatalf("bad specs created servers: %+v", all)
	}

	// Create a server by writing its spec; watch it build.
	spec := fmt.Sprintf(`{"flavor": %q, "image": "debian", "metadata": {"role": "web"}}`, e.flavor.Name)
	mustSh(t, mnt, "echo '"+spec+"' > servers/web1.json")
	first := mustSh(t, mnt, "cat servers/web1.json")
	if !strings.Contains(first, "adminPass") {
		t.Errorf("first read after creation has no adminPass:\n%s", first)
	}
	waitFor(t, "web1 ACTIVE", func() bool {
		out, err := sh(mnt, "cat servers/web1.json")
		return err == nil && strings.Contains(out, `"ACTIVE"`)
	})
	if strings.Contains(mustSh(t, mnt, "cat servers/web1.json"), "adminPass") {
		t.Error("adminPass shown more than once")
	}
	all, err := e.compute.ListServers(ctx, cyclades.ListOptions{Detail: true})
	if err != nil || len(all) != 1 || all[0].Name != "web1" || all[0].Metadata["role"] != "web" {
		t.Fatalf("servers seen by the Go client: %+v %v", all, err)
	}
	id := all[0].ID
	// An action on the existing file, and lookup by id.
	mustSh(t, mnt, `echo '{"action": "shutdown"}' > servers/web1.json`)
	waitFor(t, "web1 STOPPED", func() bool {
		s, err := e.compute.GetServer(ctx, id)
		return err == nil && s.Status == "STOPPED"
	})
	if out := mustSh(t, mnt, fmt.Sprintf("cat servers/%d.json", id)); !strings.Contains(out, `"STOPPED"`) {
		t.Errorf("lookup by id: %s", out)
	}
	// rm is refused without --allow-delete-servers.
	_, err = sh(mnt, "rm servers/web1.json")
	if err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Errorf("rm without the flag: %v", err)
	}
	// The seed's batch-create script as a shell loop.
	mustSh(t, mnt, fmt.Sprintf(`for i in 1 2 3; do
  echo '{"flavor": %q, "image": "debian"}' > servers/batch$i.json
done`, e.flavor.Name))
	if got := mustSh(t, mnt, "ls servers | grep -c '^batch'"); strings.TrimSpace(got) != "3" {
		t.Errorf("batch servers listed: %s", got)
	}
	// Unregister: the object stays.
	mustSh(t, mnt, "rm images/debian.json")
	if out := mustSh(t, mnt, "ls images"); strings.Contains(out, "debian.json") {
		t.Errorf("unregistered image still listed: %s", out)
	}
	if _, err := e.pithos.ObjectInfo(ctx, "images", "debian.diskdump", pithos.GetOptions{}); err != nil {
		t.Errorf("unregister removed the object: %v", err)
	}
}

func TestDeleteServersWithTheFlag(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.upload(t, "images", "base", []byte("base image"))
	mnt := mount(t, e.srv, true)
	mustSh(t, mnt, `echo '{"location": "/images/base"}' > images/base.json`)
	mustSh(t, mnt, fmt.Sprintf(`echo '{"flavor": %d, "image": "base"}' > servers/db.json`, e.flavor.ID))
	waitFor(t, "db ACTIVE", func() bool {
		out, err := sh(mnt, "cat servers/db.json")
		return err == nil && strings.Contains(out, `"ACTIVE"`)
	})
	// Right after rm, while the cloud destroys it (its clock paused: the DESTROY cannot end), the file says
	// DELETING; then it disappears.
	e.start = time.Now()
	e.paused.Store(true)
	mustSh(t, mnt, "rm servers/db.json")
	if out := mustSh(t, mnt, "ls servers; cat servers/db.json"); !strings.Contains(out, `"status": "DELETING"`) {
		t.Errorf("right after rm: want db.json with status DELETING, got:\n%s", out)
	}
	e.paused.Store(false)
	waitFor(t, "db gone", func() bool {
		all, err := e.compute.ListServers(ctx, cyclades.ListOptions{})
		return err == nil && len(all) == 0
	})
	waitFor(t, "db.json gone from the listing", func() bool {
		out, err := sh(mnt, "ls servers")
		return err == nil && !strings.Contains(out, "db.json")
	})
}
