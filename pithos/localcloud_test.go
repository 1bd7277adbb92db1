package pithos_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// countingTransport counts requests by method+kind and request body bytes.
type countingTransport struct {
	next       http.RoundTripper // nil → http.DefaultTransport
	mu         sync.Mutex
	blockPosts int
	hashmapPut int
	rangeGets  int
	bodyBytes  int64
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ct.mu.Lock()
	switch {
	case r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/octet-stream" && r.Header.Get("Content-Range") == "":
		ct.blockPosts++
	case r.Method == http.MethodPut && r.URL.Query().Has("hashmap"):
		ct.hashmapPut++
	case r.Method == http.MethodGet && r.Header.Get("Range") != "":
		ct.rangeGets++
	}
	if r.ContentLength > 0 {
		ct.bodyBytes += r.ContentLength
	}
	ct.mu.Unlock()
	if ct.next != nil {
		return ct.next.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (ct *countingTransport) reset() (posts, puts, gets int, body int64) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	posts, puts, gets, body = ct.blockPosts, ct.hashmapPut, ct.rangeGets, ct.bodyBytes
	ct.blockPosts, ct.hashmapPut, ct.rangeGets, ct.bodyBytes = 0, 0, 0, 0
	return
}

type cloud struct {
	srv   *localcloudtest.Cloud
	c     *pithos.Client
	count *countingTransport
}

func startCloud(t *testing.T, blockSize int64, users ...localcloudtest.User) *cloud {
	t.Helper()
	return startCloudConfig(t, localcloudtest.Config{BlockSize: blockSize, Users: users})
}

// startCloudConfig starts a cloud configured by cfg with a client of its
// first user, counted, and a container "c".
func startCloudConfig(t *testing.T, cfg localcloudtest.Config) *cloud {
	t.Helper()
	srv := localcloudtest.NewConfig(t, cfg)
	u := srv.User()
	ct := &countingTransport{}
	c, err := pithos.New(srv.ObjectStoreURL(), u.Token, synnefo.Options{HTTPClient: &http.Client{Transport: ct}})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithAccount(u.UUID)
	if _, err := c.CreateContainer(context.Background(), "c", pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	ct.reset()
	return &cloud{srv: srv, c: c, count: ct}
}

func random(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(p []byte) (int, error) { return s.r.Read(p) }

// tempFile writes data to a new file and returns it open for reading and writing.
func tempFile(t *testing.T, data []byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f
}

func download(t *testing.T, c *pithos.Client, name string, opts pithos.DownloadOptions) ([]byte, *pithos.DownloadStats) {
	t.Helper()
	f := tempFile(t, nil)
	if opts.Resume != nil {
		f = opts.Resume.(*os.File)
	}
	_, st, err := c.DownloadObject(context.Background(), "c", name, f, opts)
	if err != nil {
		t.Fatalf("download %s: %v", name, err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return data, st
}

func TestLocalRoundTrips(t *testing.T) {
	for _, bs := range []int64{1024, 4 << 20} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			cl := startCloud(t, bs)
			ctx := context.Background()
			caps, err := cl.c.Capabilities(ctx, "c")
			if err != nil || !caps.Hashmaps || caps.BlockSize != bs {
				t.Fatalf("capabilities %+v %v", caps, err)
			}
			for _, size := range []int64{0, 1, bs - 1, bs, 3*bs + 17} {
				data := random(t, int(size))
				if size > 2*bs {
					copy(data[bs:2*bs], data[:bs]) // a repeated block
				}
				for _, mode := range []string{"readerat", "stream", "file"} {
					name := fmt.Sprintf("dir/obj %d %s", size, mode)
					var src io.Reader = bytes.NewReader(data)
					switch mode {
					case "stream":
						src = streamOnly{bytes.NewReader(data)}
					case "file":
						src = tempFile(t, data)
					}
					res, err := cl.c.UploadObject(ctx, "c", name, src, pithos.UploadOptions{PutOptions: pithos.PutOptions{ContentType: "image/svg+xml"}})
					if err != nil {
						t.Fatalf("upload %s: %v", name, err)
					}
					want := hashmap.HashBytes(data, bs)
					top, _ := want.TopHash()
					info, err := cl.c.ObjectInfo(ctx, "c", name, pithos.GetOptions{})
					if err != nil || info.Bytes != size || info.Hash != top || info.ETag != res.ETag || info.ContentType != "image/svg+xml" {
						t.Fatalf("%s: info %+v (want hash %s), %v", name, info, top, err)
					}
					got, _ := download(t, cl.c, name, pithos.DownloadOptions{})
					if !bytes.Equal(got, data) {
						t.Fatalf("%s: download differs (%d vs %d bytes)", name, len(got), len(data))
					}
				}
			}
		})
	}
}

func TestLocalUploadsOnlyMissingBlocks(t *testing.T) {
	const bs = 1024
	cl := startCloud(t, bs)
	ctx := context.Background()
	data := random(t, 10*bs+100)
	copy(data[3*bs:4*bs], data[0:bs]) // block 3 = block 0: 10 distinct of 11
	if _, err := cl.c.UploadObject(ctx, "c", "a", bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	posts, puts, _, _ := cl.count.reset()
	if posts != 10 || puts != 2 {
		t.Fatalf("first upload: %d block POSTs, %d hashmap PUTs; want 10 and 2", posts, puts)
	}
	// Same data again: every block is on the server, one PUT, only the hashmap is sent.
	if _, err := cl.c.UploadObject(ctx, "c", "b", bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	posts, puts, _, body := cl.count.reset()
	if posts != 0 || puts != 1 || body > 2000 {
		t.Fatalf("dedup upload: %d POSTs, %d PUTs, %d body bytes", posts, puts, body)
	}
	// One block changed: exactly one block goes up.
	data[5*bs+7] ^= 0xff
	if _, err := cl.c.UploadObject(ctx, "c", "a", bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if posts, puts, _, _ := cl.count.reset(); posts != 1 || puts != 2 {
		t.Fatalf("one-block change: %d POSTs, %d PUTs", posts, puts)
	}
	// Download with resume from a local copy that has all but two blocks right.
	local := append([]byte(nil), data...)
	local[2*bs] ^= 1
	local = local[:9*bs]
	f := tempFile(t, local)
	got, st := download(t, cl.c, "a", pithos.DownloadOptions{Resume: f})
	if !bytes.Equal(got, data) {
		t.Fatal("resumed download differs")
	}
	if st.Fetched != 3 || st.Reused != 8 {
		t.Fatalf("resume stats %+v; want 3 fetched (blocks 2, 9, 10), 8 reused", st)
	}
	// A fresh download fetches each distinct block once.
	if _, st := download(t, cl.c, "a", pithos.DownloadOptions{}); st.Fetched != 10 || st.Blocks != 11 {
		t.Fatalf("download stats %+v", st)
	}
	if _, _, gets, _ := cl.count.reset(); gets != 13 {
		t.Fatalf("%d range GETs, want 13", gets)
	}
}

func TestLocalStaleCommitIs412(t *testing.T) {
	cl := startCloud(t, 1024)
	ctx := context.Background()
	r1, err := cl.c.UploadObject(ctx, "c", "o", bytes.NewReader([]byte("one")), pithos.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.c.UploadObject(ctx, "c", "o", bytes.NewReader([]byte("two")), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.c.UploadObject(ctx, "c", "o", bytes.NewReader([]byte("three")), pithos.UploadOptions{
		PutOptions: pithos.PutOptions{Conditions: pithos.Conditions{IfMatch: r1.ETag}}})
	if synnefo.StatusOf(err) != 412 {
		t.Fatalf("stale If-Match: %v", err)
	}
	_, err = cl.c.UploadObject(ctx, "c", "o", bytes.NewReader([]byte("four")), pithos.UploadOptions{
		PutOptions: pithos.PutOptions{Conditions: pithos.Conditions{IfNoneMatch: "*"}}})
	if synnefo.StatusOf(err) != 412 {
		t.Fatalf("If-None-Match *: %v", err)
	}
	if _, err := cl.c.ObjectInfo(ctx, "c", "o", pithos.GetOptions{Conditions: pithos.Conditions{IfMatch: r1.ETag}}); synnefo.StatusOf(err) != 412 {
		t.Fatalf("HEAD If-Match: %v", err)
	}
}

func TestLocalPagedListing(t *testing.T) {
	cl := startCloud(t, 1024)
	ctx := context.Background()
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("f%02d", i))
	}
	for i := range 9 {
		names = append(names, fmt.Sprintf("d/x%02d", i), fmt.Sprintf("e%d/y", i))
	}
	for _, n := range names {
		if _, err := cl.c.PutObject(ctx, "c", n, bytes.NewReader([]byte("z")), 1, pithos.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.c.CreateDirectory(ctx, "c", "d/", nil); err != nil { // marker "d/" plus subdir "d/"
		t.Fatal(err)
	}
	all, err := cl.c.ListObjects(ctx, "c", pithos.ListOptions{Limit: 5})
	if err != nil || len(all.Objects) != len(names)+1 || len(all.Subdirs) != 0 {
		t.Fatalf("full listing: %d objects %d subdirs, %v", len(all.Objects), len(all.Subdirs), err)
	}
	for _, limit := range []int{1, 2, 3, 10000} {
		l, err := cl.c.ListObjects(ctx, "c", pithos.ListOptions{Delimiter: "/", Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Objects) != 13 || len(l.Subdirs) != 10 {
			t.Errorf("limit %d: %d objects %d subdirs (%v)", limit, len(l.Objects), len(l.Subdirs), l.Subdirs)
		}
	}
	pages := 0
	for page, err := range cl.c.ObjectPages(ctx, "c", pithos.ListOptions{Prefix: "f", Limit: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Objects) > 5 {
			t.Fatalf("page of %d", len(page.Objects))
		}
	}
	if pages != 3 {
		t.Fatalf("%d pages of 12 objects by 5", pages)
	}
	entries, err := cl.c.ListDir(ctx, "c", "")
	if err != nil {
		t.Fatal(err)
	}
	var d *pithos.DirEntry
	for i := range entries {
		if entries[i].Name == "d" {
			d = &entries[i]
		}
	}
	if len(entries) != 22 || d == nil || !d.IsDir || d.Object == nil {
		t.Fatalf("ListDir: %d entries, d=%+v", len(entries), d)
	}
}

func TestLocalPartialWrites(t *testing.T) {
	cl := startCloud(t, 1024)
	ctx := context.Background()
	data := random(t, 2500)
	if _, err := cl.c.UploadObject(ctx, "c", "o", bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	more := random(t, 700)
	if _, err := cl.c.AppendObject(ctx, "c", "o", bytes.NewReader(more), 700, pithos.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	data = append(data, more...)
	if _, err := cl.c.WriteAt(ctx, "c", "o", 1000, []byte("hello"), pithos.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	copy(data[1000:], "hello")
	if _, err := cl.c.TruncateObject(ctx, "c", "o", 2049, pithos.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	data = data[:2049]
	if _, err := cl.c.TruncateObject(ctx, "c", "o", 3000, pithos.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	data = append(data, make([]byte, 3000-2049)...)
	got, _ := download(t, cl.c, "o", pithos.DownloadOptions{})
	if !bytes.Equal(got, data) {
		t.Fatalf("after append/overwrite/truncate: %d bytes, want %d", len(got), len(data))
	}
	b, err := cl.c.ReadRange(ctx, "c", "o", 2990, 100, 3000, pithos.GetOptions{})
	if err != nil || !bytes.Equal(b, data[2990:]) {
		t.Fatalf("clamped range: %v", err)
	}
	if b, err := cl.c.ReadRange(ctx, "c", "o", 3000, 10, 3000, pithos.GetOptions{}); err != nil || len(b) != 0 {
		t.Fatalf("range at EOF: %d, %v", len(b), err)
	}
	buf := bytes.Repeat([]byte{0xee}, 100)
	b, err = cl.c.ReadRangeInto(ctx, "c", "o", 990, 3000, buf, pithos.GetOptions{})
	if err != nil || !bytes.Equal(b, data[990:1090]) || &b[0] != &buf[0] {
		t.Fatalf("range into a buffer: %v", err)
	}
	b, err = cl.c.ReadRangeInto(ctx, "c", "o", 2990, 3000, buf, pithos.GetOptions{})
	if err != nil || !bytes.Equal(b, data[2990:]) || &b[0] != &buf[0] {
		t.Fatalf("clamped range into a buffer: %v", err)
	}
}

func TestLocalCopyMoveSubtree(t *testing.T) {
	cl := startCloud(t, 1024)
	ctx := context.Background()
	if _, err := cl.c.CreateDirectory(ctx, "c", "src", nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"src/a", "src/b/c", "srcother"} {
		if _, err := cl.c.UploadObject(ctx, "c", n, bytes.NewReader([]byte(n)), pithos.UploadOptions{PutOptions: pithos.PutOptions{Meta: map[string]string{"Origin": n}}}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := cl.c.ObjectInfo(ctx, "c", "src/a", pithos.GetOptions{})
	if _, err := cl.c.CopyObject(ctx, "c", "src", "c", "copy", pithos.CopyOptions{Delimiter: "/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.c.MoveObject(ctx, "c", "src", "c", "moved", pithos.CopyOptions{Delimiter: "/"}); err != nil {
		t.Fatal(err)
	}
	l, err := cl.c.ListObjects(ctx, "c", pithos.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range l.Objects {
		got = append(got, o.Name)
	}
	want := []string{"copy", "copy/a", "copy/b/c", "moved", "moved/a", "moved/b/c", "srcother"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after copy+move: %v", got)
	}
	after, err := cl.c.ObjectInfo(ctx, "c", "moved/a", pithos.GetOptions{})
	if err != nil || after.UUID != before.UUID || after.Meta["Origin"] != "src/a" {
		t.Fatalf("moved object %+v (uuid before %s), %v", after, before.UUID, err)
	}
	// No-clobber move and the COPY method.
	_, err = cl.c.MoveObject(ctx, "c", "srcother", "c", "copy/a", pithos.CopyOptions{Conditions: pithos.Conditions{IfNoneMatch: "*"}})
	if synnefo.StatusOf(err) != 412 {
		t.Fatalf("no-clobber move: %v", err)
	}
	if _, err := cl.c.CopyObject(ctx, "c", "srcother", "c", "viaCOPY", pithos.CopyOptions{UseMethod: true}); err != nil {
		t.Fatal(err)
	}
	if err := cl.c.DeleteObject(ctx, "c", "copy", pithos.DeleteOptions{Delimiter: "/"}); err != nil {
		t.Fatal(err)
	}
	if l, _ := cl.c.ListObjects(ctx, "c", pithos.ListOptions{Prefix: "copy"}); len(l.Objects) != 0 {
		t.Fatalf("subtree delete left %d objects", len(l.Objects))
	}
}

func TestLocalMetaSharingVersionsQuota(t *testing.T) {
	users := []localcloudtest.User{{Name: "alice", UUID: "uuid-alice", Token: "tok-alice"}, {Name: "bob", UUID: "uuid-bob", Token: "tok-bob"}}
	cl := startCloud(t, 1024, users...)
	ctx := context.Background()
	c := cl.c
	v1, err := c.UploadObject(ctx, "c", "doc", bytes.NewReader([]byte("version one")), pithos.UploadOptions{
		PutOptions: pithos.PutOptions{Meta: map[string]string{"Mode": "420", "Title": "naïve 100% ~x"}}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.ObjectInfo(ctx, "c", "doc", pithos.GetOptions{})
	if err != nil || info.Meta["Mode"] != "420" || info.Meta["Title"] != "naïve 100% x" || info.UUID == "" || info.Version == 0 {
		t.Fatalf("meta: %+v %v", info, err)
	}
	if _, err := c.SetObjectMeta(ctx, "c", "doc", map[string]string{"Mode": "", "Uid": "1000"}); err != nil {
		t.Fatal(err)
	}
	info, _ = c.ObjectInfo(ctx, "c", "doc", pithos.GetOptions{})
	if _, has := info.Meta["Mode"]; has || info.Meta["Uid"] != "1000" || info.Meta["Title"] == "" {
		t.Fatalf("meta update: %v", info.Meta)
	}
	if _, err := c.UploadObject(ctx, "c", "doc", bytes.NewReader([]byte("version two")), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	versions, err := c.ListVersions(ctx, "c", "doc")
	if err != nil || len(versions) < 3 || versions[0].ID >= versions[len(versions)-1].ID || versions[0].Timestamp.IsZero() {
		t.Fatalf("versions %+v %v", versions, err)
	}
	old, err := c.GetObject(ctx, "c", "doc", pithos.GetOptions{Version: v1.Version})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(old.Body)
	old.Body.Close()
	if string(b) != "version one" {
		t.Fatalf("old version reads %q", b)
	}
	hm, _, err := c.GetHashmap(ctx, "c", "doc", pithos.GetOptions{Version: v1.Version})
	if err != nil || hm.Bytes != 11 {
		t.Fatalf("old hashmap %+v %v", hm, err)
	}

	// Sharing with bob; bob sees alice's account and the object.
	if err := c.SetAccountGroup(ctx, "friends", []string{"uuid-bob"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSharing(ctx, "c", "doc", pithos.Sharing{Read: []string{"uuid-alice:friends"}}); err != nil {
		t.Fatal(err)
	}
	info, _ = c.ObjectInfo(ctx, "c", "doc", pithos.GetOptions{})
	if len(info.Sharing.Read) != 1 || info.Sharing.Read[0] != "uuid-alice:friends" {
		t.Fatalf("sharing %+v", info.Sharing)
	}
	acct, err := c.AccountInfo(ctx)
	if err != nil || len(acct.Groups["friends"]) != 1 || acct.Quota <= 0 {
		t.Fatalf("account %+v %v", acct, err)
	}
	bob, err := pithos.New(cl.srv.ObjectStoreURL(), "tok-bob", synnefo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bob = bob.WithAccount("uuid-bob")
	accts, err := bob.ListSharingAccounts(ctx)
	if err != nil || len(accts) != 1 || accts[0].Name != "uuid-alice" {
		t.Fatalf("sharing accounts %+v %v", accts, err)
	}
	shared, err := bob.WithAccount("uuid-alice").ListObjects(ctx, "c", pithos.ListOptions{})
	if err != nil || len(shared.Objects) != 1 || shared.Objects[0].Name != "doc" {
		t.Fatalf("bob's view %+v %v", shared, err)
	}

	// Publishing: the URL serves the data without a token.
	u, err := c.Publish(ctx, "c", "doc")
	if err != nil || u == "" {
		t.Fatalf("publish %q %v", u, err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "version two" {
		t.Fatalf("public GET: %d %q", resp.StatusCode, b)
	}
	if err := c.Unpublish(ctx, "c", "doc"); err != nil {
		t.Fatal(err)
	}
	if info, _ := c.ObjectInfo(ctx, "c", "doc", pithos.GetOptions{}); info.Public != "" {
		t.Fatalf("still public: %s", info.Public)
	}

	// Container policy and quota.
	if _, err := c.CreateContainer(ctx, "small", pithos.CreateContainerOptions{Quota: 3000, Versioning: "none"}); err != nil {
		t.Fatal(err)
	}
	ci, err := c.ContainerInfo(ctx, "small")
	if err != nil || ci.Policy.Quota != 3000 || ci.Policy.Versioning != "none" {
		t.Fatalf("policy %+v %v", ci, err)
	}
	_, err = c.UploadObject(ctx, "small", "big", bytes.NewReader(random(t, 5000)), pithos.UploadOptions{})
	if synnefo.StatusOf(err) != 413 {
		t.Fatalf("over quota: %v", err)
	}
	cs, err := c.ListContainers(ctx)
	if err != nil || len(cs) != 2 || cs[1].Name != "small" || cs[1].Policy.Quota != 3000 {
		t.Fatalf("containers %+v %v", cs, err)
	}
	if err := c.DeleteContainer(ctx, "c", pithos.DeleteContainerOptions{}); synnefo.StatusOf(err) != 409 {
		t.Fatalf("delete non-empty container: %v", err)
	}
	if err := c.SetAccountMeta(ctx, map[string]string{"Color": "blue"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := c.AccountInfo(ctx); a.Meta["Color"] != "blue" {
		t.Fatalf("account meta %v", a.Meta)
	}
}
