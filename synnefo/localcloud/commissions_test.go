package localcloud

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const compTok = "component-secret"

// newCommissionEnv is a cloud whose component token is compTok.
func newCommissionEnv(t *testing.T) *env {
	t.Helper()
	srv, err := Start(Config{Dir: t.TempDir(), BlockSize: 4, Users: []User{userA, userB, userD}, ComponentToken: compTok})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, base: srv.ObjectStoreURL(), hc: testHTTPClient()}
}

// comm calls the commissions API with the component's token.
func (e *env) comm(method, path string, body any) (*resp, map[string]any) {
	e.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	r := e.req(method, e.srv.URL+accountP+"/commissions"+path, compTok, map[string]string{"Content-Type": "application/json"}, rd)
	var m map[string]any
	json.Unmarshal(r.body, &m)
	return r, m
}

func (e *env) quota(u User, project, res string) map[string]float64 {
	e.t.Helper()
	var q map[string]map[string]map[string]float64
	r := e.must(e.req("GET", e.srv.URL+accountP+"/quotas", u.Token, nil, nil), 200)
	if err := json.Unmarshal(r.body, &q); err != nil {
		e.t.Fatal(err)
	}
	return q[project][res]
}

func prov(holder string, source any, res string, n int64) map[string]any {
	return map[string]any{"holder": holder, "source": source, "resource": res, "quantity": n}
}

// quota-api-guide's commissions: issue (the guide's example request),
// pending in /quotas, the three refusals with their data, accept, reject,
// force, auto_accept and the bulk action with its failed pairs.
func TestCommissionsAPI(t *testing.T) {
	e := newCommissionEnv(t)
	a, pa := "user:"+userA.UUID, "project:"+userA.UUID
	// Only the component's token.
	checkFault(t, e.req("GET", e.srv.URL+accountP+"/commissions", userA.Token, nil, nil), 401, "unauthorized", "")
	checkFault(t, e.req("GET", e.srv.URL+accountP+"/commissions", "", nil, nil), 401, "unauthorized", "")

	req := map[string]any{"force": false, "auto_accept": false, "name": "an optional description", "provisions": []any{
		prov(a, pa, "cyclades.vm", 1), prov(pa, nil, "cyclades.vm", 1),
		prov(a, pa, "cyclades.ram", 536870912), prov(pa, nil, "cyclades.ram", 536870912)}}
	r, m := e.comm("POST", "", req)
	if r.code != 201 || m["serial"] == nil {
		t.Fatalf("issue: %s", r)
	}
	s1 := int64(m["serial"].(float64))
	if r, _ := e.comm("GET", "", nil); string(r.body) != fmt.Sprintf("[%d]", s1) {
		t.Errorf("pending: %s", r)
	}
	r, m = e.comm("GET", fmt.Sprint("/", s1), nil)
	if r.code != 200 || m["name"] != "an optional description" || m["issue_time"] == "" || len(m["provisions"].([]any)) != 4 {
		t.Errorf("get commission: %s", r)
	}
	if q := e.quota(userA, userA.UUID, "cyclades.vm"); q["pending"] != 1 || q["usage"] != 0 || q["project_pending"] != 1 {
		t.Errorf("quota with a pending commission: %v", q)
	}

	// Over the limit (the base project's 100 VMs, one pending), below zero,
	// and a holding that does not exist.
	r, m = e.comm("POST", "", map[string]any{"provisions": []any{prov(a, pa, "cyclades.vm", 100)}})
	d := obj(obj(m, "overLimit"), "data")
	if r.code != 413 || d["name"] != "NoCapacityError" || d["limit"] != float64(100) || d["usage"] != float64(1) ||
		obj(d, "provision")["quantity"] != float64(100) || obj(m, "overLimit")["message"] != a+" has not enough capacity of cyclades.vm." {
		t.Errorf("over capacity: %s", r)
	}
	r, m = e.comm("POST", "", map[string]any{"provisions": []any{prov(a, pa, "cyclades.vm", -1)}})
	if d := obj(obj(m, "overLimit"), "data"); r.code != 413 || d["name"] != "NoQuantityError" || d["usage"] != float64(0) || d["limit"] != float64(0) {
		t.Errorf("release below zero: %s", r)
	}
	r, m = e.comm("POST", "", map[string]any{"provisions": []any{prov("user:"+userB.UUID, pa, "cyclades.vm", 1)}})
	if d := obj(obj(m, "itemNotFound"), "data"); r.code != 404 || d["name"] != "NoHoldingError" {
		t.Errorf("no holding: %s", r)
	}
	for _, bad := range []any{map[string]any{}, map[string]any{"provisions": "x"}, map[string]any{"provisions": []any{map[string]any{"holder": a}}},
		map[string]any{"provisions": []any{}, "force": "yes"}, []any{}} {
		r, _ := e.comm("POST", "", bad)
		checkFault(t, r, 400, "badRequest", "")
	}

	// Accept: usage, not pending; the serial is gone.
	if r, _ := e.comm("POST", fmt.Sprint("/", s1, "/action"), map[string]any{"accept": ""}); r.code != 200 {
		t.Fatalf("accept: %s", r)
	}
	if q := e.quota(userA, userA.UUID, "cyclades.ram"); q["usage"] != 536870912 || q["pending"] != 0 || q["project_usage"] != 536870912 {
		t.Errorf("quota after accept: %v", q)
	}
	if r, _ := e.comm("GET", fmt.Sprint("/", s1), nil); r.code != 404 || len(r.body) != 0 {
		t.Errorf("accepted commission still there: %s", r)
	}
	if r, _ := e.comm("POST", fmt.Sprint("/", s1, "/action"), map[string]any{"reject": ""}); r.code != 404 {
		t.Errorf("reject of a resolved serial: %s", r)
	}
	r, _ = e.comm("POST", fmt.Sprint("/", s1, "/action"), map[string]any{"accept": "", "reject": ""})
	checkFault(t, r, 400, "badRequest", "Specify either accept or reject action.")

	// force goes over the limit; auto_accept needs no second step; a
	// release brings usage back.
	if r, _ := e.comm("POST", "", map[string]any{"force": true, "auto_accept": true, "provisions": []any{prov(a, pa, "cyclades.vm", 150)}}); r.code != 201 {
		t.Errorf("forced: %s", r)
	}
	if q := e.quota(userA, userA.UUID, "cyclades.vm"); q["usage"] != 151 || q["pending"] != 0 {
		t.Errorf("quota after a forced commission: %v", q)
	}
	if r, _ := e.comm("POST", "", map[string]any{"auto_accept": true, "provisions": []any{prov(a, pa, "cyclades.vm", -151)}}); r.code != 201 {
		t.Errorf("release: %s", r)
	}

	// The guide's bulk example: one accepted, one in both lists, one unknown.
	serial := func() int64 {
		_, m := e.comm("POST", "", map[string]any{"provisions": []any{prov(a, pa, "cyclades.cpu", 1)}})
		return int64(m["serial"].(float64))
	}
	s56, s57, s59 := serial(), serial(), serial()
	r, _ = e.comm("POST", "/action", map[string]any{"accept": []int64{s56, s57}, "reject": []int64{s56, 9999, s59}})
	want := fmt.Sprintf(`{"accepted":[%d],"failed":[[%d,{"badRequest":{"code":400,"message":"cannot both accept and reject serial %d"}}],[9999,{"itemNotFound":{"code":404,"message":"serial 9999 does not exist"}}]],"rejected":[%d]}`, s57, s56, s56, s59)
	if r.code != 200 || string(r.body) != want {
		t.Errorf("bulk action: %s\nwant %s", r, want)
	}
	if q := e.quota(userA, userA.UUID, "cyclades.cpu"); q["usage"] != 1 || q["pending"] != 1 {
		t.Errorf("cpu after the bulk action: %v", q)
	}
}

// A component's pending commission holds quota the cloud's own writes
// cannot take; rejecting it frees it.
func TestCommissionPendingLimitsUploads(t *testing.T) {
	e := newCommissionEnv(t)
	d, pd := "user:"+userD.UUID, "project:"+userD.UUID // 8 bytes of storage
	e.must(e.req("PUT", "/{d}/c", userD.Token, nil, nil), 201)
	_, m := e.comm("POST", "", map[string]any{"provisions": []any{prov(d, pd, "pithos.diskspace", 6), prov(pd, nil, "pithos.diskspace", 6)}})
	serial := int64(m["serial"].(float64))
	r := e.req("PUT", "/{d}/c/o", userD.Token, map[string]string{"Content-Type": "a/b"}, strings.NewReader("123"))
	want := `{"fault":{"code":413,"details":"Limit for resource 'Storage space' exceeded for your account. Available: 2, Requested: 3","message":"Resource Limit Exceeded for your account."}}`
	if r.code != 413 || string(r.body) != want {
		t.Fatalf("upload beside a pending commission: %s\nwant %s", r, want)
	}
	if r, _ := e.comm("POST", fmt.Sprint("/", serial, "/action"), map[string]any{"reject": ""}); r.code != 200 {
		t.Fatalf("reject: %s", r)
	}
	e.must(e.req("PUT", "/{d}/c/o", userD.Token, map[string]string{"Content-Type": "a/b"}, strings.NewReader("123")), 201)
	// The commission checks see the cloud's own usage too.
	_, m = e.comm("POST", "", map[string]any{"provisions": []any{prov(d, pd, "pithos.diskspace", 6)}})
	if data := obj(obj(m, "overLimit"), "data"); data["usage"] != float64(3) || data["limit"] != float64(8) {
		t.Errorf("commission over the usage of objects: %v", m)
	}
}
