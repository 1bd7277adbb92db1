package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// TestMountRemountFromDiskCache reads a file, unmounts, remounts with the same cache directory and reads it
// again: no block is downloaded the second time; then a corrupted cache file is detected and refetched. A file
// read whole keeps its blocks in its object file only (the disk tier finds them there), so the object file is
// dropped for the block-file half of the test, and the object file's half reads through a read-write open
// (which reads blocks through the cache, never the object file as a whole).
func TestMountRemountFromDiskCache(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	data := randomBytes(3<<20*4 + 12345) // 4 blocks, the last one short
	srv.put(t, alice, "c/file", data, nil)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	objects := filepath.Join(cacheDir, "blocks", "objects")
	// mountAndRead reads the file whole in a new mount: with cat (its first read makes the object file)
	// or through a read-write open.
	mountAndRead := func(readWrite bool) mountStats {
		m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token, CacheDir: cacheDir})
		p := filepath.Join(m.Dir, alice.Name, "c", "file")
		var got []byte
		if readWrite {
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			got = make([]byte, len(data)+1)
			n, _ := f.ReadAt(got, 0)
			got = got[:n]
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			sh(t, "cat "+shq(p)+" > /dev/null")
			got = []byte(sh(t, "cat "+shq(p)))
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("content of %s differs", p)
		}
		if !readWrite {
			waitAssembled(t, m, 1)
		}
		st := m.stats(t)
		m.unmount(t)
		return st
	}
	first := mountAndRead(false)
	if first.RequestsByKind["get_range"] == 0 || first.Cache.BytesFetched < int64(len(data)) {
		t.Fatalf("first read fetched nothing? %+v", first)
	}
	if files, _ := filepath.Glob(filepath.Join(cacheDir, "blocks", "[0-9a-f][0-9a-f]", "*")); len(files) != 0 {
		t.Errorf("block files beside the object file of a file read whole: %v", files)
	}
	second := mountAndRead(true)
	if r := second.RequestsByKind["get_range"]; r != 0 || second.Cache.BytesFetched != 0 {
		t.Errorf("remount read made %d range GETs, fetched %d bytes; want 0 (the object file's blocks)", r, second.Cache.BytesFetched)
	}
	if second.Cache.DiskHits == 0 {
		t.Errorf("remount read: no disk hits: %+v", second.Cache)
	}

	// Corrupt block 1 in the object file: the next mount detects it, fetches it again and drops the object file
	// (the kernel would read it unverified).
	bs := 4 << 20
	objs, _ := filepath.Glob(filepath.Join(objects, "x*[0-9a-f]"))
	if len(objs) != 1 {
		t.Fatalf("object files: %v", objs)
	}
	f, err := os.OpenFile(objs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt([]byte{data[bs+100] ^ 0xff}, int64(bs+100))
	f.Close()
	third := mountAndRead(true)
	if third.Cache.CorruptDiskBlocks != 1 || third.RequestsByKind["get_range"] == 0 {
		t.Errorf("after corrupting the object file: corrupt=%d range GETs=%d, want 1 and ≥ 1",
			third.Cache.CorruptDiskBlocks, third.RequestsByKind["get_range"])
	}
	if _, err := os.Stat(objs[0]); !os.IsNotExist(err) {
		t.Errorf("corrupt object file kept: %v", err)
	}

	// Block files: a read-write open makes no object file, so the blocks the third read fetched went to files
	// of their own, and those it had read from the object file before it was dropped are fetched (to files)
	// now. A remount reads them from disk; a corrupted one is detected and fetched again, alone.
	mountAndRead(true)
	fourth := mountAndRead(true)
	if r := fourth.RequestsByKind["get_range"]; r != 0 || fourth.Cache.DiskHits == 0 {
		t.Errorf("remount read from block files: %d range GETs, %d disk hits; want 0 and > 0", r, fourth.Cache.DiskHits)
	}
	h := hashmap.BlockHashHex(data[bs : 2*bs])
	p := filepath.Join(cacheDir, "blocks", h[:2], h)
	blk, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("cache file of block 1: %v", err)
	}
	blk[100] ^= 0xff
	if err := os.WriteFile(p, blk, 0o600); err != nil {
		t.Fatal(err)
	}
	fifth := mountAndRead(true)
	if fifth.Cache.CorruptDiskBlocks != 1 || fifth.RequestsByKind["get_range"] != 1 {
		t.Errorf("after corrupting one cache file: corrupt=%d range GETs=%d, want 1 and 1",
			fifth.Cache.CorruptDiskBlocks, fifth.RequestsByKind["get_range"])
	}
}

// TestMountSeesChangeBehind replaces an object through the API while the mount has it cached: the next
// open (after the attribute TTL) sees the new bytes and size; an unchanged reopen keeps the page cache.
func TestMountSeesChangeBehind(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "c", nil, nil)
	srv.put(t, alice, "c/note.txt", []byte("version one\n"), nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	p := filepath.Join(m.Dir, alice.Name, "c", "note.txt")
	if got := sh(t, "cat "+shq(p)); got != "version one\n" {
		t.Fatalf("cat: %q", got)
	}
	if got := sh(t, "cat "+shq(p)); got != "version one\n" {
		t.Fatalf("cat again: %q", got)
	}
	if k := m.stats(t).OpensKeepCache; k < 1 {
		t.Errorf("unchanged reopen did not keep the page cache (opens_keep_cache=%d)", k)
	}
	srv.put(t, alice, "c/note.txt", []byte("the second version, longer\n"), nil)
	time.Sleep(1200 * time.Millisecond) // --attr-ttl 1s
	if got := sh(t, "cat "+shq(p)); got != "the second version, longer\n" {
		t.Fatalf("cat after the change behind the mount: %q", got)
	}
	if got := strings.TrimSpace(sh(t, "stat -c %s "+shq(p))); got != "27" {
		t.Errorf("size after the change: %s", got)
	}
}

// TestMountSharedContainer: alice shares a directory of her container with bob; both mount the whole cloud
// and read the same bytes; bob sees alice's account by her user name.
func TestMountSharedContainer(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "team", nil, nil)
	srv.put(t, alice, "team/proj", nil, http.Header{"Content-Type": {"application/directory"},
		"X-Object-Sharing": {"read=" + bob.UUID}})
	data := randomBytes(5<<20 + 7)
	srv.put(t, alice, "team/proj/report.bin", data, nil)
	srv.put(t, alice, "team/private.txt", []byte("alice only"), nil)

	ma := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	mb := startMount(t, mountArgs{URL: srv.identityURL(), Token: bob.Token})
	// The root lists the accounts beside the control trees.
	if got := sh(t, "ls "+shq(mb.Dir)+" | grep -v -x -e flavors -e images -e networks -e servers -e snapshots -e volumes"); got != bob.Name+"\n"+alice.Name+"\n" && got != alice.Name+"\n"+bob.Name+"\n" {
		t.Fatalf("bob's root: %q, want both accounts by name", got)
	}
	pa := filepath.Join(ma.Dir, alice.Name, "team", "proj", "report.bin")
	pb := filepath.Join(mb.Dir, alice.Name, "team", "proj", "report.bin")
	sh(t, "cmp "+shq(pa)+" "+shq(pb))
	if got := strings.Fields(sh(t, "sha256sum "+shq(pb)))[0]; got != sha256hex(data) {
		t.Errorf("bob reads %s, want %s", got, sha256hex(data))
	}
	if out, err := shErr("cat " + shq(filepath.Join(mb.Dir, alice.Name, "team", "private.txt"))); err == nil {
		t.Errorf("bob read alice's private file: %q", out)
	}
	// The account is also reachable by uuid.
	sh(t, "cmp "+shq(pa)+" "+shq(filepath.Join(mb.Dir, alice.UUID, "team", "proj", "report.bin")))
}
