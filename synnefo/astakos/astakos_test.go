package astakos

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

const (
	testToken = "0123456789abcdef/+="
	testUUID  = "a1b2c3d4-0000-4000-8000-00000000aaaa"
)

// recorded is one request seen by the fake.
type recorded struct {
	Method, Path, Token, ContentType string
	Body                             string
}

type fakeAstakos struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func (f *fakeAstakos) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeAstakos) count(path string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// catalogJSON follows astakos-api.md §2 (shape exact), with URLs on the fake.
func catalogJSON(base string) string {
	return `[
    {"name": "astakos_account", "type": "account", "endpoints_links": [],
     "endpoints": [{"versionId": "v1.0", "publicURL": "` + base + `/astakos/account/v1.0",
                    "SNF:uiURL": "` + base + `/astakos/ui", "region": "default"}]},
    {"name": "astakos_identity", "type": "identity", "endpoints_links": [],
     "endpoints": [{"versionId": "v2.0", "publicURL": "` + base + `/astakos/identity/v2.0",
                    "SNF:uiURL": "` + base + `/astakos/ui", "region": "default"}]},
    {"name": "pithos_object-store", "type": "object-store", "endpoints_links": [],
     "endpoints": [{"versionId": "v1", "publicURL": "` + base + `/pithos/object-store/v1",
                    "SNF:uiURL": "` + base + `/pithos/ui", "region": "default"}]},
    {"name": "cyclades_compute", "type": "compute", "endpoints_links": [],
     "endpoints": [{"versionId": "v2.0", "publicURL": "` + base + `/cyclades/compute/v2.0",
                    "SNF:uiURL": "` + base + `/cyclades/ui", "region": "default"}]},
    {"name": "cyclades_plankton", "type": "image", "endpoints_links": [],
     "endpoints": [{"versionId": "v1.0", "publicURL": "` + base + `/cyclades/image",
                    "SNF:uiURL": "` + base + `/cyclades/ui", "region": "default"}]},
    {"name": "cyclades_double", "type": "double", "endpoints_links": [],
     "endpoints": [{"versionId": "v1.0", "publicURL": "` + base + `/d1"}, {"versionId": "v2.0", "publicURL": "` + base + `/d2"}]},
    {"name": "astakos_weblogin", "type": "astakos_weblogin", "endpoints_links": [],
     "endpoints": [{"versionId": "", "publicURL": "` + base + `/astakos/weblogin",
                    "SNF:webloginURL": "` + base + `/astakos/weblogin",
                    "SNF:uiURL": "` + base + `/astakos/ui", "region": "default"}]}
  ]`
}

func newFake(t *testing.T) *fakeAstakos {
	f := &fakeAstakos{}
	users := map[string]string{testUUID: "user@example.org", "b2": "other@example.org"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("X-Auth-Token"), r.Header.Get("Content-Type"), string(body)})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		fault := func(code int, name, msg string) {
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]any{name: map[string]any{"code": code, "message": msg, "details": ""}})
		}
		base := f.srv.URL
		switch r.URL.Path {
		case "/astakos/identity/v2.0/tokens":
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", "POST")
				fault(405, "notAllowed", "Method not allowed")
				return
			}
			if len(body) == 0 {
				io.WriteString(w, `{"access": {"serviceCatalog": `+catalogJSON(base)+`}}`)
				return
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				fault(400, "badRequest", "Missing Content-Type header field")
				return
			}
			var req struct {
				Auth struct {
					Token struct{ ID *string } `json:"token"`
				} `json:"auth"`
			}
			if err := json.Unmarshal(body, &req); err != nil || req.Auth.Token.ID == nil {
				fault(400, "badRequest", "Malformed request: missing credentials")
				return
			}
			if *req.Auth.Token.ID != testToken {
				fault(401, "unauthorized", "Invalid token")
				return
			}
			io.WriteString(w, `{"access": {
  "token": {"id": "`+testToken+`", "expires": "2030-01-31T12:00:00.123456+00:00",
            "tenant": {"id": "`+testUUID+`", "name": "Demo User"}},
  "user": {"id": "`+testUUID+`", "name": "Demo User", "roles": [{"id": "1", "name": "default"}],
           "roles_links": [], "projects": ["`+testUUID+`", "p2"]},
  "serviceCatalog": `+catalogJSON(base)+`}}`)
		case "/astakos/account/v1.0/user_catalogs":
			if r.Header.Get("X-Auth-Token") != testToken {
				fault(401, "unauthorized", "Invalid X-Auth-Token")
				return
			}
			var req struct{ UUIDs, Displaynames []string }
			if err := json.Unmarshal(body, &req); err != nil {
				fault(400, "badRequest", "Request body should be json formatted.")
				return
			}
			out := map[string]map[string]string{"uuid_catalog": {}, "displayname_catalog": {}}
			for _, u := range req.UUIDs {
				if n, ok := users[u]; ok {
					out["uuid_catalog"][u] = n
				}
			}
			for _, n := range req.Displaynames {
				for u, un := range users {
					if strings.EqualFold(un, n) {
						out["displayname_catalog"][n] = u
					}
				}
			}
			json.NewEncoder(w).Encode(out)
		case "/astakos/account/v1.0/quotas":
			io.WriteString(w, `{"`+testUUID+`": {"pithos.diskspace": {"limit": 1000, "usage": 100, "pending": 0,
				"project_limit": 1500, "project_usage": 900, "project_pending": 0}}}`)
		default:
			fault(400, "badRequest", "API endpoint not found")
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newClient(t *testing.T, f *fakeAstakos, token string) *Client {
	t.Helper()
	c, err := New(f.srv.URL+"/astakos/identity/v2.0/", token, synnefo.Options{RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAuthenticateAndCache(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, testToken)
	ctx := context.Background()
	a, err := c.Authenticate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.User.ID != testUUID || a.Token.Tenant.ID != testUUID || a.Token.Expires == "" || len(a.ServiceCatalog) != 7 {
		t.Fatalf("access %+v", a)
	}
	if a.ServiceCatalog[0].Endpoints[0].UIURL == "" || a.ServiceCatalog[0].Endpoints[0].Region != "default" {
		t.Fatalf("endpoint extras not parsed: %+v", a.ServiceCatalog[0].Endpoints[0])
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/astakos/identity/v2.0/tokens" || r.ContentType != "application/json" {
		t.Fatalf("request %+v", r)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(r.Body), &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"auth": map[string]any{"token": map[string]any{"id": testToken}}}
	if got, _ := json.Marshal(sent); string(got) != mustJSON(want) {
		t.Fatalf("body %s, want %s", got, mustJSON(want))
	}

	// Cached: no more POSTs for the catalogue lookups and user info.
	info, err := c.UserInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.UUID != testUUID || info.Name != "Demo User" || info.DefaultProject != testUUID || len(info.Projects) != 2 || info.Roles[0].ID != "1" {
		t.Fatalf("user info %+v", info)
	}
	for st, want := range map[string]string{
		"compute":      f.srv.URL + "/cyclades/compute/v2.0",
		"COMPUTE":      f.srv.URL + "/cyclades/compute/v2.0",
		"object-store": f.srv.URL + "/pithos/object-store/v1",
		"image":        f.srv.URL + "/cyclades/image",
		ServiceType:    f.srv.URL + "/astakos/identity/v2.0",
	} {
		got, err := c.EndpointURL(ctx, st)
		if err != nil || got != want {
			t.Errorf("EndpointURL(%q) = %q, %v; want %q", st, got, err, want)
		}
	}
	if f.count("/astakos/identity/v2.0/tokens") != 1 {
		t.Fatalf("catalogue not cached: %d token posts", f.count("/astakos/identity/v2.0/tokens"))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEndpointErrors(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, testToken)
	ctx := context.Background()
	_, err := c.EndpointURL(ctx, "volume")
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || !errors.Is(err, ErrNoService) || !strings.Contains(ce.Message, `"volume" not in service catalog`) {
		t.Fatalf("missing service: %v", err)
	}
	if _, err := c.EndpointURL(ctx, "double"); !errors.Is(err, ErrEndpoints) || !strings.Contains(err.Error(), "2 endpoints match type double") {
		t.Fatalf("two endpoints: %v", err)
	}
	e, err := c.Endpoint(ctx, "double", "V2.0")
	if err != nil || e.PublicURL != f.srv.URL+"/d2" {
		t.Fatalf("version filter: %+v %v", e, err)
	}
}

func TestServiceClientAppliesVersionRule(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, testToken)
	ctx := context.Background()
	for _, tt := range []struct{ st, def, want string }{
		{"image", "1.0", f.srv.URL + "/cyclades/image/v1.0"},
		{"compute", "2.0", f.srv.URL + "/cyclades/compute/v2.0"},
	} {
		sc, err := c.ServiceClient(ctx, tt.st, tt.def)
		if err != nil || sc.Endpoint() != tt.want || sc.Token() != testToken {
			t.Fatalf("%s: %v %v", tt.st, sc, err)
		}
		if sc.HTTPClient() != c.HTTP().HTTPClient() {
			t.Fatal("service client does not share the http.Client")
		}
	}
}

func TestBadToken(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, "wrong")
	_, err := c.EndpointURL(context.Background(), "compute")
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 401 || ce.Fault != "unauthorized" || ce.Message != "Invalid token" {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("token leaked into the error: %v", err)
	}
	if f.count("/astakos/identity/v2.0/tokens") != 1 {
		t.Fatal("401 was retried")
	}
}

func TestPublicCatalog(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, testToken)
	cat, err := c.PublicCatalog(context.Background())
	if err != nil || len(cat) != 7 {
		t.Fatalf("%v %v", cat, err)
	}
	if r := f.requests()[0]; r.Body != "" || r.Method != "POST" {
		t.Fatalf("public mode request %+v", r)
	}
}

func TestUserCatalogsCached(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, testToken)
	ctx := context.Background()
	names, err := c.UUIDsToNames(ctx, []string{testUUID, "unknown"})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[testUUID] != "user@example.org" {
		t.Fatalf("names %v", names)
	}
	var ucReq recorded
	for _, r := range f.requests() {
		if r.Path == "/astakos/account/v1.0/user_catalogs" {
			ucReq = r
		}
	}
	if ucReq.Method != "POST" || ucReq.Token != testToken || ucReq.ContentType != "application/json" ||
		ucReq.Body != `{"displaynames":[],"uuids":["`+testUUID+`","unknown"]}` {
		t.Fatalf("user_catalogs request %+v", ucReq)
	}
	// Cached both ways now.
	if names, _ := c.UUIDsToNames(ctx, []string{testUUID}); names[testUUID] != "user@example.org" {
		t.Fatal(names)
	}
	uuids, err := c.NamesToUUIDs(ctx, []string{"USER@example.org"})
	if err != nil || uuids["USER@example.org"] != testUUID {
		t.Fatalf("%v %v", uuids, err)
	}
	if n := f.count("/astakos/account/v1.0/user_catalogs"); n != 1 {
		t.Fatalf("user_catalogs called %d times", n)
	}
	uuids, err = c.NamesToUUIDs(ctx, []string{"Other@Example.org", "nobody"})
	if err != nil || len(uuids) != 1 || uuids["Other@Example.org"] != "b2" {
		t.Fatalf("%v %v", uuids, err)
	}
	if n := f.count("/astakos/account/v1.0/user_catalogs"); n != 2 {
		t.Fatalf("user_catalogs called %d times", n)
	}
}

func TestQuotas(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, testToken)
	q, err := c.Quotas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := q[testUUID]["pithos.diskspace"]
	if d.Limit != 1000 || d.Usage != 100 || d.ProjectLimit != 1500 || d.Effective() != 700 {
		t.Fatalf("quota %+v effective %d", d, d.Effective())
	}
}

func TestNewAppendsVersion(t *testing.T) {
	c, err := New("https://accounts.example.org/astakos/identity", "t", synnefo.Options{})
	if err != nil || c.HTTP().Endpoint() != "https://accounts.example.org/astakos/identity/v2.0" {
		t.Fatalf("%v %v", c.HTTP().Endpoint(), err)
	}
}
