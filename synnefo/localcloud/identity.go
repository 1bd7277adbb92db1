package localcloud

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// service is one entry of the Astakos service catalog.
type service struct {
	name, typ, path, version string
	uiPath                   string
}

// catalog lists the services in registration order (astakos-api.md §1):
// identity and account are versioned URLs; network, image and volume are not.
var catalog = []service{
	{"astakos_account", "account", "/astakos/account/v1.0", "v1.0", "/astakos/ui"},
	{"astakos_identity", "identity", "/astakos/identity/v2.0", "v2.0", "/astakos/ui"},
	{"astakos_weblogin", "astakos_weblogin", "/astakos/weblogin", "", "/astakos/ui"},
	{"pithos_object-store", "object-store", "/pithos/object-store/v1", "v1", "/pithos/ui"},
	{"cyclades_compute", "compute", "/cyclades/compute/v2.0", "v2.0", "/cyclades/ui"},
	{"cyclades_network", "network", "/cyclades/network", "v2.0", "/cyclades/ui"},
	{"cyclades_plankton", "image", "/cyclades/image", "v1.0", "/cyclades/ui"},
	{"cyclades_volume", "volume", "/cyclades/volume", "v2.0", "/cyclades/ui"},
}

func (c *Cloud) serviceCatalog(base string) []catalogService {
	out := make([]catalogService, 0, len(catalog))
	for _, s := range catalog {
		ep := catalogEndpoint{VersionID: s.version, PublicURL: base + s.path, UIURL: base + s.uiPath, Region: "default"}
		if s.typ == "astakos_weblogin" {
			ep.WebloginURL = base + s.path
		}
		out = append(out, catalogService{Name: s.name, Type: s.typ, EndpointsLinks: []link{}, Endpoints: []catalogEndpoint{ep}})
	}
	return out
}

// serveIdentity handles POST /astakos/identity/v2.0/tokens.
func (c *Cloud) serveIdentity(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/astakos/identity/v2.0"), "/")
	switch rest {
	case "":
		c.identityVersion(w, r)
		return
	case "tokens":
	default:
		writeFault(w, r, notFound("Not found"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeFault(w, r, errf(405, "Method not allowed"))
		return
	}
	base := c.baseURL(r)
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeFault(w, r, badRequest("Could not read request body"))
		return
	}
	if len(body) == 0 {
		// Public mode: the catalog only.
		writeJSON(w, 200, accessReply{tokenAccess{ServiceCatalog: c.serviceCatalog(base)}})
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		writeFault(w, r, badRequest("Missing Content-Type header field"))
		return
	}
	if !strings.HasPrefix(ct, "application/json") {
		writeFault(w, r, badRequest("Unsupported Content-type: '"+ct+"'"))
		return
	}
	var req tokensRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeFault(w, r, badRequest("Could not decode request body as JSON"))
		return
	}
	u, f := c.authenticate(req)
	if f != nil {
		writeFault(w, r, f)
		return
	}
	writeJSON(w, 200, accessReply{c.access(u, base, time.Now())})
}

// access is a user's token, identity and the service catalog; the token is
// shown as expiring 30 days after now.
func (c *Cloud) access(u *User, base string, now time.Time) tokenAccess {
	expires := now.UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)
	return tokenAccess{
		Token: &accessToken{
			ID:      u.Token,
			Expires: expires.Format("2006-01-02T15:04:05+00:00"),
			Tenant:  idName{ID: u.UUID, Name: u.Name},
		},
		User: &accessUser{
			ID: u.UUID, Name: u.Name,
			Roles:      []idName{{ID: "1", Name: "default"}},
			RolesLinks: []link{},
			Projects:   c.projectIDs(u),
		},
		ServiceCatalog: c.serviceCatalog(base),
	}
}

// identityVersion answers GET /astakos/identity/v2.0.
func (c *Cloud) identityVersion(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeFault(w, r, errf(405, "Method not allowed"))
		return
	}
	var v identityVersionReply
	v.Version.ID, v.Version.Status, v.Version.Updated = "v2.0", "stable", "2013-08-21T00:00:00Z"
	v.Version.MediaTypes = []mediaType{{Base: "application/json", Type: "application/vnd.openstack.identity-v2.0+json"}}
	v.Version.Links = []keyedLink{{Href: c.baseURL(r) + "/astakos/identity/v2.0/", Rel: "self"}}
	writeJSON(w, 200, v)
}

// authenticate finds the user a tokens request names: by token, or by uuid
// and token as password credentials, for its own tenant.
func (c *Cloud) authenticate(req tokensRequest) (*User, *fault) {
	var u *User
	switch {
	case req.Auth.Token != nil:
		if req.Auth.Token.ID == nil {
			return nil, badRequest("Malformed request: missing token")
		}
		if u = c.byTok[*req.Auth.Token.ID]; u == nil {
			return nil, errf(401, "Invalid token")
		}
	case req.Auth.PasswordCredentials != nil:
		if u = c.byTok[req.Auth.PasswordCredentials.Password]; u == nil {
			return nil, errf(401, "Invalid token")
		}
		if u.UUID != req.Auth.PasswordCredentials.Username {
			return nil, errf(401, "Invalid credentials")
		}
	default:
		return nil, badRequest("Malformed request: missing credentials")
	}
	if req.Auth.TenantName != "" && req.Auth.TenantName != u.UUID {
		return nil, badRequest("Not conforming tenantName")
	}
	return u, nil
}

// serveAccountAPI handles the Astakos account API: user_catalogs, quotas,
// resources, projects and memberships.
func (c *Cloud) serveAccountAPI(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/astakos/account/v1.0"), "/")
	if rest == "resources" { // the resource catalogue needs no token
		c.serveResources(w, r)
		return
	}
	if rest == "commissions" || strings.HasPrefix(rest, "commissions/") { // a component's token
		c.serveCommissions(w, r, rest)
		return
	}
	u, sent := c.userByToken(r)
	if !sent {
		writeFault(w, r, errf(401, "Access denied. No authentication token"))
		return
	}
	if u == nil {
		writeFault(w, r, errf(401, "Invalid X-Auth-Token"))
		return
	}
	switch rest {
	case "user_catalogs":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeFault(w, r, errf(405, "Method not allowed"))
			return
		}
		c.userCatalogs(w, r)
	case "quotas":
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			writeFault(w, r, errf(405, "Method not allowed"))
			return
		}
		c.serveQuotas(w, r, u)
	default:
		if !c.serveProjectsAPI(w, r, u, rest) {
			writeFault(w, r, notFound("Not found"))
		}
	}
}

// userCatalogs is POST /user_catalogs: {"uuids": [...], "displaynames": [...]}.
func (c *Cloud) userCatalogs(w http.ResponseWriter, r *http.Request) {
	var req map[string]json.RawMessage
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		if json.Valid(body) {
			writeFault(w, r, badRequest("Request body should be a json formatted dictionary"))
			return
		}
		writeFault(w, r, badRequest("Request body should be json formatted."))
		return
	}
	var uuids []string
	var names []json.RawMessage
	if raw, ok := req["uuids"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &uuids); err != nil {
			writeFault(w, r, badRequest("Invalid uuids"))
			return
		}
	}
	if raw, ok := req["displaynames"]; ok {
		if err := json.Unmarshal(raw, &names); err != nil || names == nil && string(raw) == "null" {
			writeFault(w, r, badRequest("Invalid displaynames: "+string(raw)))
			return
		}
	}
	display := make([]string, len(names))
	for i, n := range names {
		if json.Unmarshal(n, &display[i]) != nil || string(n) == "null" {
			writeFault(w, r, badRequest("Items in 'displaynames' must be strings"))
			return
		}
	}
	writeJSON(w, 200, c.catalogs(uuids, display))
}

// catalogs resolves uuids to names and display names (case-insensitively) to
// uuids; unknown ones are left out.
func (c *Cloud) catalogs(uuids, names []string) userCatalogsReply {
	out := userCatalogsReply{UUIDCatalog: map[string]string{}, DisplaynameCatalog: map[string]string{}}
	for _, id := range uuids {
		if u := c.byID[id]; u != nil {
			out.UUIDCatalog[id] = u.Name
		}
	}
	for _, s := range names {
		for _, u := range c.users {
			if strings.EqualFold(u.Name, s) {
				out.DisplaynameCatalog[s] = u.UUID
			}
		}
	}
	return out
}
