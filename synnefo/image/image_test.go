package image

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

const (
	testToken = "tok/+=img"
	owner     = "a1b2c3d4-0000-4000-8000-00000000aaaa"
	imageID   = "6f1c3d0a-9b7e-4c5d-8e2f-0a1b2c3d4e5f"
)

// headReply sets the HEAD-style headers of image-api.md §3.5.
func headReply(h http.Header) {
	for k, v := range map[string]string{
		"x-image-meta-id":                      imageID,
		"x-image-meta-name":                    "Debian%20Base%20%CE%B1",
		"x-image-meta-location":                "pithos://" + owner + "/images/debian%20base.diskdump",
		"x-image-meta-disk-format":             "diskdump",
		"x-image-meta-container-format":        "bare",
		"x-image-meta-size":                    "451936256",
		"x-image-meta-checksum":                "9f2ce41b",
		"x-image-meta-created-at":              "2018-03-01 10:22:07",
		"x-image-meta-updated-at":              "2018-03-01 10:22:07",
		"x-image-meta-deleted-at":              "",
		"x-image-meta-status":                  "AVAILABLE",
		"x-image-meta-is-public":               "True",
		"x-image-meta-owner":                   owner,
		"x-image-meta-is-snapshot":             "False",
		"x-image-meta-description":             "",
		"x-image-meta-property-osfamily":       "linux",
		"x-image-meta-property-root-partition": "1",
		"x-image-meta-property-users":          "root%20admin",
	} {
		h.Set(k, v)
	}
}

type seen struct {
	method, path, query, body string
	header                    http.Header
}

func fakeServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) (*Client, *[]seen) {
	var reqs []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs = append(reqs, seen{r.Method, strings.TrimPrefix(r.URL.Path, "/cyclades/image/v1.0"), r.URL.RawQuery, string(b), r.Header.Clone()})
		if r.Header.Get("X-Auth-Token") != testToken {
			t.Errorf("token %q", r.Header.Get("X-Auth-Token"))
		}
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/cyclades/image", testToken, synnefo.Options{RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP().Endpoint() != srv.URL+"/cyclades/image/v1.0" {
		t.Fatalf("endpoint %s", c.HTTP().Endpoint())
	}
	return c, &reqs
}

func TestRegister(t *testing.T) {
	c, reqs := fakeServer(t, func(w http.ResponseWriter, r *http.Request) { headReply(w.Header()) })
	loc, err := ParseLocation("pithos://"+owner+"/images/debian base.diskdump", "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Register(context.Background(), "Debian Base α", loc, RegisterOptions{
		IsPublic: true, DiskFormat: "diskdump", Properties: map[string]string{"OSFAMILY": "linux", "ROOT_PARTITION": "1", "users": "root admin"}})
	if err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	if r.method != "POST" || r.path != "/images/" || r.body != "" || r.header.Get("Content-Length") != "0" {
		t.Fatalf("request %s %s body %q cl %q", r.method, r.path, r.body, r.header.Get("Content-Length"))
	}
	wantHeaders := map[string]string{
		"X-Image-Meta-Name":                    "Debian%20Base%20%CE%B1",
		"X-Image-Meta-Location":                "pithos://" + owner + "/images/debian%20base.diskdump",
		"X-Image-Meta-Is-Public":               "True",
		"X-Image-Meta-Disk-Format":             "diskdump",
		"X-Image-Meta-Property-Osfamily":       "linux",
		"X-Image-Meta-Property-Root_partition": "1",
		"X-Image-Meta-Property-Users":          "root%20admin",
	}
	for k, v := range wantHeaders {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"X-Image-Meta-Size", "X-Image-Meta-Container-Format", "X-Image-Meta-Checksum", "X-Image-Meta-Store", "X-Image-Meta-Owner"} {
		if _, ok := r.header[k]; ok {
			t.Errorf("header %s sent", k)
		}
	}
	want := &Meta{ID: imageID, Name: "Debian Base α", Location: "pithos://" + owner + "/images/debian%20base.diskdump",
		DiskFormat: "diskdump", ContainerFormat: "bare", Size: 451936256, Checksum: "9f2ce41b",
		CreatedAt: "2018-03-01 10:22:07", UpdatedAt: "2018-03-01 10:22:07", Status: "AVAILABLE", IsPublic: true, Owner: owner,
		Properties: map[string]string{"osfamily": "linux", "root_partition": "1", "users": "root admin"}}
	m.Raw = nil
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("meta\n got %+v\nwant %+v", m, want)
	}
	back, err := m.LocationOf()
	if err != nil || back != loc {
		t.Fatalf("location round trip %+v %v", back, err)
	}
}

func TestRegisterNotPublicSendsNoIsPublic(t *testing.T) {
	c, reqs := fakeServer(t, func(w http.ResponseWriter, r *http.Request) { headReply(w.Header()) })
	if _, err := c.Register(context.Background(), "x", Location{owner, "images", "a/b.img"}, RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	h := (*reqs)[0].header
	if _, ok := h["X-Image-Meta-Is-Public"]; ok {
		t.Fatal("Is-Public sent for a private image")
	}
	if h.Get("X-Image-Meta-Location") != "pithos://"+owner+"/images/a/b.img" {
		t.Fatal(h.Get("X-Image-Meta-Location"))
	}
}

func TestRegisterFault(t *testing.T) {
	c, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"badRequest": {"code": 400, "message": "Invalid location 'x'", "details": ""}}`)
	})
	_, err := c.Register(context.Background(), "x", Location{owner, "images", "x"}, RegisterOptions{})
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Message != "Invalid location 'x'" {
		t.Fatalf("%v", err)
	}
}

func TestLocations(t *testing.T) {
	tests := []struct {
		in, account string
		want        Location
		wantErr     bool
		wantString  string
	}{
		{"pithos://u/c/p/q r", "", Location{"u", "c", "p/q r"}, false, "pithos://u/c/p/q%20r"},
		{"pithos://4321-4321/%E2%98%82/foo", "", Location{"4321-4321", "☂", "foo"}, false, "pithos://4321-4321/%E2%98%82/foo"},
		{"/images/debian.diskdump", "me", Location{"me", "images", "debian.diskdump"}, false, "pithos://me/images/debian.diskdump"},
		{"images/dir/x", "me", Location{"me", "images", "dir/x"}, false, "pithos://me/images/dir/x"},
		{"/images/x", "", Location{}, true, ""},
		{"pithos://u/c", "", Location{}, true, ""},
		{"http://u/c/p", "", Location{}, true, ""},
		{"/images", "me", Location{}, true, ""},
	}
	for _, tt := range tests {
		got, err := ParseLocation(tt.in, tt.account)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLocation(%q) = %+v, %v", tt.in, got, err)
			continue
		}
		if err == nil && got.String() != tt.wantString {
			t.Errorf("%q: String() = %q, want %q", tt.in, got.String(), tt.wantString)
		}
	}
}

func TestGetMetaUpdateUnregister(t *testing.T) {
	c, reqs := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodHead, http.MethodPut:
			headReply(w.Header())
		case http.MethodDelete:
			w.WriteHeader(204)
		}
	})
	ctx := context.Background()
	m, err := c.GetMeta(ctx, imageID)
	if err != nil || m.Properties["root_partition"] != "1" || m.Raw["disk-format"] != "diskdump" || !m.IsPublic || m.IsSnapshot {
		t.Fatalf("%+v %v", m, err)
	}
	name, pub, status := "New name", false, "available"
	if _, err := c.UpdateImage(ctx, imageID, UpdateRequest{Name: &name, IsPublic: &pub, Status: &status,
		Properties: map[string]string{"OS": "debian", "GUI": ""}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Unregister(ctx, imageID); err != nil {
		t.Fatal(err)
	}
	r := *reqs
	if r[0].method != "HEAD" || r[0].path != "/images/"+imageID {
		t.Fatalf("%+v", r[0])
	}
	u := r[1]
	if u.method != "PUT" || u.path != "/images/"+imageID || u.header.Get("Content-Length") != "0" ||
		u.header.Get("X-Image-Meta-Name") != "New%20name" || u.header.Get("X-Image-Meta-Is-Public") != "False" ||
		u.header.Get("X-Image-Meta-Status") != "available" || u.header.Get("X-Image-Meta-Property-Os") != "debian" ||
		u.header.Get("X-Image-Meta-Property-Gui") != "" {
		t.Fatalf("update request %+v", u)
	}
	if _, ok := u.header["X-Image-Meta-Property-Gui"]; !ok {
		t.Fatal("empty property (delete) not sent")
	}
	if _, ok := u.header["X-Image-Meta-Disk-Format"]; ok {
		t.Fatal("unset field sent")
	}
	if r[2].method != "DELETE" || r[2].path != "/images/"+imageID {
		t.Fatalf("%+v", r[2])
	}
}

func TestGetMetaNotFound(t *testing.T) {
	c, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	if _, err := c.GetMeta(context.Background(), imageID); synnefo.StatusOf(err) != 404 {
		t.Fatalf("%v", err)
	}
}

func TestListImages(t *testing.T) {
	detail := `{"images": [{"id": "` + imageID + `", "name": "Debian Base",
  "location": "pithos://` + owner + `/images/debian_base.diskdump", "owner": "` + owner + `",
  "disk_format": "diskdump", "container_format": "bare", "size": 451936256, "checksum": "9f2ce41b",
  "status": "AVAILABLE", "is_public": true, "is_snapshot": false,
  "created_at": "2018-03-01 10:22:07", "updated_at": "2018-03-01 10:22:07", "deleted_at": "",
  "properties": {"osfamily": "linux", "root_partition": "1", "users": "root", "os": "debian"}}]}`
	short := `{"images": [{"id": "` + imageID + `", "name": "Debian Base", "status": "AVAILABLE", "disk_format": "diskdump", "container_format": "bare", "size": 451936256}]}`
	c, reqs := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/detail") {
			io.WriteString(w, detail)
		} else {
			io.WriteString(w, short)
		}
	})
	ctx := context.Background()
	d, err := c.ListImages(ctx, ListOptions{Detail: true, Order: "-name", Filters: map[string]string{"disk_format": "diskdump"}})
	if err != nil || len(d) != 1 || d[0].Properties["os"] != "debian" || !d[0].IsPublic || d[0].Size != 451936256 || d[0].Owner != owner {
		t.Fatalf("%+v %v", d, err)
	}
	s, err := c.ListImages(ctx, ListOptions{})
	if err != nil || s[0].Name != "Debian Base" || s[0].Status != "AVAILABLE" {
		t.Fatalf("%+v %v", s, err)
	}
	r := *reqs
	if r[0].path != "/images/detail" || r[0].query != "disk_format=diskdump&sort_dir=desc&sort_key=name" {
		t.Fatalf("%+v", r[0])
	}
	if r[1].path != "/images/" || r[1].query != "sort_dir=asc" {
		t.Fatalf("%+v", r[1])
	}
}

func TestMembers(t *testing.T) {
	c, reqs := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/cyclades/image/v1.0/shared-images/"):
			io.WriteString(w, `{"shared_images": [{"image_id": "`+imageID+`", "can_share": false}]}`)
		case r.Method == "GET":
			io.WriteString(w, `{"members": [{"member_id": "`+owner+`", "can_share": false}, {"member_id": "b2", "can_share": false}]}`)
		default:
			w.WriteHeader(204)
		}
	})
	ctx := context.Background()
	ms, err := c.ListMembers(ctx, imageID)
	if err != nil || len(ms) != 2 || ms[1].MemberID != "b2" {
		t.Fatalf("%+v %v", ms, err)
	}
	if err := errors.Join(c.AddMember(ctx, imageID, "user@example.org"), c.RemoveMember(ctx, imageID, "b2"),
		c.SetMembers(ctx, imageID, []string{"b2", "c3"})); err != nil {
		t.Fatal(err)
	}
	sh, err := c.ListShared(ctx, owner)
	if err != nil || len(sh) != 1 || sh[0].ImageID != imageID {
		t.Fatalf("%+v %v", sh, err)
	}
	r := *reqs
	want := []struct{ method, path string }{
		{"GET", "/images/" + imageID + "/members"},
		{"PUT", "/images/" + imageID + "/members/user@example.org"},
		{"DELETE", "/images/" + imageID + "/members/b2"},
		{"PUT", "/images/" + imageID + "/members"},
		{"GET", "/shared-images/" + owner},
	}
	for i, w := range want {
		if r[i].method != w.method || r[i].path != w.path {
			t.Errorf("request %d: %s %s, want %s %s", i, r[i].method, r[i].path, w.method, w.path)
		}
	}
	if r[1].header.Get("Content-Length") != "0" {
		t.Errorf("add member Content-Length %q", r[1].header.Get("Content-Length"))
	}
	var body map[string][]map[string]string
	if err := json.Unmarshal([]byte(r[3].body), &body); err != nil || !reflect.DeepEqual(body["memberships"],
		[]map[string]string{{"member_id": "b2"}, {"member_id": "c3"}}) || !strings.HasPrefix(r[3].header.Get("Content-Type"), "application/json") {
		t.Fatalf("set members body %s %v", r[3].body, err)
	}
	if c.ServiceType() != "image" {
		t.Fatal("service type")
	}
}
