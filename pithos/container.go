package pithos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// ContainerPolicy is a container's Pithos+ policy.
type ContainerPolicy struct {
	Quota      int64  // bytes, 0 = unlimited
	Versioning string // "auto" or "none"
	Project    string // project uuid charged for the space
}

func policyFromMap(m map[string]flexString) ContainerPolicy {
	q, _ := strconv.ParseInt(string(m["quota"]), 10, 64)
	return ContainerPolicy{Quota: q, Versioning: string(m["versioning"]), Project: string(m["project"])}
}

// Capabilities says what the store behind a container can do: Pithos+ reports its block size and hash
// on every container HEAD; plain Swift does not, and then no hashmap call is made.
type Capabilities struct {
	Hashmaps  bool
	BlockSize int64
	BlockHash string
}

// ContainerInfo is what HEAD /{account}/{container} reports.
type ContainerInfo struct {
	Name         string
	ObjectCount  int64
	BytesUsed    int64
	LastModified time.Time
	Capabilities
	ObjectMetaKeys []string // X-Container-Object-Meta
	Policy         ContainerPolicy
	Meta           map[string]string // X-Container-Meta-*
	Header         http.Header
}

// ContainerInfo returns the container's counters, block parameters, policy and metadata (HEAD → 204),
// and refreshes the cached block parameters.
func (c *Client) ContainerInfo(ctx context.Context, container string) (*ContainerInfo, error) {
	q := jsonQuery()
	c.setUntil(q)
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodHead, Path: c.containerPath(container), Query: q, CloseConn: true})
	if err != nil {
		return nil, err
	}
	h := resp.Header
	info := &ContainerInfo{
		Name:           container,
		ObjectCount:    headerInt(h, "X-Container-Object-Count"),
		BytesUsed:      headerInt(h, "X-Container-Bytes-Used"),
		LastModified:   headerTime(h, "Last-Modified"),
		ObjectMetaKeys: splitList(decodeHeader(h.Get("X-Container-Object-Meta"))),
		Policy: ContainerPolicy{
			Quota:      headerInt(h, "X-Container-Policy-Quota"),
			Versioning: decodeHeader(h.Get("X-Container-Policy-Versioning")),
			Project:    decodeHeader(h.Get("X-Container-Policy-Project")),
		},
		Meta:   readMeta(h, "X-Container-Meta-"),
		Header: h,
	}
	if bh := h.Get("X-Container-Block-Hash"); bh != "" {
		info.Capabilities = Capabilities{Hashmaps: true, BlockHash: bh, BlockSize: headerInt(h, "X-Container-Block-Size")}
		if info.BlockSize <= 0 {
			info.BlockSize = hashmap.DefaultBlockSize
		}
	}
	c.cache.put(c.containerPath(container), info.Capabilities)
	return info, nil
}

// Capabilities returns the container's block parameters, from the per-container cache when known.
func (c *Client) Capabilities(ctx context.Context, container string) (Capabilities, error) {
	if caps, ok := c.cache.get(c.containerPath(container)); ok {
		return caps, nil
	}
	info, err := c.ContainerInfo(ctx, container)
	if err != nil {
		return Capabilities{}, err
	}
	return info.Capabilities, nil
}

// CreateContainerOptions are the optional settings of a new container.
type CreateContainerOptions struct {
	Quota      int64  // bytes; 0 = server default
	Versioning string // "auto" or "none"; "" = server default
	Project    string
	Meta       map[string]string
	// Swift object versioning: the archive container of replaced and
	// deleted versions (X-History-Location), or of replaced ones only, a
	// delete restoring the previous (X-Versions-Location).
	HistoryLocation, VersionsLocation string
}

// CreateContainer creates a container (PUT → 201) or merges the given policy and metadata into an
// existing one (202). It reports whether the container was created.
func (c *Client) CreateContainer(ctx context.Context, container string, opts CreateContainerOptions) (bool, error) {
	h := http.Header{}
	if opts.Quota > 0 {
		h.Set("X-Container-Policy-Quota", strconv.FormatInt(opts.Quota, 10))
	}
	if opts.Versioning != "" {
		h.Set("X-Container-Policy-Versioning", opts.Versioning)
	}
	if opts.Project != "" {
		h.Set("X-Container-Policy-Project", opts.Project)
	}
	setMeta(h, "X-Container-Meta-", opts.Meta)
	if opts.HistoryLocation != "" {
		h.Set("X-History-Location", encodeHeader(opts.HistoryLocation))
	}
	if opts.VersionsLocation != "" {
		h.Set("X-Versions-Location", encodeHeader(opts.VersionsLocation))
	}
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodPut, Path: c.containerPath(container), Query: jsonQuery(),
		Header: h, Success: []int{http.StatusCreated, http.StatusAccepted, http.StatusNoContent}})
	if err != nil {
		return false, err
	}
	return resp.StatusCode == http.StatusCreated, nil
}

// DeleteContainerOptions select a non-plain container DELETE.
type DeleteContainerOptions struct {
	AllObjects bool  // ?delimiter=/ : delete every object, keep the container (Pithos+)
	Until      int64 // ?until=<unix>: purge history older than this instead
}

// DeleteContainer deletes an empty container (fault.ErrNotEmpty when it is not: the server's 409), or
// with options deletes its objects or purges its history.
func (c *Client) DeleteContainer(ctx context.Context, container string, opts DeleteContainerOptions) error {
	q := jsonQuery()
	if opts.AllObjects {
		q.Set("delimiter", "/")
	}
	if opts.Until > 0 {
		q.Set("until", strconv.FormatInt(opts.Until, 10))
	}
	_, err := c.do(ctx, &synnefo.Request{Method: http.MethodDelete, Path: c.containerPath(container), Query: q,
		Success: []int{http.StatusNoContent, http.StatusOK}})
	if err == nil && !opts.AllObjects && opts.Until == 0 {
		c.cache.drop(c.containerPath(container))
	}
	if errors.Is(err, fault.ErrConflict) && !opts.AllObjects && opts.Until == 0 {
		return fmt.Errorf("pithos: container %s: %w (%w)", container, fault.ErrNotEmpty, err)
	}
	return err
}

// SetContainerMeta merges meta into the container's metadata (an empty value deletes a key).
func (c *Client) SetContainerMeta(ctx context.Context, container string, meta map[string]string) error {
	h := http.Header{}
	setMeta(h, "X-Container-Meta-", meta)
	return c.postContainer(ctx, container, h)
}

// SetContainerQuota sets the container quota in bytes (0 = unlimited).
func (c *Client) SetContainerQuota(ctx context.Context, container string, quota int64) error {
	h := http.Header{}
	h.Set("X-Container-Policy-Quota", strconv.FormatInt(quota, 10))
	return c.postContainer(ctx, container, h)
}

// SetContainerVersioning sets the versioning policy: "auto" or "none".
func (c *Client) SetContainerVersioning(ctx context.Context, container, versioning string) error {
	h := http.Header{}
	h.Set("X-Container-Policy-Versioning", versioning)
	return c.postContainer(ctx, container, h)
}

func (c *Client) postContainer(ctx context.Context, container string, h http.Header) error {
	_, err := c.do(ctx, &synnefo.Request{Method: http.MethodPost, Path: c.containerPath(container),
		Query: jsonQuery("update"), Header: h, Success: []int{http.StatusAccepted, http.StatusNoContent}, Idempotent: true})
	return err
}
