package fs

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatsKinds(t *testing.T) {
	s := NewStats("http://h/pithos/object-store/v1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("abc")) }))
	defer srv.Close()
	s.SetEndpoint(srv.URL + "/pithos/object-store/v1")
	c := &http.Client{Transport: s.Transport(http.DefaultTransport)}
	do := func(method, path string, hdr map[string]string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		resp.Body.Close()
	}
	base := "/pithos/object-store/v1"
	do("GET", base+"/", nil)
	do("GET", base+"/acct", nil)
	do("GET", base+"/acct/cont", nil)
	do("GET", base+"/acct/cont/a/b?hashmap&format=json", nil)
	do("GET", base+"/acct/cont/a/b", map[string]string{"Range": "bytes=0-1"})
	do("HEAD", base+"/acct/cont/a/b", nil)
	do("PUT", base+"/acct/cont/x", map[string]string{"X-Move-From": "/cont/y"})
	do("POST", "/astakos/identity/v2.0/tokens", nil)
	do("POST", "/astakos/account/v1.0/user_catalogs", nil)
	do("GET", "/cyclades/compute/v2.0/servers/detail", nil)
	do("GET", "/cyclades/compute/v2.0/flavors/detail", nil)
	do("GET", "/cyclades/network/v2.0/networks", nil)
	do("GET", "/cyclades/image/v1.0/images/detail", nil)
	do("GET", "/cyclades/volume/v2.0/volumes/detail", nil)
	snap := s.Snapshot(nil)
	want := map[string]int64{"list_accounts": 1, "list_containers": 1, "list_objects": 1, "get_hashmap": 1, "get_range": 1,
		"head_object": 1, "copy_move": 1, "identity": 1, "account": 1, "compute": 2, "network": 1, "image": 1, "volume": 1}
	for k, v := range want {
		if snap.RequestsByKind[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, snap.RequestsByKind[k], v, snap.RequestsByKind)
		}
	}
	wantSvc := map[string]int64{"object-store": 7, "identity": 1, "account": 1, "compute": 2, "network": 1, "image": 1, "volume": 1}
	if !maps.Equal(snap.RequestsByService, wantSvc) {
		t.Errorf("requests_by_service = %v, want %v", snap.RequestsByService, wantSvc)
	}
	if snap.Requests["GET"] != 10 || snap.BytesDown != 13*3 {
		t.Errorf("verbs %v, bytes down %d", snap.Requests, snap.BytesDown)
	}
}
