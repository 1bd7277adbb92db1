package image

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/synnefo"
)

// ServiceType is the catalogue type of the image service; DefaultVersion is kamaki's default version for
// it (the catalogue publishes the URL without it).
const (
	ServiceType    = "image"
	DefaultVersion = "1.0"
)

// Client is the client of the image service (kamaki's ImageClient).
type Client struct {
	http *synnefo.Client
}

// New returns an image client for the catalogue's image publicURL ("/v1.0" is appended when the URL has
// no version).
func New(endpointURL, token string, opts synnefo.Options) (*Client, error) {
	c, err := synnefo.NewClient(synnefo.VersionedEndpoint(endpointURL, DefaultVersion), token, opts)
	if err != nil {
		return nil, err
	}
	return &Client{http: c}, nil
}

// ServiceType returns ServiceType.
func (*Client) ServiceType() string { return ServiceType }

// HTTP returns the underlying core client.
func (c *Client) HTTP() *synnefo.Client { return c.http }

const (
	metaPrefix     = "X-Image-Meta-"
	propertyPrefix = "X-Image-Meta-Property-"
)

// Meta is an image's metadata as HEAD /images/{id} (and the register/update replies) report it in
// X-Image-Meta-* headers, decoded.
type Meta struct {
	ID              string
	Name            string
	Location        string // pithos://…, percent-encoded as the server renders it
	DiskFormat      string
	ContainerFormat string
	Size            int64
	Checksum        string
	CreatedAt       string // "YYYY-MM-DD HH:MM:SS" UTC; moves with every change (server quirk)
	UpdatedAt       string
	DeletedAt       string
	Status          string
	IsPublic        bool
	IsSnapshot      bool
	Owner           string
	Description     string
	// Properties maps lower-case property names (header suffix with '-' → '_') to decoded values.
	Properties map[string]string
	// Raw holds every non-property header by kamaki's key (lower-case suffix, dashes kept: "disk-format",
	// "is-public", …), decoded where kamaki decodes.
	Raw map[string]string
}

// ParseMeta reads the X-Image-Meta-* headers of h.
func ParseMeta(h http.Header) *Meta {
	m := &Meta{Properties: map[string]string{}, Raw: map[string]string{}}
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		lk := strings.ToLower(k)
		if p, ok := strings.CutPrefix(lk, strings.ToLower(propertyPrefix)); ok {
			m.Properties[strings.ReplaceAll(unquote(p), "-", "_")] = unquote(v)
			continue
		}
		key, ok := strings.CutPrefix(lk, strings.ToLower(metaPrefix))
		if !ok {
			continue
		}
		if key == "name" || key == "description" {
			v = unquote(v) // the location stays encoded: LocationOf decodes it segment-wise
		}
		m.Raw[key] = v
	}
	r := m.Raw
	m.ID, m.Name, m.Location = r["id"], r["name"], r["location"]
	m.DiskFormat, m.ContainerFormat, m.Checksum = r["disk-format"], r["container-format"], r["checksum"]
	m.CreatedAt, m.UpdatedAt, m.DeletedAt = r["created-at"], r["updated-at"], r["deleted-at"]
	m.Status, m.Owner, m.Description = r["status"], r["owner"], r["description"]
	m.Size, _ = strconv.ParseInt(r["size"], 10, 64)
	m.IsPublic = strings.EqualFold(r["is-public"], "true")
	m.IsSnapshot = strings.EqualFold(r["is-snapshot"], "true")
	return m
}

// LocationOf parses m.Location (see ParseLocation).
func (m *Meta) LocationOf() (Location, error) { return ParseLocation(m.Location, "") }

// RegisterOptions are the optional parameters of Register. Empty/false values are not sent (as kamaki
// sends only truthy params). There is deliberately no Size: the server answers any X-Image-Meta-Size with
// 400 (image-api.md §3.1).
type RegisterOptions struct {
	DiskFormat      string // diskdump (server default), extdump, ntfsdump
	ContainerFormat string // bare (server default), aki, ari, ami, ovf
	IsPublic        bool
	Checksum        string // must equal the object's Pithos hash
	Store           string // must be "pithos" when set
	Owner           string
	// Properties are sent as X-Image-Meta-Property-<key> with percent-encoded values; the server stores
	// keys lower-cased with punctuation mapped to '_'. On re-registration an empty value deletes a key.
	Properties map[string]string
}

// Register registers the Pithos object at location as an image named name (POST /images/ → 200, all
// information in headers) and returns the metadata the server answered with. Registering the same location
// again re-registers it: same image id, metadata merged, sharing reset (image-api.md §3.6).
func (c *Client) Register(ctx context.Context, name string, location Location, opts RegisterOptions) (*Meta, error) {
	h := http.Header{}
	h.Set(metaPrefix+"Name", quote(name))
	h.Set(metaPrefix+"Location", location.String())
	for k, v := range map[string]string{"Disk-Format": opts.DiskFormat, "Container-Format": opts.ContainerFormat,
		"Checksum": opts.Checksum, "Store": opts.Store, "Owner": opts.Owner} {
		if v != "" {
			h.Set(metaPrefix+k, v)
		}
	}
	if opts.IsPublic {
		h.Set(metaPrefix+"Is-Public", "True")
	}
	setProperties(h, opts.Properties)
	resp, err := c.http.Do(ctx, &synnefo.Request{Method: http.MethodPost, Path: "/images/", Header: h,
		Idempotent: true, Success: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return ParseMeta(resp.Header), nil
}

// setProperties adds one X-Image-Meta-Property-<key> header per property, key and value percent-encoded.
// The header name's case does not matter: the server lower-cases property names.
func setProperties(h http.Header, props map[string]string) {
	for k, v := range props {
		h[propertyPrefix+quote(k)] = []string{quote(v)}
	}
}

// GetMeta returns an image's metadata (HEAD /images/{id} → 200).
func (c *Client) GetMeta(ctx context.Context, id string) (*Meta, error) {
	resp, err := c.http.Do(ctx, &synnefo.Request{Method: http.MethodHead, Path: "/images/" + id, Success: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return ParseMeta(resp.Header), nil
}

// Image is one entry of an image list (detail form; the short form fills ID, Name, Status, DiskFormat,
// ContainerFormat, Size).
type Image struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Location        string            `json:"location,omitempty"`
	Owner           string            `json:"owner,omitempty"`
	DiskFormat      string            `json:"disk_format,omitempty"`
	ContainerFormat string            `json:"container_format,omitempty"`
	Size            int64             `json:"size"`
	Checksum        string            `json:"checksum,omitempty"`
	Status          string            `json:"status,omitempty"`
	IsPublic        bool              `json:"is_public,omitempty"`
	IsSnapshot      bool              `json:"is_snapshot,omitempty"`
	CreatedAt       string            `json:"created_at,omitempty"`
	UpdatedAt       string            `json:"updated_at,omitempty"`
	DeletedAt       string            `json:"deleted_at,omitempty"`
	Properties      map[string]string `json:"properties,omitempty"`
	Description     string            `json:"description,omitempty"`
}

// ListOptions selects the list form, the filters and the order of ListImages.
type ListOptions struct {
	Detail bool
	// Filters are passed through as query parameters (name, container_format, disk_format, status,
	// size_min, size_max); Synnefo accepts but does not apply them.
	Filters map[string]string
	// Order is a sort key (id, name, status, size, disk_format, container_format, created_at, updated_at),
	// "-" prefixed for descending. "" → server default key, ascending (kamaki always sends sort_dir).
	Order string
}

// ListImages lists the images visible to the caller (GET /images/ or /images/detail).
func (c *Client) ListImages(ctx context.Context, opts ListOptions) ([]Image, error) {
	q := url.Values{}
	for k, v := range opts.Filters {
		q.Set(k, v)
	}
	dir, key := "asc", opts.Order
	if k, ok := strings.CutPrefix(key, "-"); ok {
		dir, key = "desc", k
	}
	q.Set("sort_dir", dir)
	if key != "" {
		q.Set("sort_key", key)
	}
	path := "/images/"
	if opts.Detail {
		path = "/images/detail"
	}
	var out struct {
		Images []Image `json:"images"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: path, Query: q, Success: []int{http.StatusOK}}, nil, &out)
	return out.Images, err
}

// UpdateRequest lists the metadata to change; nil fields are not sent.
type UpdateRequest struct {
	Name            *string
	DiskFormat      *string
	ContainerFormat *string
	Status          *string
	IsPublic        *bool
	Owner           *string
	// Properties are merged; an empty value deletes the property.
	Properties map[string]string
}

// UpdateImage changes an image's metadata (PUT /images/{id}, headers only, Content-Length: 0 → 200) and
// returns the resulting metadata.
func (c *Client) UpdateImage(ctx context.Context, id string, u UpdateRequest) (*Meta, error) {
	h := http.Header{}
	if u.Name != nil {
		h.Set(metaPrefix+"Name", quote(*u.Name))
	}
	for k, v := range map[string]*string{"Disk-Format": u.DiskFormat, "Container-Format": u.ContainerFormat,
		"Status": u.Status, "Owner": u.Owner} {
		if v != nil {
			h.Set(metaPrefix+k, *v)
		}
	}
	if u.IsPublic != nil {
		v := "False"
		if *u.IsPublic {
			v = "True"
		}
		h.Set(metaPrefix+"Is-Public", v)
	}
	setProperties(h, u.Properties)
	resp, err := c.http.Do(ctx, &synnefo.Request{Method: http.MethodPut, Path: "/images/" + id, Header: h, Success: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return ParseMeta(resp.Header), nil
}

// Unregister unregisters an image; the Pithos object stays (DELETE /images/{id} → 204).
func (c *Client) Unregister(ctx context.Context, id string) error {
	resp, err := c.http.Do(ctx, &synnefo.Request{Method: http.MethodDelete, Path: "/images/" + id, Success: []int{http.StatusNoContent}})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Member is one member of an image.
type Member struct {
	MemberID string `json:"member_id"`
	CanShare bool   `json:"can_share"`
}

// ListMembers lists an image's members (GET /images/{id}/members); after registration this includes the
// owner.
func (c *Client) ListMembers(ctx context.Context, id string) ([]Member, error) {
	var out struct {
		Members []Member `json:"members"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: "/images/" + id + "/members",
		Success: []int{http.StatusOK}}, nil, &out)
	return out.Members, err
}

// AddMember shares an image with a user (PUT /images/{id}/members/{member}, no body → 204).
func (c *Client) AddMember(ctx context.Context, id, member string) error {
	return c.noContent(ctx, http.MethodPut, "/images/"+id+"/members/"+member, nil)
}

// RemoveMember stops sharing an image with a user (DELETE /images/{id}/members/{member} → 204).
func (c *Client) RemoveMember(ctx context.Context, id, member string) error {
	return c.noContent(ctx, http.MethodDelete, "/images/"+id+"/members/"+member, nil)
}

// SetMembers replaces an image's member list (PUT /images/{id}/members {"memberships": [{"member_id"}…]}
// → 204).
func (c *Client) SetMembers(ctx context.Context, id string, members []string) error {
	ms := make([]map[string]string, len(members))
	for i, m := range members {
		ms[i] = map[string]string{"member_id": m}
	}
	return c.noContent(ctx, http.MethodPut, "/images/"+id+"/members", map[string]any{"memberships": ms})
}

func (c *Client) noContent(ctx context.Context, method, path string, in any) error {
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: method, Path: path, Success: []int{http.StatusNoContent}}, in, nil)
	return err
}

// SharedImage is one entry of ListShared.
type SharedImage struct {
	ImageID  string `json:"image_id"`
	CanShare bool   `json:"can_share"`
}

// ListShared lists the non-public images owned by member that the caller can see (GET
// /shared-images/{member}).
func (c *Client) ListShared(ctx context.Context, member string) ([]SharedImage, error) {
	var out struct {
		SharedImages []SharedImage `json:"shared_images"`
	}
	_, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: "/shared-images/" + member,
		Success: []int{http.StatusOK}}, nil, &out)
	return out.SharedImages, err
}
