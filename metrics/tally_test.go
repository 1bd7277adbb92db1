package metrics

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTallyKinds(t *testing.T) {
	m := New(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("abc")) }))
	defer srv.Close()
	base := "/pithos/object-store/v1"
	m.Tally().SetEndpoint(srv.URL+base, ".probe")
	c := &http.Client{Transport: m.Transport(http.DefaultTransport)}
	do := func(method, path string, hdr map[string]string, body string) {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, r)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do("GET", base+"/", nil, "")
	do("GET", base+"/acct", nil, "")
	do("GET", base+"/acct/cont", nil, "")
	do("GET", base+"/acct/cont/a/b?hashmap&format=json", nil, "")
	do("GET", base+"/acct/cont/a/b", map[string]string{"Range": "bytes=0-1"}, "")
	do("HEAD", base+"/acct/cont/a/b", nil, "")
	do("PUT", base+"/acct/cont/x", map[string]string{"X-Move-From": "/cont/y"}, "")
	do("PUT", base+"/acct/cont/.probe?hashmap&format=json", nil, `{"bytes":0,"block_size":4194304,"block_hash":"sha256","hashes":[]}`)
	do("PUT", base+"/acct/cont/y?hashmap&format=json", nil, `{"bytes":0,"block_size":4194304,"block_hash":"sha256","hashes":[]}`)
	do("PUT", base+"/acct/cont/z", nil, "12345")
	do("POST", "/astakos/identity/v2.0/tokens", nil, "")
	do("POST", "/astakos/account/v1.0/user_catalogs", nil, "")
	do("GET", "/cyclades/compute/v2.0/servers/detail", nil, "")
	do("GET", "/cyclades/compute/v2.0/flavors/detail", nil, "")
	do("GET", "/cyclades/network/v2.0/networks", nil, "")
	do("GET", "/cyclades/image/v1.0/images/detail", nil, "")
	do("GET", "/cyclades/volume/v2.0/volumes/detail", nil, "")
	snap := m.Tally().Snapshot()
	want := map[string]int64{"list_accounts": 1, "list_containers": 1, "list_objects": 1, "get_hashmap": 1, "get_range": 1,
		"head_object": 1, "copy_move": 1, "probe_blocks": 1, "put_hashmap": 1, "put_object": 1,
		"identity": 1, "account": 1, "compute": 2, "network": 1, "image": 1, "volume": 1}
	if !maps.Equal(snap.Kinds, want) {
		t.Errorf("kinds = %v, want %v", snap.Kinds, want)
	}
	wantSvc := map[string]int64{"object-store": 10, "identity": 1, "account": 1, "compute": 2, "network": 1, "image": 1, "volume": 1}
	if !maps.Equal(snap.Services, wantSvc) {
		t.Errorf("services = %v, want %v", snap.Services, wantSvc)
	}
	// Every reply is "abc"; up: the three bodies sent.
	up := int64(len(`{"bytes":0,"block_size":4194304,"block_hash":"sha256","hashes":[]}`)*2 + 5)
	if snap.Verbs["GET"] != 10 || snap.Verbs["PUT"] != 4 || snap.BytesDown != 16*3 || snap.BytesUp != up {
		t.Errorf("verbs %v, bytes down %d (want 48), up %d (want %d)", snap.Verbs, snap.BytesDown, snap.BytesUp, up)
	}
}
