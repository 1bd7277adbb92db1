package localcloud

// The identity API's requests and replies, typed (astakos-api.md §1): the
// handlers in identity.go decode a tokensRequest, the domain finds the user
// and builds the reply, and encoding/json writes it. Reply fields are
// declared in the order of their JSON keys, the order the maps they replace
// were written in, so the bytes on the wire are unchanged.

// tokensRequest is the body of POST /tokens: a token, or a uuid and token as
// password credentials, for a tenant.
type tokensRequest struct {
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

// catalogEndpoint is one endpoint of a service in the catalog.
type catalogEndpoint struct {
	UIURL       string `json:"SNF:uiURL"`
	WebloginURL string `json:"SNF:webloginURL,omitempty"`
	PublicURL   string `json:"publicURL"`
	Region      string `json:"region"`
	VersionID   string `json:"versionId"`
}

// catalogService is one service of the catalog.
type catalogService struct {
	Endpoints      []catalogEndpoint `json:"endpoints"`
	EndpointsLinks []link            `json:"endpoints_links"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
}

// idName is a reference by id with its name (a tenant, a role).
type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type accessToken struct {
	Expires string `json:"expires"`
	ID      string `json:"id"`
	Tenant  idName `json:"tenant"`
}

type accessUser struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Projects   []string `json:"projects"`
	Roles      []idName `json:"roles"`
	RolesLinks []link   `json:"roles_links"`
}

// tokenAccess is a tokens reply: the catalog alone in public mode (no
// body), else with the token and its user.
type tokenAccess struct {
	ServiceCatalog []catalogService `json:"serviceCatalog"`
	Token          *accessToken     `json:"token,omitempty"`
	User           *accessUser      `json:"user,omitempty"`
}

type accessReply struct {
	Access tokenAccess `json:"access"`
}

type mediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

// keyedLink is a link with its keys in JSON key order (href, rel).
type keyedLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// identityVersionReply is GET /astakos/identity/v2.0.
type identityVersionReply struct {
	Version struct {
		ID         string      `json:"id"`
		Links      []keyedLink `json:"links"`
		MediaTypes []mediaType `json:"media-types"`
		Status     string      `json:"status"`
		Updated    string      `json:"updated"`
	} `json:"version"`
}

// userCatalogsReply is POST /user_catalogs: display name → uuid and uuid →
// name.
type userCatalogsReply struct {
	DisplaynameCatalog map[string]string `json:"displayname_catalog"`
	UUIDCatalog        map[string]string `json:"uuid_catalog"`
}
