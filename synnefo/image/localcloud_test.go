package image_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

func TestAgainstLocalCloud(t *testing.T) {
	srv := localcloudtest.New(t)
	users := srv.Users
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	alice, bob := users[0], users[1]

	ident, err := astakos.New(srv.IdentityURL(), alice.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	imageURL, err := ident.EndpointURL(ctx, image.ServiceType)
	if err != nil {
		t.Fatal(err)
	}
	storeURL, err := ident.EndpointURL(ctx, "object-store")
	if err != nil {
		t.Fatal(err)
	}
	c, err := image.New(imageURL, alice.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := image.New(imageURL, bob.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	objects, err := synnefo.NewClient(storeURL, alice.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	const content = "pretend this is a disk image"
	for _, p := range []string{"/" + alice.UUID + "/images", "/" + alice.UUID + "/images/dir/ελληνικά 100%.diskdump"} {
		body := ""
		if strings.HasSuffix(p, ".diskdump") {
			body = content
		}
		resp, err := objects.Do(ctx, &synnefo.Request{Method: http.MethodPut, Path: p, Body: strings.NewReader(body), Header: http.Header{"Content-Type": {"application/octet-stream"}}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	loc, err := image.ParseLocation("/images/dir/ελληνικά 100%.diskdump", alice.UUID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Register(ctx, "Debian Base ☂", loc, image.RegisterOptions{
		Properties: map[string]string{"OSFAMILY": "linux", "ROOT_PARTITION": "1", "GUI": "none"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == "" || m.Name != "Debian Base ☂" || m.Size != int64(len(content)) || m.Owner != alice.UUID || m.IsPublic ||
		m.Properties["osfamily"] != "linux" || m.Properties["root_partition"] != "1" || m.DiskFormat != "diskdump" || m.ContainerFormat != "bare" {
		t.Fatalf("registered %+v", m)
	}
	if back, err := m.LocationOf(); err != nil || back != loc {
		t.Fatalf("location %q → %+v %v", m.Location, back, err)
	}
	// Re-register: same id, properties merged, now public.
	m2, err := c.Register(ctx, "Debian Base ☂", loc, image.RegisterOptions{IsPublic: true, Properties: map[string]string{"USERS": "root"}})
	if err != nil || m2.ID != m.ID || !m2.IsPublic || m2.Properties["osfamily"] != "linux" || m2.Properties["users"] != "root" {
		t.Fatalf("re-registered %+v %v", m2, err)
	}

	got, err := c.GetMeta(ctx, m.ID)
	if err != nil || got.ID != m.ID || got.Checksum == "" || got.Status != "AVAILABLE" {
		t.Fatalf("meta %+v %v", got, err)
	}
	list, err := c.ListImages(ctx, image.ListOptions{Detail: true, Order: "-name"})
	if err != nil || len(list) != 1 || list[0].ID != m.ID || list[0].Properties["users"] != "root" || !list[0].IsPublic {
		t.Fatalf("list %+v %v", list, err)
	}
	short, err := c.ListImages(ctx, image.ListOptions{})
	if err != nil || len(short) != 1 || short[0].Name != "Debian Base ☂" {
		t.Fatalf("short list %+v %v", short, err)
	}

	// Update: rename, make private, delete a property with an empty value.
	name, private := "Renamed", false
	u, err := c.UpdateImage(ctx, m.ID, image.UpdateRequest{Name: &name, IsPublic: &private, Properties: map[string]string{"GUI": "", "OS": "debian"}})
	if err != nil || u.Name != "Renamed" || u.IsPublic || u.Properties["os"] != "debian" {
		t.Fatalf("update %+v %v", u, err)
	}
	if _, ok := u.Properties["gui"]; ok {
		t.Fatalf("property not deleted: %+v", u.Properties)
	}

	// Members: bob cannot see a private image until added.
	if _, err := bc.GetMeta(ctx, m.ID); synnefo.StatusOf(err) != 403 && synnefo.StatusOf(err) != 404 {
		t.Fatalf("bob before sharing: %v", err)
	}
	if err := c.AddMember(ctx, m.ID, bob.UUID); err != nil {
		t.Fatal(err)
	}
	members, err := c.ListMembers(ctx, m.ID)
	if err != nil || !hasMember(members, bob.UUID) {
		t.Fatalf("members %+v %v", members, err)
	}
	if _, err := bc.GetMeta(ctx, m.ID); err != nil {
		t.Fatalf("bob after sharing: %v", err)
	}
	shared, err := bc.ListShared(ctx, alice.UUID)
	if err != nil || len(shared) != 1 || shared[0].ImageID != m.ID {
		t.Fatalf("shared %+v %v", shared, err)
	}
	if err := c.RemoveMember(ctx, m.ID, bob.UUID); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMembers(ctx, m.ID, []string{alice.UUID, bob.UUID}); err != nil {
		t.Fatal(err)
	}
	if members, err = c.ListMembers(ctx, m.ID); err != nil || !hasMember(members, bob.UUID) {
		t.Fatalf("members after set %+v %v", members, err)
	}
	// Only the owner may register or change it.
	if _, err := bc.Register(ctx, "stolen", loc, image.RegisterOptions{}); synnefo.StatusOf(err) != 403 {
		t.Fatalf("bob registering alice's object: %v", err)
	}

	if err := c.Unregister(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMeta(ctx, m.ID); synnefo.StatusOf(err) != 404 {
		t.Fatalf("after unregister: %v", err)
	}
	if _, err := c.Register(ctx, "x", image.Location{Account: alice.UUID, Container: "images", Path: "missing"}, image.RegisterOptions{}); synnefo.StatusOf(err) != 404 {
		t.Fatalf("missing object: %v", err)
	}
}

func hasMember(ms []image.Member, uuid string) bool {
	for _, m := range ms {
		if m.MemberID == uuid {
			return true
		}
	}
	return false
}
