package integration

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// swiftEntry is one element of a JSON container listing: an object or, with a delimiter, a subdir.
type swiftEntry struct {
	Name   string `json:"name,omitempty"`
	Subdir string `json:"subdir,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
	Hash   string `json:"hash,omitempty"`
}

// TestSwiftIsReal checks that the Swift the other tests compare against is a real, reachable server with
// the behaviour they rely on: v1.0 auth, container and object PUT, ranged GET, JSON listings with a
// delimiter, and separate accounts for separate users.
func TestSwiftIsReal(t *testing.T) {
	env := requireSwift(t)
	c := newHTTPClient()
	token, storage := swiftAuth(t, c, env.AuthURL, env.Admin)
	if u, err := url.Parse(storage); err != nil || u.Hostname() != "127.0.0.1" || !strings.HasPrefix(u.Path, "/v1/AUTH_") {
		t.Fatalf("storage URL %q: want http://127.0.0.1:PORT/v1/AUTH_…", storage)
	}

	cont := randomName("it-swift-")
	contURL := storage + "/" + cont
	if resp, body := doHTTP(t, c, http.MethodPut, contURL, token, nil, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT container: %s %s", resp.Status, body)
	}
	objects := map[string][]byte{
		"dir/a.txt":     randomBytes(1000),
		"dir/sub/b.txt": randomBytes(10),
		"top.txt":       []byte("top"),
	}
	t.Cleanup(func() {
		for name := range objects {
			doHTTP(t, c, http.MethodDelete, contURL+"/"+name, token, nil, nil)
		}
		if resp, body := doHTTP(t, c, http.MethodDelete, contURL, token, nil, nil); resp.StatusCode != http.StatusNoContent {
			t.Errorf("DELETE container: %s %s", resp.Status, body)
		}
	})
	for name, data := range objects {
		resp, body := doHTTP(t, c, http.MethodPut, contURL+"/"+name, token, data, http.Header{"Content-Type": {"text/plain"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %s %s", name, resp.Status, body)
		}
		sum := md5.Sum(data)
		if got, want := resp.Header.Get("Etag"), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("PUT %s: ETag %q, want the MD5 %q", name, got, want)
		}
	}

	t.Run("range", func(t *testing.T) {
		resp, body := doHTTP(t, c, http.MethodGet, contURL+"/dir/a.txt", token, nil, http.Header{"Range": {"bytes=100-199"}})
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("ranged GET: %s", resp.Status)
		}
		if !bytes.Equal(body, objects["dir/a.txt"][100:200]) {
			t.Errorf("ranged GET returned %d bytes that differ from bytes 100-199", len(body))
		}
		if got := resp.Header.Get("Content-Range"); got != "bytes 100-199/1000" {
			t.Errorf("Content-Range %q, want bytes 100-199/1000", got)
		}
	})

	listCases := []struct {
		name, query string
		want        []swiftEntry
	}{
		{"top level", "format=json&delimiter=/", []swiftEntry{
			{Subdir: "dir/"},
			{Name: "top.txt", Bytes: 3, Hash: md5hex(objects["top.txt"])},
		}},
		{"prefix", "format=json&delimiter=/&prefix=dir/", []swiftEntry{
			{Name: "dir/a.txt", Bytes: 1000, Hash: md5hex(objects["dir/a.txt"])},
			{Subdir: "dir/sub/"},
		}},
		{"no delimiter", "format=json", []swiftEntry{
			{Name: "dir/a.txt", Bytes: 1000, Hash: md5hex(objects["dir/a.txt"])},
			{Name: "dir/sub/b.txt", Bytes: 10, Hash: md5hex(objects["dir/sub/b.txt"])},
			{Name: "top.txt", Bytes: 3, Hash: md5hex(objects["top.txt"])},
		}},
	}
	for _, tc := range listCases {
		t.Run("list "+tc.name, func(t *testing.T) {
			resp, body := doHTTP(t, c, http.MethodGet, contURL+"?"+tc.query, token, nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("listing: %s %s", resp.Status, body)
			}
			var got []swiftEntry
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("listing is not JSON: %v: %s", err, body)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("listing ?%s\n got %+v\nwant %+v", tc.query, got, tc.want)
			}
		})
	}

	t.Run("other users", func(t *testing.T) {
		token2, storage2 := swiftAuth(t, c, env.AuthURL, env.Admin2)
		if storage2 == storage {
			t.Fatalf("%s and %s share the storage URL %s", env.Admin.Name, env.Admin2.Name, storage)
		}
		if resp, _ := doHTTP(t, c, http.MethodGet, contURL+"/top.txt", token2, nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s reading another account's object: %s, want 403", env.Admin2.Name, resp.Status)
		}
		token3, storage3 := swiftAuth(t, c, env.AuthURL, env.Plain)
		if storage3 != storage {
			t.Errorf("%s storage URL %s, want the account of %s, %s", env.Plain.Name, storage3, env.Admin.Name, storage)
		}
		if resp, _ := doHTTP(t, c, http.MethodGet, contURL+"/top.txt", token3, nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("non-admin %s reading without an ACL: %s, want 403", env.Plain.Name, resp.Status)
		}
	})
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
