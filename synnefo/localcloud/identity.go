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

func (c *Cloud) serviceCatalog(base string) []any {
	out := make([]any, 0, len(catalog))
	for _, s := range catalog {
		ep := map[string]any{
			"versionId": s.version,
			"publicURL": base + s.path,
			"SNF:uiURL": base + s.uiPath,
			"region":    "default",
		}
		if s.typ == "astakos_weblogin" {
			ep["SNF:webloginURL"] = base + s.path
		}
		out = append(out, map[string]any{
			"name": s.name, "type": s.typ, "endpoints_links": []any{}, "endpoints": []any{ep},
		})
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
		writeJSON(w, 200, map[string]any{"access": map[string]any{"serviceCatalog": c.serviceCatalog(base)}})
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
	u, f := c.authenticate(body)
	if f != nil {
		writeFault(w, r, f)
		return
	}
	expires := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)
	writeJSON(w, 200, map[string]any{"access": map[string]any{
		"token": map[string]any{
			"id":      u.Token,
			"expires": expires.Format("2006-01-02T15:04:05+00:00"),
			"tenant":  map[string]any{"id": u.UUID, "name": u.Name},
		},
		"user": map[string]any{
			"id": u.UUID, "name": u.Name,
			"roles":       []any{map[string]any{"id": "1", "name": "default"}},
			"roles_links": []any{},
			"projects":    c.projectIDs(u),
		},
		"serviceCatalog": c.serviceCatalog(base),
	}})
}

// identityVersion answers GET /astakos/identity/v2.0.
func (c *Cloud) identityVersion(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeFault(w, r, errf(405, "Method not allowed"))
		return
	}
	writeJSON(w, 200, map[string]any{"version": map[string]any{
		"id": "v2.0", "status": "stable", "updated": "2013-08-21T00:00:00Z",
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v2.0+json"}},
		"links":       []any{map[string]any{"rel": "self", "href": c.baseURL(r) + "/astakos/identity/v2.0/"}},
	}})
}

// authenticate finds the user a tokens request's body names: by token, or
// by uuid and token as password credentials, for its own tenant.
func (c *Cloud) authenticate(body []byte) (*User, *fault) {
	var req struct {
		Auth struct {
			Token *struct {
				ID *string `json:"id"`
			} `json:"token"`
			PasswordCredentials *struct {
				Username string `json:"username"`
				Password string `json:"password"`
			} `json:"passwordCredentials"`
			TenantName string `json:"tenantName"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, badRequest("Could not decode request body as JSON")
	}
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

func (c *Cloud) userCatalogs(w http.ResponseWriter, r *http.Request) {
	var req map[string]json.RawMessage
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		var any any
		if json.Unmarshal(body, &any) == nil {
			writeFault(w, r, badRequest("Request body should be a json formatted dictionary"))
			return
		}
		writeFault(w, r, badRequest("Request body should be json formatted."))
		return
	}
	var uuids []string
	var names []any
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
	uuidCat := map[string]string{}
	for _, id := range uuids {
		if u := c.byID[id]; u != nil {
			uuidCat[id] = u.Name
		}
	}
	nameCat := map[string]string{}
	for _, n := range names {
		s, ok := n.(string)
		if !ok {
			writeFault(w, r, badRequest("Items in 'displaynames' must be strings"))
			return
		}
		for _, u := range c.users {
			if strings.EqualFold(u.Name, s) {
				nameCat[s] = u.UUID
			}
		}
	}
	writeJSON(w, 200, map[string]any{"uuid_catalog": uuidCat, "displayname_catalog": nameCat})
}
