package localcloud

import (
	"net/url"
	"strings"
	"testing"
)

func TestImageRegisterListHeadUpdateUnregister(t *testing.T) {
	e := newCyEnv(t)
	name := "deb ian☂.diskdump"
	uuid, hash := e.putObject("tok-alice", e.alice(), "images", url.PathEscape(name), diskData)
	objPath := "/pithos/object-store/v1/" + e.alice() + "/images/" + url.PathEscape(name)
	before := e.do("HEAD", objPath, nil).want(t, 200)

	loc := "pithos://" + e.alice() + "/images/" + url.PathEscape(name)
	r := e.call("tok-alice", "POST", imageP+"/images/", nil, map[string]string{
		"X-Image-Meta-Name":                       url.PathEscape("Debian Base ☂"),
		"X-Image-Meta-Location":                   loc,
		"x-image-meta-disk_format":                "diskdump",
		"X-Image-Meta-Is-Public":                  "TRUE",
		"X-Image-Meta-Property-ROOT_PARTITION":    "1",
		"X-Image-Meta-Property-Osfamily":          "linux",
		"x-image-meta-property-users":             url.PathEscape("root user"),
		"X-Image-Meta-Property-" + "Kernel.Major": "6",
		"X-Image-Meta-Whatever":                   "ignored",
	}).want(t, 200)
	h := r.h
	checks := map[string]string{
		"X-Image-Meta-Id": uuid, "X-Image-Meta-Checksum": hash, "X-Image-Meta-Size": itoa(int64(len(diskData))),
		"X-Image-Meta-Status": "AVAILABLE", "X-Image-Meta-Is-Public": "True", "X-Image-Meta-Is-Snapshot": "False",
		"X-Image-Meta-Owner": e.alice(), "X-Image-Meta-Disk-Format": "diskdump", "X-Image-Meta-Container-Format": "bare",
		"X-Image-Meta-Location":                "pithos://" + e.alice() + "/images/deb%20ian%E2%98%82.diskdump",
		"X-Image-Meta-Name":                    "Debian%20Base%20%E2%98%82",
		"X-Image-Meta-Property-Root-Partition": "1", "X-Image-Meta-Property-Osfamily": "linux",
		"X-Image-Meta-Property-Users": "root%20user", "X-Image-Meta-Property-Kernel-Major": "6",
	}
	for k, want := range checks {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("X-Image-Meta-Created-At") == "" || strings.Contains(h.Get("X-Image-Meta-Created-At"), "T") {
		t.Errorf("created-at %q", h.Get("X-Image-Meta-Created-At"))
	}

	// The Pithos object: same content and UUID, a new version, sharing
	// rewritten, no X-Object-Meta-* added.
	after := e.do("HEAD", objPath, nil).want(t, 200)
	if after.h.Get("X-Object-Uuid") != uuid || after.h.Get("X-Object-Hash") != hash {
		t.Fatal("registration changed the object's uuid or content")
	}
	if after.h.Get("X-Object-Version") == before.h.Get("X-Object-Version") {
		t.Error("registration did not create a new object version")
	}
	if got, _ := url.PathUnescape(after.h.Get("X-Object-Sharing")); got != "read="+e.alice()+",*" {
		t.Errorf("sharing %q", got)
	}
	for k := range after.h {
		if strings.HasPrefix(k, "X-Object-Meta-") {
			t.Errorf("registration leaked into Pithos meta: %s", k)
		}
	}

	// HEAD, detail list (wrapper object), short list keys.
	head := e.do("HEAD", imageP+"/images/"+uuid, nil).want(t, 200)
	if head.h.Get("X-Image-Meta-Name") != "Debian%20Base%20%E2%98%82" {
		t.Errorf("HEAD name %q", head.h.Get("X-Image-Meta-Name"))
	}
	second := e.image("second", []byte("another image"), nil)
	detail := e.do("GET", imageP+"/images/detail", nil).want(t, 200).m["images"].([]any)
	if len(detail) != 2 {
		t.Fatalf("detail %v", detail)
	}
	var d map[string]any
	for _, x := range detail {
		if x.(map[string]any)["id"] == uuid {
			d = x.(map[string]any)
		}
	}
	props := obj(d, "properties")
	if props["root_partition"] != "1" || props["osfamily"] != "linux" || props["users"] != "root user" || props["kernel_major"] != "6" || len(props) != 4 {
		t.Errorf("properties %v", props)
	}
	if d["is_public"] != true || d["checksum"] != hash || d["size"] != float64(len(diskData)) || d["deleted_at"] != "" || d["created_at"] != d["updated_at"] {
		t.Errorf("detail %v", d)
	}
	short := e.do("GET", imageP+"/images/?sort_key=name&sort_dir=asc", nil).want(t, 200).m["images"].([]any)
	if len(short) != 2 || short[0].(map[string]any)["name"] != "Debian Base ☂" || len(short[0].(map[string]any)) != 6 {
		t.Fatalf("short list %v", short)
	}
	desc := e.do("GET", imageP+"/images/?sort_key=name", nil).want(t, 200).m["images"].([]any)
	if desc[0].(map[string]any)["id"] != second {
		t.Errorf("default sort_dir is desc: %v", desc)
	}
	for _, q := range []string{"sort_key=owner", "sort_dir=up", "size_min=x", "size_max="} {
		e.do("GET", imageP+"/images/?"+q, nil).fault(t, 400, "badRequest", "")
	}
	// bob sees the public image but not alice's private one.
	bobList := e.call("tok-bob", "GET", imageP+"/images/", nil, nil).want(t, 200).m["images"].([]any)
	if len(bobList) != 1 || bobList[0].(map[string]any)["id"] != uuid {
		t.Fatalf("bob sees %v", bobList)
	}
	e.call("tok-bob", "HEAD", imageP+"/images/"+second, nil, nil).want(t, 403)

	// Re-register merges properties; an empty value deletes one.
	e.call("tok-alice", "POST", imageP+"/images/", nil, map[string]string{
		"X-Image-Meta-Name": "Debian", "X-Image-Meta-Location": loc,
		"X-Image-Meta-Property-OS": "debian", "X-Image-Meta-Property-Users": "",
	}).want(t, 200)
	head = e.do("HEAD", imageP+"/images/"+uuid, nil).want(t, 200)
	if head.h.Get("X-Image-Meta-Property-Os") != "debian" || head.h.Get("X-Image-Meta-Property-Osfamily") != "linux" || head.h.Get("X-Image-Meta-Property-Users") != "" {
		t.Errorf("re-register merge: %v", head.h)
	}
	if head.h.Get("X-Image-Meta-Is-Public") != "False" {
		t.Error("re-register without Is-Public must reset sharing to private")
	}

	// PUT updates.
	e.call("tok-alice", "PUT", imageP+"/images/"+uuid, nil, map[string]string{
		"X-Image-Meta-Name": "Renamed", "X-Image-Meta-Is-Public": "true", "X-Image-Meta-Property-Osfamily": "",
		"X-Image-Meta-Container-Format": "ovf",
	}).want(t, 200)
	head = e.do("HEAD", imageP+"/images/"+uuid, nil).want(t, 200)
	if head.h.Get("X-Image-Meta-Name") != "Renamed" || head.h.Get("X-Image-Meta-Is-Public") != "True" ||
		head.h.Get("X-Image-Meta-Property-Osfamily") != "" || head.h.Get("X-Image-Meta-Container-Format") != "ovf" {
		t.Errorf("after PUT: %v", head.h)
	}
	e.call("tok-alice", "PUT", imageP+"/images/"+uuid, nil, map[string]string{"X-Image-Meta-Name": ""}).fault(t, 404, "itemNotFound", "")
	e.call("tok-alice", "PUT", imageP+"/images/"+uuid, nil, map[string]string{"X-Image-Meta-Size": "1"}).fault(t, 400, "badRequest", "Invalid metadata")
	e.call("tok-alice", "PUT", imageP+"/images/"+uuid, nil, map[string]string{"X-Image-Meta-Disk-Format": "qcow2"}).fault(t, 400, "badRequest", "Invalid disk format")
	e.call("tok-bob", "PUT", imageP+"/images/"+uuid, nil, map[string]string{"X-Image-Meta-Name": "mine"}).fault(t, 403, "forbidden", "")
	if e.do("HEAD", imageP+"/images/"+uuid, nil).h.Get("X-Image-Meta-Name") != "Renamed" {
		t.Error("a failed PUT changed the name")
	}

	// Compute's view.
	ci := obj(e.do("GET", computeP+"/images/"+uuid, nil).want(t, 200).m, "image")
	if ci["status"] != "ACTIVE" || ci["progress"] != float64(100) || obj(ci, "metadata")["os"] != "debian" {
		t.Errorf("compute image %v", ci)
	}
	e.do("POST", computeP+"/images/"+uuid+"/metadata", `{"metadata": {"gui": "none"}}`).want(t, 201)
	if m := obj(e.do("GET", computeP+"/images/"+uuid+"/metadata/gui", nil).want(t, 200).m, "meta"); m["gui"] != "none" {
		t.Errorf("compute image meta %v", m)
	}
	e.do("POST", computeP+"/images", `{}`).fault(t, 501, "notImplemented", "")

	// Unregister: 204, object stays, image gone everywhere.
	e.do("DELETE", imageP+"/images/"+uuid, nil).want(t, 204)
	e.do("HEAD", objPath, nil).want(t, 200)
	e.do("HEAD", imageP+"/images/"+uuid, nil).want(t, 404)
	e.do("GET", computeP+"/images/"+uuid, nil).fault(t, 404, "itemNotFound", "")
	if n := len(e.do("GET", imageP+"/images/", nil).m["images"].([]any)); n != 1 {
		t.Errorf("%d images after unregister", n)
	}
	e.do("DELETE", imageP+"/images/"+uuid, nil).fault(t, 404, "itemNotFound", "")
}

func TestImageRegisterErrors(t *testing.T) {
	e := newCyEnv(t)
	e.putObject("tok-alice", e.alice(), "images", "a.img", diskData)
	e.putObject("tok-bob", e.bob(), "images", "b.img", diskData)
	loc := "pithos://" + e.alice() + "/images/a.img"
	cases := []struct {
		name string
		tok  string
		hdr  map[string]string
		code int
		flt  string
		msg  string
	}{
		{"no name", "tok-alice", map[string]string{"X-Image-Meta-Location": loc}, 400, "badRequest", "Image 'name' parameter is required"},
		{"empty name", "tok-alice", map[string]string{"X-Image-Meta-Name": "", "X-Image-Meta-Location": loc}, 400, "badRequest", "Invalid image name"},
		{"no location", "tok-alice", map[string]string{"X-Image-Meta-Name": "a"}, 400, "badRequest", "'location' parameter is required"},
		{"bad scheme", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "http://x/y/z"}, 400, "badRequest", "Invalid location"},
		{"short location", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "pithos://" + e.alice() + "/images"}, 400, "badRequest", "Invalid location"},
		{"missing object", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "pithos://" + e.alice() + "/images/nope"}, 404, "itemNotFound", ""},
		{"missing container", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "pithos://" + e.alice() + "/nope/x"}, 404, "itemNotFound", ""},
		{"foreign object", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "pithos://" + e.bob() + "/images/b.img"}, 403, "forbidden", ""},
		{"foreign missing object", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "pithos://" + e.bob() + "/images/zz"}, 403, "forbidden", ""},
		{"bad disk format", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Disk-Format": "qcow2"}, 400, "badRequest", "Invalid disk format 'qcow2'"},
		{"bad container format", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Container-Format": "zip"}, 400, "badRequest", "Invalid container format 'zip'"},
		{"size header", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Size": itoa(int64(len(diskData)))}, 400, "badRequest", "Invalid 'size' field"},
		{"bad checksum", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Checksum": "abc"}, 400, "badRequest", "Invalid checksum field"},
		{"id header", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Id": "x"}, 400, "badRequest", "Setting the image ID is not supported"},
		{"status header", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Status": "x"}, 400, "badRequest", "Invalid parameters"},
		{"store header", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Store": "s3"}, 400, "badRequest", ""},
		{"long property name", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Property-" + strings.Repeat("k", 94): "v"}, 400, "badRequest", ""},
		{"long property value", "tok-alice", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc, "X-Image-Meta-Property-K": strings.Repeat("v", 257)}, 400, "badRequest", ""},
		{"no token", "", map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": loc}, 401, "unauthorized", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.call(c.tok, "POST", imageP+"/images/", nil, c.hdr).fault(t, c.code, c.flt, c.msg)
		})
	}
	if n := len(e.do("GET", imageP+"/images/", nil).want(t, 200).m["images"].([]any)); n != 0 {
		t.Fatalf("rejected registrations left %d images", n)
	}
	// A read share is not enough to register (only the owner may).
	e.call("tok-bob", "POST", "/pithos/object-store/v1/"+e.bob()+"/images/b.img", nil, map[string]string{"X-Object-Sharing": "read=" + e.alice(), "Content-Type": ""}).want(t, 202)
	e.call("tok-alice", "POST", imageP+"/images/", nil, map[string]string{"X-Image-Meta-Name": "a", "X-Image-Meta-Location": "pithos://" + e.bob() + "/images/b.img"}).fault(t, 403, "forbidden", "")

	// HEAD: malformed id 400, unknown 404, unregistered object 404 with message.
	e.do("HEAD", imageP+"/images/not-a-uuid", nil).want(t, 400)
	e.do("HEAD", imageP+"/images/0c9b2ac1-0000-4000-8000-000000000000", nil).want(t, 404)
	uuid, _ := e.putObject("tok-alice", e.alice(), "images", "plain", diskData)
	e.do("DELETE", imageP+"/images/"+uuid, nil).fault(t, 404, "itemNotFound", "Object '"+uuid+"' does not exist.")
	// Raw download is not implemented; wrong methods are bare 405s.
	id := e.image("reg", diskData, nil)
	if r := e.do("GET", imageP+"/images/"+id, nil); r.code != 501 || len(r.body) != 0 {
		t.Fatalf("GET image: %d %q", r.code, r.body)
	}
	if r := e.do("DELETE", imageP+"/images/detail", nil); r.code != 405 || len(r.body) != 0 || r.h.Get("Allow") == "" {
		t.Fatalf("405: %d %q", r.code, r.body)
	}
	e.do("GET", imageP+"/nothing", nil).fault(t, 400, "badRequest", "API endpoint not found")
	if r := e.do("GET", "/cyclades/image/v1/images/", nil); r.code != 200 {
		t.Fatalf("/v1/ route: %d", r.code)
	}
}

func TestImageMembersMoveAndCopy(t *testing.T) {
	e := newCyEnv(t)
	id := e.image("m.img", diskData, nil)
	mp := imageP + "/images/" + id + "/members"
	members := func() []any { return e.do("GET", mp, nil).want(t, 200).m["members"].([]any) }
	if m := members(); len(m) != 1 || m[0].(map[string]any)["member_id"] != e.alice() {
		t.Fatalf("members after register %v (want the owner)", m)
	}
	e.call("tok-bob", "HEAD", imageP+"/images/"+id, nil, nil).want(t, 403)
	e.call("tok-alice", "PUT", mp+"/"+e.bob(), nil, map[string]string{"Content-Length": "0"}).want(t, 204)
	e.call("tok-bob", "HEAD", imageP+"/images/"+id, nil, nil).want(t, 200)
	shared := e.call("tok-bob", "GET", imageP+"/shared-images/"+e.alice(), nil, nil).want(t, 200).m["shared_images"].([]any)
	if len(shared) != 1 || shared[0].(map[string]any)["image_id"] != id {
		t.Fatalf("shared-images %v", shared)
	}
	e.call("tok-bob", "PUT", mp+"/"+e.bob(), nil, nil).fault(t, 403, "forbidden", "")
	e.do("DELETE", mp+"/"+e.bob(), nil).want(t, 204)
	e.call("tok-bob", "HEAD", imageP+"/images/"+id, nil, nil).want(t, 403)
	e.do("PUT", mp, `{"memberships": [{"member_id": "`+e.bob()+`", "can_share": false}]}`).want(t, 204)
	if m := members(); len(m) != 1 || m[0].(map[string]any)["member_id"] != e.bob() {
		t.Fatalf("members after set %v", m)
	}
	e.do("PUT", mp, `{"members": []}`).fault(t, 400, "badRequest", "")

	// Move keeps the image (same UUID, new location); copy does not register.
	src := "/pithos/object-store/v1/" + e.alice() + "/images/m.img"
	e.call("tok-alice", "PUT", "/pithos/object-store/v1/"+e.alice()+"/images/copy.img", nil, map[string]string{"X-Copy-From": "/images/m.img", "Content-Length": "0"}).want(t, 201)
	e.call("tok-alice", "PUT", "/pithos/object-store/v1/"+e.alice()+"/images/moved.img", nil, map[string]string{"X-Move-From": "/images/m.img", "Content-Length": "0"}).want(t, 201)
	e.do("HEAD", src, nil).want(t, 404)
	head := e.do("HEAD", imageP+"/images/"+id, nil).want(t, 200)
	if !strings.HasSuffix(head.h.Get("X-Image-Meta-Location"), "/images/moved.img") {
		t.Fatalf("location after move %q", head.h.Get("X-Image-Meta-Location"))
	}
	if n := len(e.do("GET", imageP+"/images/", nil).m["images"].([]any)); n != 1 {
		t.Fatalf("%d images after copy+move, want 1", n)
	}
	// Deleting the object makes the image disappear.
	e.do("DELETE", "/pithos/object-store/v1/"+e.alice()+"/images/moved.img", nil).want(t, 204)
	e.do("HEAD", imageP+"/images/"+id, nil).want(t, 404)
}
