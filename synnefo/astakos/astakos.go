package astakos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/pithosfs/pithosfs/synnefo"
)

// ServiceType is the catalogue type of the identity service.
const ServiceType = "identity"

// DefaultVersion is appended (as "/v2.0") to an identity URL that carries no version.
const DefaultVersion = "2.0"

// AccountServiceName and AccountVersionID identify the catalogue entry whose publicURL is the account
// service (user_catalogs, quotas), as astakosclient requires.
const (
	AccountServiceName = "astakos_account"
	AccountVersionID   = "v1.0"
)

// Errors wrapped (as ClientError.Err) by catalogue lookups.
var (
	ErrNoService  = errors.New("service type not in service catalog")
	ErrEndpoints  = errors.New("endpoint count for service type is not one")
	ErrNoAccount  = errors.New("no astakos_account v1.0 endpoint in the catalog")
	ErrNoUserInfo = errors.New("access document has no user")
)

// Access is the "access" document returned by POST /tokens.
type Access struct {
	Token          Token     `json:"token"`
	User           User      `json:"user"`
	ServiceCatalog []Service `json:"serviceCatalog"`
}

// Token describes the authenticated token.
type Token struct {
	ID      string `json:"id"`
	Expires string `json:"expires"`
	Tenant  struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"tenant"`
}

// User is access.user.
type User struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Roles      []Role   `json:"roles"`
	RolesLinks []any    `json:"roles_links"`
	Projects   []string `json:"projects"`
}

// Role is one entry of access.user.roles (ids are strings on the wire).
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Service is one catalogue entry.
type Service struct {
	Name           string     `json:"name"`
	Type           string     `json:"type"`
	Endpoints      []Endpoint `json:"endpoints"`
	EndpointsLinks []any      `json:"endpoints_links"`
}

// Endpoint is one endpoint of a catalogue entry.
type Endpoint struct {
	VersionID   string `json:"versionId"`
	PublicURL   string `json:"publicURL"`
	UIURL       string `json:"SNF:uiURL,omitempty"`
	WebloginURL string `json:"SNF:webloginURL,omitempty"`
	Region      string `json:"region,omitempty"`
}

// UserInfo is kamaki's user_info: access.user plus the default project (access.token.tenant.id).
type UserInfo struct {
	UUID           string
	Name           string
	DefaultProject string
	Roles          []Role
	Projects       []string
}

// Client talks to one identity endpoint with one token. It is safe for concurrent use.
type Client struct {
	http *synnefo.Client

	mu      sync.Mutex
	access  *Access
	account *synnefo.Client
	names   map[string]string // uuid → display name
	uuids   map[string]string // lower-cased display name → uuid
}

// New returns a client for identityURL (e.g. "https://accounts.example.org/astakos/identity/v2.0"; a URL
// without a version gets "/v2.0" appended, as kamaki does) authenticating token.
func New(identityURL, token string, opts synnefo.Options) (*Client, error) {
	hc, err := synnefo.NewClient(synnefo.VersionedEndpoint(identityURL, DefaultVersion), token, opts)
	if err != nil {
		return nil, err
	}
	return &Client{http: hc, names: map[string]string{}, uuids: map[string]string{}}, nil
}

// HTTP returns the underlying core client (identity endpoint).
func (c *Client) HTTP() *synnefo.Client { return c.http }

// Token returns the token the client authenticates.
func (c *Client) Token() string { return c.http.Token() }

// Authenticate posts the token to {identity}/tokens (body {"auth":{"token":{"id":TOKEN}}}), caches the
// access document and returns it. Later calls of the other methods use the cache; calling Authenticate
// again refreshes it. A rejected token is a *synnefo.ClientError with Status 401.
func (c *Client) Authenticate(ctx context.Context) (*Access, error) {
	body := map[string]any{"auth": map[string]any{"token": map[string]string{"id": c.http.Token()}}}
	var out struct {
		Access *Access `json:"access"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodPost, Path: "/tokens",
		Idempotent: true, Success: []int{http.StatusOK}}, body, &out)
	if err != nil {
		return nil, err
	}
	if out.Access == nil {
		return nil, &synnefo.ClientError{Message: "authentication reply has no access document", Status: http.StatusOK}
	}
	c.mu.Lock()
	c.access = out.Access
	c.account = nil
	c.mu.Unlock()
	return out.Access, nil
}

// PublicCatalog fetches the catalogue without authenticating (POST /tokens with no body, Astakos' public
// mode). It is not cached.
func (c *Client) PublicCatalog(ctx context.Context) ([]Service, error) {
	var out struct {
		Access struct {
			ServiceCatalog []Service `json:"serviceCatalog"`
		} `json:"access"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodPost, Path: "/tokens",
		Idempotent: true, Success: []int{http.StatusOK}}, nil, &out)
	if err != nil {
		return nil, err
	}
	return out.Access.ServiceCatalog, nil
}

// Access returns the cached access document, authenticating first when there is none.
func (c *Client) Access(ctx context.Context) (*Access, error) {
	c.mu.Lock()
	a := c.access
	c.mu.Unlock()
	if a != nil {
		return a, nil
	}
	return c.Authenticate(ctx)
}

// Catalog returns the (cached) service catalogue of the token.
func (c *Client) Catalog(ctx context.Context) ([]Service, error) {
	a, err := c.Access(ctx)
	if err != nil {
		return nil, err
	}
	return a.ServiceCatalog, nil
}

// Service returns the first catalogue entry whose type equals serviceType case-insensitively.
func (c *Client) Service(ctx context.Context, serviceType string) (Service, error) {
	cat, err := c.Catalog(ctx)
	if err != nil {
		return Service{}, err
	}
	return FindService(cat, serviceType)
}

// FindService returns the first entry of catalog whose type equals serviceType case-insensitively.
func FindService(catalog []Service, serviceType string) (Service, error) {
	for _, s := range catalog {
		if strings.EqualFold(s.Type, serviceType) {
			return s, nil
		}
	}
	return Service{}, &synnefo.ClientError{Message: fmt.Sprintf("Service type %q not in service catalog", serviceType), Err: ErrNoService}
}

// FindEndpoint applies kamaki's get_service_endpoints rule to catalog: the first service of serviceType
// (case-insensitive), its endpoints whose versionId equals version case-insensitively (all when version
// is ""); exactly one must remain.
func FindEndpoint(catalog []Service, serviceType, version string) (Endpoint, error) {
	s, err := FindService(catalog, serviceType)
	if err != nil {
		return Endpoint{}, err
	}
	var match []Endpoint
	for _, e := range s.Endpoints {
		if version == "" || strings.EqualFold(e.VersionID, version) {
			match = append(match, e)
		}
	}
	if len(match) != 1 {
		v := ""
		if version != "" {
			v = " and versionId " + version
		}
		return Endpoint{}, &synnefo.ClientError{
			Message: fmt.Sprintf("%d endpoints match type %s%s", len(match), serviceType, v), Err: ErrEndpoints}
	}
	return match[0], nil
}

// Endpoint returns the single endpoint of serviceType (optionally of one versionId) in the cached catalogue.
func (c *Client) Endpoint(ctx context.Context, serviceType, version string) (Endpoint, error) {
	cat, err := c.Catalog(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	return FindEndpoint(cat, serviceType, version)
}

// EndpointURL returns the publicURL of serviceType's single endpoint (kamaki's get_endpoint_url). Service
// types: "identity", "account", "object-store", "compute", "network", "image", "volume".
func (c *Client) EndpointURL(ctx context.Context, serviceType string) (string, error) {
	e, err := c.Endpoint(ctx, serviceType, "")
	if err != nil {
		return "", err
	}
	return e.PublicURL, nil
}

// ServiceClient returns a core client for serviceType's endpoint with kamaki's version fix-up
// (defaultVersion appended when the publicURL has none), the same token and the same http.Client.
func (c *Client) ServiceClient(ctx context.Context, serviceType, defaultVersion string) (*synnefo.Client, error) {
	u, err := c.EndpointURL(ctx, serviceType)
	if err != nil {
		return nil, err
	}
	return c.http.WithEndpoint(synnefo.VersionedEndpoint(u, defaultVersion))
}

// UserInfo returns the authenticated user's uuid, name and default project.
func (c *Client) UserInfo(ctx context.Context) (UserInfo, error) {
	a, err := c.Access(ctx)
	if err != nil {
		return UserInfo{}, err
	}
	if a.User.ID == "" {
		return UserInfo{}, &synnefo.ClientError{Message: "no user in the access document", Err: ErrNoUserInfo}
	}
	return UserInfo{UUID: a.User.ID, Name: a.User.Name, DefaultProject: a.Token.Tenant.ID,
		Roles: a.User.Roles, Projects: a.User.Projects}, nil
}

// AccountURL returns the account service's publicURL: the catalogue entry named astakos_account with a
// versionId v1.0 endpoint (falling back to the single endpoint of type "account").
func (c *Client) AccountURL(ctx context.Context) (string, error) {
	cat, err := c.Catalog(ctx)
	if err != nil {
		return "", err
	}
	return accountURLIn(cat)
}

// accountURLIn finds the account service's publicURL in a catalogue.
func accountURLIn(cat []Service) (string, error) {
	for _, s := range cat {
		if s.Name != AccountServiceName {
			continue
		}
		for _, e := range s.Endpoints {
			if e.VersionID == AccountVersionID && e.PublicURL != "" {
				return e.PublicURL, nil
			}
		}
	}
	if e, err := FindEndpoint(cat, "account", AccountVersionID); err == nil && e.PublicURL != "" {
		return e.PublicURL, nil
	}
	return "", &synnefo.ClientError{Message: "no account endpoint", Err: ErrNoAccount}
}

func (c *Client) accountClient(ctx context.Context) (*synnefo.Client, error) {
	c.mu.Lock()
	a := c.account
	c.mu.Unlock()
	if a != nil {
		return a, nil
	}
	u, err := c.AccountURL(ctx)
	if err != nil {
		return nil, err
	}
	a, err = c.http.WithEndpoint(u)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.account = a
	c.mu.Unlock()
	return a, nil
}

// UserCatalogs is the reply of POST {account}/user_catalogs.
type UserCatalogs struct {
	UUIDCatalog        map[string]string `json:"uuid_catalog"`        // uuid → display name
	DisplaynameCatalog map[string]string `json:"displayname_catalog"` // display name (as sent) → uuid
}

// UserCatalogs posts {"uuids": …, "displaynames": …} to {account}/user_catalogs (uncached). Unknown entries
// are simply absent from the reply.
func (c *Client) UserCatalogs(ctx context.Context, uuids, names []string) (UserCatalogs, error) {
	acct, err := c.accountClient(ctx)
	if err != nil {
		return UserCatalogs{}, err
	}
	body := map[string][]string{"uuids": nonNil(uuids), "displaynames": nonNil(names)}
	var out UserCatalogs
	_, err = acct.DoJSON(ctx, &synnefo.Request{Method: http.MethodPost, Path: "/user_catalogs",
		Idempotent: true, Success: []int{http.StatusOK}}, body, &out)
	if err != nil {
		return UserCatalogs{}, err
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UUIDsToNames maps user UUIDs to display names (kamaki uuids2usernames). Results are cached per client;
// only uncached UUIDs are sent. Unknown UUIDs are absent from the map.
func (c *Client) UUIDsToNames(ctx context.Context, uuids []string) (map[string]string, error) {
	out := make(map[string]string, len(uuids))
	var missing []string
	c.mu.Lock()
	for _, u := range uuids {
		if n, ok := c.names[u]; ok {
			out[u] = n
		} else {
			missing = append(missing, u)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	cat, err := c.UserCatalogs(ctx, missing, nil)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for u, n := range cat.UUIDCatalog {
		c.names[u] = n
		c.uuids[strings.ToLower(n)] = u
	}
	c.mu.Unlock()
	for _, u := range missing {
		if n, ok := cat.UUIDCatalog[u]; ok {
			out[u] = n
		}
	}
	return out, nil
}

// NamesToUUIDs maps display names (matched case-insensitively by the server) to UUIDs (kamaki
// usernames2uuids); the keys echo the caller's spelling. Cached per client; unknown names are absent.
func (c *Client) NamesToUUIDs(ctx context.Context, names []string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var missing []string
	c.mu.Lock()
	for _, n := range names {
		if u, ok := c.uuids[strings.ToLower(n)]; ok {
			out[n] = u
		} else {
			missing = append(missing, n)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	cat, err := c.UserCatalogs(ctx, nil, missing)
	if err != nil {
		return nil, err
	}
	lower := make(map[string]string, len(cat.DisplaynameCatalog))
	for n, u := range cat.DisplaynameCatalog {
		lower[strings.ToLower(n)] = u
	}
	c.mu.Lock()
	for _, n := range missing {
		if u, ok := lower[strings.ToLower(n)]; ok {
			out[n] = u
			c.uuids[strings.ToLower(n)] = u
		}
	}
	c.mu.Unlock()
	return out, nil
}

// Quota is one resource's quota in one project.
type Quota struct {
	Limit          int64 `json:"limit"`
	Usage          int64 `json:"usage"`
	Pending        int64 `json:"pending"`
	ProjectLimit   int64 `json:"project_limit"`
	ProjectUsage   int64 `json:"project_usage"`
	ProjectPending int64 `json:"project_pending"`
}

// Effective returns the limit that applies to the user: min(limit, project_limit - (project_usage - usage)).
func (q Quota) Effective() int64 {
	return min(q.Limit, q.ProjectLimit-(q.ProjectUsage-q.Usage))
}

// Quotas maps project uuid → resource name (e.g. "pithos.diskspace") → quota.
type Quotas map[string]map[string]Quota

// Quotas returns the user's quotas (GET {account}/quotas).
func (c *Client) Quotas(ctx context.Context) (Quotas, error) {
	acct, err := c.accountClient(ctx)
	if err != nil {
		return nil, err
	}
	var out Quotas
	if _, err := acct.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: "/quotas",
		Success: []int{http.StatusOK}}, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
