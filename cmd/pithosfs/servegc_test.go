package main

import (
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// blockFiles counts the block files under a data directory's blocks/.
func blockFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "blocks"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pithosfs serve gc removes the blocks of a deleted, purged object from a
// data directory no server uses, and keeps the live object's.
func TestServeGCCommand(t *testing.T) {
	dir := t.TempDir()
	user := localcloud.User{Name: "a@example.org", UUID: "a0000000-0000-4000-8000-00000000000a", Token: "tok"}
	srv, err := localcloud.Start(localcloud.Config{Dir: dir, BlockSize: 4, Users: []localcloud.User{user}})
	if err != nil {
		t.Fatal(err)
	}
	base := srv.ObjectStoreURL() + "/" + user.UUID + "/c"
	do := func(method, url, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", user.Token)
		req.Header.Set("Content-Type", "text/plain")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d", method, url, res.StatusCode, want)
		}
	}
	do("PUT", base, "", 201)
	do("PUT", base+"/keep", "keepKEEP", 201)         // 2 blocks
	do("PUT", base+"/gone", "0123456789abcdef", 201) // 4 more
	do("DELETE", base+"/gone", "", 204)
	do("DELETE", base+"/gone?until="+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10), "", 204)
	srv.Close()
	if n := blockFiles(t, dir); n != 6 {
		t.Fatalf("%d block files before gc, want 6", n)
	}
	if err := runServeGC([]string{"--data", dir, "--gc-grace", "0s", "--log-level", "error"}, logOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := blockFiles(t, dir); n != 2 {
		t.Errorf("%d block files after gc, want the live object's 2", n)
	}
	if err := runServeGC([]string{"--data", t.TempDir()}, logOptions{}); err == nil || !strings.Contains(err.Error(), "no local cloud in") {
		t.Errorf("gc of an empty directory: %v", err)
	}
}
