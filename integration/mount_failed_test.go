package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMountFailedCommitKeptAndDiscarded: a file written into a container
// whose quota it exceeds cannot be committed (close() fails); the daemon is
// killed with -9; the next mount's recovery is refused again by the server,
// so the commit is kept under .pithosfs/uploads/failed/. With shell tools:
// the entry is listed under a recognisable name, its reason names the
// quota, its data is byte for byte what was written, and rm -r of the entry
// discards it from uploads.json and from the journal. The mount is a
// container mount, so this also checks .pithosfs there.
func TestMountFailedCommitKeptAndDiscarded(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "q", nil, http.Header{"X-Container-Policy-Quota": {"1048576"}})
	srv.put(t, alice, "q/small", []byte("fits"), nil)
	args := mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: "/q", CacheDir: filepath.Join(t.TempDir(), "cache")}
	m := startMount(t, args)

	src := filepath.Join(t.TempDir(), "report.bin")
	data := randomBytes(3<<20 + 12345) // over the container's 1 MiB quota
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(m.Dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := shErr("cp " + shq(src) + " " + shq(filepath.Join(m.Dir, "sub", "report.bin")))
	if err == nil {
		t.Fatalf("cp over the quota succeeded: %s", out)
	}
	t.Logf("cp over the quota: %v: %s", err, strings.TrimSpace(out))
	// Two more refused files, removed below with rmdir and with rm of data.
	for _, n := range []string{"two.bin", "three.bin"} {
		if err := os.WriteFile(filepath.Join(m.Dir, n), randomBytes(1<<20+1), 0o644); err == nil {
			t.Fatalf("%s over the quota: close() returned 0", n)
		}
	}
	m.kill9(t)

	m = startMountAt(t, m.Dir, args)
	ctl := filepath.Join(m.Dir, ".pithosfs")
	failedList := filepath.Join(ctl, "uploads", "failed")
	if got := strings.Fields(sh(t, "ls "+shq(failedList))); strings.Join(got, " ") != "q%2Fsub%2Freport.bin q%2Fthree.bin q%2Ftwo.bin" {
		t.Fatalf("ls .pithosfs/uploads/failed = %q", got)
	}
	sh(t, "rmdir "+shq(filepath.Join(failedList, "q%2Ftwo.bin"))+" && rm "+shq(filepath.Join(failedList, "q%2Fthree.bin", "data")))
	if got := strings.TrimSpace(sh(t, "ls "+shq(failedList))); got != "q%2Fsub%2Freport.bin" {
		t.Fatalf("ls .pithosfs/uploads/failed after rmdir and rm data = %q", got)
	}
	if _, err := os.Stat(filepath.Join(failedList, "q%2Fthree.bin", "reason")); err == nil {
		t.Error("reason still there after rm of data")
	}
	entry := filepath.Join(ctl, "uploads", "failed", "q%2Fsub%2Freport.bin")
	if got := strings.Fields(sh(t, "ls "+shq(entry))); strings.Join(got, " ") != "data reason" {
		t.Errorf("ls of the entry = %q", got)
	}
	reason := sh(t, "cat "+shq(filepath.Join(entry, "reason")))
	if !strings.Contains(reason, "quota") || !strings.Contains(reason, "q/sub/report.bin") {
		t.Errorf("reason = %q", reason)
	}
	if got := sh(t, "stat -c %s "+shq(filepath.Join(entry, "data"))); strings.TrimSpace(got) != strconv.Itoa(len(data)) {
		t.Errorf("stat -c %%s data = %q, want %d", got, len(data))
	}
	saved := filepath.Join(t.TempDir(), "saved.bin")
	sh(t, "cp "+shq(filepath.Join(entry, "data"))+" "+shq(saved)+" && cmp "+shq(src)+" "+shq(saved))
	status := sh(t, "cat "+shq(filepath.Join(ctl, "uploads", "status")))
	if !strings.Contains(status, "failed") || !strings.Contains(status, "q/sub/report.bin") {
		t.Errorf("uploads/status = %q", status)
	}
	if ups := m.pendingUploads(t); len(ups) != 1 || ups[0]["state"] != "failed" || ups[0]["name"] != "sub/report.bin" {
		t.Fatalf("uploads.json = %v", ups)
	}
	failedJournal := filepath.Join(args.CacheDir, "journal", alice.UUID, "failed")
	if ents, _ := os.ReadDir(failedJournal); len(ents) != 1 {
		t.Fatalf("journal failed/ holds %d entries, want 1", len(ents))
	}
	if got := srv.tryGet(t, alice, "q/sub/report.bin"); got != nil {
		t.Errorf("the refused version is on the server (%d bytes)", len(got))
	}

	sh(t, "rm -r "+shq(entry))
	if got := strings.TrimSpace(sh(t, "ls -A "+shq(filepath.Join(ctl, "uploads", "failed")))); got != "" {
		t.Errorf("ls failed/ after rm = %q", got)
	}
	if ups := m.pendingUploads(t); len(ups) != 0 {
		t.Errorf("uploads.json after rm = %v", ups)
	}
	if ents, err := os.ReadDir(failedJournal); err != nil || len(ents) != 0 {
		t.Errorf("journal failed/ after rm: %d entries, %v", len(ents), err)
	}
	// The mount itself still works.
	if got, err := os.ReadFile(filepath.Join(m.Dir, "small")); err != nil || string(got) != "fits" {
		t.Errorf("small = %q, %v", got, err)
	}
}

// TestMountControlOnContainerMount: container and prefix mounts have
// .pithosfs at their root (stats.json, uploads/status, uploads.json); an
// object named .pithosfs at that root is hidden, and .pithosfs cannot be
// removed or renamed there.
func TestMountControlOnContainerMount(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	srv.put(t, alice, "c/.pithosfs", []byte("an object with the reserved name"), nil)
	srv.put(t, alice, "c/p/f", []byte("in the prefix"), nil)
	srv.put(t, alice, "c/p/.pithosfs", []byte("hidden at a prefix mount's root"), nil)
	for _, remote := range []string{"/c", "/c/p"} {
		t.Run(strings.ReplaceAll(remote, "/", "_"), func(t *testing.T) {
			m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, Remote: remote})
			ctl := filepath.Join(m.Dir, ".pithosfs")
			st := sh(t, "cat "+shq(filepath.Join(ctl, "stats.json")))
			if !strings.HasPrefix(strings.TrimSpace(st), "{") {
				t.Errorf("stats.json = %q", st)
			}
			if got := strings.Fields(sh(t, "ls "+shq(ctl))); strings.Join(got, " ") != "deleted stats.json uploads uploads.json versions" {
				t.Errorf("ls .pithosfs = %q", got)
			}
			if got := sh(t, "cat "+shq(filepath.Join(ctl, "uploads", "status"))); !strings.Contains(got, "no pending uploads") {
				t.Errorf("uploads/status = %q", got)
			}
			if n := strings.Count(sh(t, "ls -a "+shq(m.Dir)), ".pithosfs"); n != 1 {
				t.Errorf("ls -a of the root shows .pithosfs %d times", n)
			}
			if fi, err := os.Stat(ctl); err != nil || !fi.IsDir() {
				t.Errorf("stat .pithosfs: %v, %v", fi, err)
			}
			if err := os.Remove(ctl); err == nil {
				t.Error("rmdir .pithosfs succeeded")
			}
			if err := os.Rename(ctl, filepath.Join(m.Dir, "moved")); err == nil {
				t.Error("rename of .pithosfs succeeded")
			}
			if err := os.Mkdir(filepath.Join(m.Dir, "d"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(m.Dir, "d"), ctl); err == nil {
				t.Error("rename onto .pithosfs succeeded")
			}
			// Below the root the name is an ordinary one.
			sub := filepath.Join(m.Dir, "d", ".pithosfs")
			if err := os.WriteFile(sub, []byte("ordinary"), 0o644); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				got, err := os.ReadFile(sub)
				if err == nil && string(got) == "ordinary" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("d/.pithosfs = %q, %v", got, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !bytes.Contains([]byte(sh(t, "ls -a "+shq(filepath.Join(m.Dir, "d")))), []byte(".pithosfs")) {
				t.Error("d/.pithosfs not listed")
			}
		})
	}
	// The objects with the reserved name are untouched on the server.
	if got := srv.tryGet(t, alice, "c/.pithosfs"); string(got) != "an object with the reserved name" {
		t.Errorf("c/.pithosfs on the server = %q", got)
	}
}
