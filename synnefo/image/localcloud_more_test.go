package image_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// twoUsers is a local cloud with alice and bob, their image clients, and a way to upload alice's objects.
type twoUsers struct {
	alice, bob   localcloudtest.User
	ac, bc       *image.Client
	aliceObjects *synnefo.Client
}

func startTwoUsers(t *testing.T, ctx context.Context) twoUsers {
	t.Helper()
	srv := localcloudtest.New(t)
	users := srv.Users
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	ident, err := astakos.New(srv.IdentityURL(), users[0].Token, opts)
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
	tu := twoUsers{alice: users[0], bob: users[1]}
	if tu.ac, err = image.New(imageURL, tu.alice.Token, opts); err != nil {
		t.Fatal(err)
	}
	if tu.bc, err = image.New(imageURL, tu.bob.Token, opts); err != nil {
		t.Fatal(err)
	}
	if tu.aliceObjects, err = synnefo.NewClient(storeURL, tu.alice.Token, opts); err != nil {
		t.Fatal(err)
	}
	return tu
}

// upload stores body as alice's images/<name> and returns its location.
func (tu twoUsers) upload(t *testing.T, ctx context.Context, name, body string) image.Location {
	t.Helper()
	for _, p := range []string{"/" + tu.alice.UUID + "/images", "/" + tu.alice.UUID + "/images/" + name} {
		b := ""
		if strings.HasSuffix(p, "/"+name) {
			b = body
		}
		resp, err := tu.aliceObjects.Do(ctx, &synnefo.Request{Method: http.MethodPut, Path: p, Body: strings.NewReader(b),
			Header: http.Header{"Content-Type": {"application/octet-stream"}}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	return image.Location{Account: tu.alice.UUID, Container: "images", Path: name}
}

func TestLocalCloudClientIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tu := startTwoUsers(t, ctx)
	if tu.ac.ServiceType() != "image" || !strings.HasSuffix(tu.ac.HTTP().Endpoint(), "/cyclades/image/v1.0") || tu.ac.HTTP().Token() != tu.alice.Token {
		t.Fatalf("service type %q, endpoint %q", tu.ac.ServiceType(), tu.ac.HTTP().Endpoint())
	}
}

// TestLocalCloudRegisterOptions registers with each option and checks what the service reports, or the
// status it refuses with.
func TestLocalCloudRegisterOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tu := startTwoUsers(t, ctx)
	const body = "an image body"
	top, err := hashmap.HashBytes([]byte(body), hashmap.DefaultBlockSize).TopHash()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		opts   image.RegisterOptions
		status int
		check  func(m *image.Meta) bool
	}{
		{"defaults", image.RegisterOptions{}, 0, func(m *image.Meta) bool {
			return m.DiskFormat == "diskdump" && m.ContainerFormat == "bare" && !m.IsPublic && m.Checksum == top && m.Size == int64(len(body))
		}},
		{"formats", image.RegisterOptions{DiskFormat: "extdump", ContainerFormat: "ovf"}, 0, func(m *image.Meta) bool {
			return m.DiskFormat == "extdump" && m.ContainerFormat == "ovf"
		}},
		{"public", image.RegisterOptions{IsPublic: true}, 0, func(m *image.Meta) bool { return m.IsPublic }},
		{"checksum and store", image.RegisterOptions{Checksum: top, Store: "pithos"}, 0, func(m *image.Meta) bool { return m.Checksum == top }},
		{"owner", image.RegisterOptions{Owner: tu.alice.UUID}, 0, func(m *image.Meta) bool { return m.Owner == tu.alice.UUID }},
		{"property spelling", image.RegisterOptions{Properties: map[string]string{"Root-Partition": "1", "DESCRIPTION": "ελληνικά & 100%"}}, 0,
			func(m *image.Meta) bool {
				return m.Properties["root_partition"] == "1" && m.Properties["description"] == "ελληνικά & 100%"
			}},
		{"bad disk format", image.RegisterOptions{DiskFormat: "qcow2"}, 400, nil},
		{"bad container format", image.RegisterOptions{ContainerFormat: "zip"}, 400, nil},
		{"wrong checksum", image.RegisterOptions{Checksum: strings.Repeat("0", 64)}, 400, nil},
		{"other store", image.RegisterOptions{Store: "s3"}, 400, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			loc := tu.upload(t, ctx, strings.ReplaceAll(tt.name, " ", "_")+".diskdump", body)
			m, err := tu.ac.Register(ctx, tt.name, loc, tt.opts)
			if tt.status != 0 {
				var ce *synnefo.ClientError
				if !errors.As(err, &ce) || ce.Status != tt.status {
					t.Fatalf("got %+v %v, want status %d", m, err, tt.status)
				}
				return
			}
			if err != nil || m.Name != tt.name || !tt.check(m) {
				t.Fatalf("registered %+v %v", m, err)
			}
			// HEAD says the same as the register reply.
			got, err := tu.ac.GetMeta(ctx, m.ID)
			if err != nil || got.ID != m.ID || !tt.check(got) {
				t.Fatalf("meta %+v %v", got, err)
			}
		})
	}
}

// TestLocalCloudListUpdateErrors covers list order and filters, every UpdateRequest field, visibility
// of public images to another user, and the statuses of refused calls.
func TestLocalCloudListUpdateErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tu := startTwoUsers(t, ctx)
	ids := map[string]string{}
	for _, n := range []string{"bb", "a", "ccc"} {
		m, err := tu.ac.Register(ctx, n, tu.upload(t, ctx, n, strings.Repeat("x", 10*len(n))), image.RegisterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = m.ID
	}

	names := func(l []image.Image) []string {
		var out []string
		for _, i := range l {
			out = append(out, i.Name)
		}
		return out
	}
	for _, tt := range []struct {
		order   string
		filters map[string]string
		want    []string // nil: any order of all three
		status  int
	}{
		{order: "name", want: []string{"a", "bb", "ccc"}},
		{order: "-name", want: []string{"ccc", "bb", "a"}},
		{order: "size", want: []string{"a", "bb", "ccc"}},
		{order: "-size", want: []string{"ccc", "bb", "a"}},
		{order: ""},
		{filters: map[string]string{"name": "a", "disk_format": "extdump"}}, // accepted, not applied (§5.2)
		{order: "owner", status: 400},
		{filters: map[string]string{"size_min": "big"}, status: 400},
	} {
		for _, detail := range []bool{false, true} {
			l, err := tu.ac.ListImages(ctx, image.ListOptions{Detail: detail, Order: tt.order, Filters: tt.filters})
			if tt.status != 0 {
				if synnefo.StatusOf(err) != tt.status {
					t.Errorf("order %q filters %v: %v, want status %d", tt.order, tt.filters, err, tt.status)
				}
				continue
			}
			got := names(l)
			if err != nil || len(got) != 3 || tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("order %q filters %v detail %v: %v %v", tt.order, tt.filters, detail, got, err)
			}
			if detail && len(l) > 0 && (l[0].Location == "" || l[0].Owner != tu.alice.UUID) || !detail && len(l) > 0 && l[0].Location != "" {
				t.Errorf("detail %v: %+v", detail, l[0])
			}
		}
	}

	// Every field of UpdateRequest.
	id := ids["a"]
	name, disk, cont, status, owner, public := "a2", "ntfsdump", "ami", "CUSTOM", tu.bob.UUID, true
	u, err := tu.ac.UpdateImage(ctx, id, image.UpdateRequest{Name: &name, DiskFormat: &disk, ContainerFormat: &cont,
		Status: &status, Owner: &owner, IsPublic: &public, Properties: map[string]string{"OS": "windows"}})
	if err != nil || u.Name != "a2" || u.DiskFormat != "ntfsdump" || u.ContainerFormat != "ami" || !u.IsPublic || u.Properties["os"] != "windows" {
		t.Fatalf("updated %+v %v", u, err)
	}
	// Bob sees the public image in his list and may read it, but not change it; it is not "shared" with him.
	if l, err := tu.bc.ListImages(ctx, image.ListOptions{}); err != nil || !slices.Equal(names(l), []string{"a2"}) {
		t.Fatalf("bob's list %v %v", names(l), err)
	}
	if m, err := tu.bc.GetMeta(ctx, id); err != nil || m.Name != "a2" {
		t.Fatalf("bob reads %+v %v", m, err)
	}
	if sh, err := tu.bc.ListShared(ctx, tu.alice.UUID); err != nil || len(sh) != 0 {
		t.Fatalf("public images are not shared ones: %+v %v", sh, err)
	}

	const missing = "00000000-0000-4000-8000-000000000000"
	empty := ""
	for _, tt := range []struct {
		name   string
		call   func() error
		status int
	}{
		{"GetMeta malformed id", func() error { _, err := tu.ac.GetMeta(ctx, "not-a-uuid"); return err }, 400},
		{"GetMeta unknown", func() error { _, err := tu.ac.GetMeta(ctx, missing); return err }, 404},
		{"GetMeta private of another user", func() error { _, err := tu.bc.GetMeta(ctx, ids["bb"]); return err }, 403},
		{"UpdateImage by a reader", func() error { _, err := tu.bc.UpdateImage(ctx, id, image.UpdateRequest{Name: &name}); return err }, 403},
		{"UpdateImage empty name", func() error { _, err := tu.ac.UpdateImage(ctx, id, image.UpdateRequest{Name: &empty}); return err }, 404},
		{"UpdateImage bad disk format", func() error {
			bad := "vmdk"
			_, err := tu.ac.UpdateImage(ctx, id, image.UpdateRequest{DiskFormat: &bad})
			return err
		}, 400},
		{"Unregister unknown", func() error { return tu.ac.Unregister(ctx, missing) }, 404},
		{"Unregister by a reader", func() error { return tu.bc.Unregister(ctx, id) }, 403},
		{"AddMember by a reader", func() error { return tu.bc.AddMember(ctx, id, tu.bob.UUID) }, 403},
		{"SetMembers by a reader", func() error { return tu.bc.SetMembers(ctx, id, []string{tu.bob.UUID}) }, 403},
		{"RemoveMember by a reader", func() error { return tu.bc.RemoveMember(ctx, id, tu.alice.UUID) }, 403},
		{"ListMembers unknown", func() error { _, err := tu.ac.ListMembers(ctx, missing); return err }, 404},
		{"Register a missing object", func() error {
			_, err := tu.ac.Register(ctx, "x", image.Location{Account: tu.alice.UUID, Container: "images", Path: "nope"}, image.RegisterOptions{})
			return err
		}, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ce *synnefo.ClientError
			if !errors.As(err, &ce) || ce.Status != tt.status {
				t.Fatalf("got %v, want a %d ClientError", err, tt.status)
			}
		})
	}
	// The failed empty-name update changed nothing (§7 quirk: rolled back).
	if m, err := tu.ac.GetMeta(ctx, id); err != nil || m.Name != "a2" {
		t.Fatalf("after the refused rename %+v %v", m, err)
	}
}
