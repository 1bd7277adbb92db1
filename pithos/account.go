package pithos

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

// AccountInfo is what HEAD /{account} reports. Counts and quota are visible to the owner only.
type AccountInfo struct {
	ContainerCount int64
	BytesUsed      int64
	Quota          int64 // X-Account-Policy-Quota; 0 = unknown/unlimited
	LastModified   time.Time
	Meta           map[string]string   // X-Account-Meta-*
	Groups         map[string][]string // X-Account-Group-*
	Header         http.Header
}

// AccountInfo returns the account's counters, quota, metadata and groups (HEAD → 204).
func (c *Client) AccountInfo(ctx context.Context) (*AccountInfo, error) {
	q := jsonQuery()
	c.setUntil(q)
	resp, err := c.do(ctx, &synnefo.Request{Method: http.MethodHead, Path: c.accountPath(), Query: q, CloseConn: true})
	if err != nil {
		return nil, err
	}
	h := resp.Header
	info := &AccountInfo{
		ContainerCount: headerInt(h, "X-Account-Container-Count"),
		BytesUsed:      headerInt(h, "X-Account-Bytes-Used"),
		Quota:          headerInt(h, "X-Account-Policy-Quota"),
		LastModified:   headerTime(h, "Last-Modified"),
		Meta:           readMeta(h, "X-Account-Meta-"),
		Groups:         map[string][]string{},
		Header:         h,
	}
	for k, v := range readMeta(h, "X-Account-Group-") {
		info.Groups[strings.ToLower(k)] = splitList(v)
	}
	return info, nil
}

func splitList(v string) []string {
	var out []string
	for _, m := range strings.Split(v, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// SetAccountMeta merges meta into the account's metadata (POST ?update → 202); an empty value deletes a key.
func (c *Client) SetAccountMeta(ctx context.Context, meta map[string]string) error {
	h := http.Header{}
	setMeta(h, "X-Account-Meta-", meta)
	_, err := c.do(ctx, &synnefo.Request{Method: http.MethodPost, Path: c.accountPath(), Query: jsonQuery("update"),
		Header: h, Success: []int{http.StatusAccepted, http.StatusNoContent}, Idempotent: true})
	return err
}

// DeleteAccountMeta removes one account metadata key.
func (c *Client) DeleteAccountMeta(ctx context.Context, key string) error {
	return c.SetAccountMeta(ctx, map[string]string{key: ""})
}

// SetAccountGroup sets (or with no members deletes) one sharing group of the account.
func (c *Client) SetAccountGroup(ctx context.Context, group string, members []string) error {
	h := http.Header{}
	h.Set("X-Account-Group-"+encodeHeader(group), encodeHeader(strings.Join(members, ",")))
	_, err := c.do(ctx, &synnefo.Request{Method: http.MethodPost, Path: c.accountPath(), Query: jsonQuery("update"),
		Header: h, Success: []int{http.StatusAccepted, http.StatusNoContent}, Idempotent: true})
	return err
}

// DeleteAccountGroup removes a sharing group.
func (c *Client) DeleteAccountGroup(ctx context.Context, group string) error {
	return c.SetAccountGroup(ctx, group, nil)
}

// ContainerEntry is one container of an account listing.
type ContainerEntry struct {
	Name         string
	Count        int64
	Bytes        int64
	LastModified time.Time
	Policy       ContainerPolicy
}

type containerJSON struct {
	Name         string                `json:"name"`
	Count        flexInt               `json:"count"`
	Bytes        flexInt               `json:"bytes"`
	LastModified string                `json:"last_modified"`
	Policy       map[string]flexString `json:"x_container_policy"`
}

// ListContainers lists every container of the account, following markers across pages.
func (c *Client) ListContainers(ctx context.Context) ([]ContainerEntry, error) {
	var out []ContainerEntry
	marker := ""
	for {
		q := jsonQuery()
		c.setUntil(q)
		q.Set("limit", strconv.Itoa(c.cfg.PageSize))
		if marker != "" {
			q.Set("marker", marker)
		}
		var page []containerJSON
		if _, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: c.accountPath(), Query: q,
			Success: []int{http.StatusOK, http.StatusNoContent}}, nil, &page); err != nil {
			return nil, err
		}
		for _, e := range page {
			out = append(out, ContainerEntry{Name: e.Name, Count: int64(e.Count), Bytes: int64(e.Bytes),
				LastModified: parseListingTime(e.LastModified), Policy: policyFromMap(e.Policy)})
		}
		if len(page) < c.cfg.PageSize || page[len(page)-1].Name <= marker {
			return out, nil
		}
		marker = page[len(page)-1].Name
	}
}

// SharingAccount is an account that shares objects with the user.
type SharingAccount struct {
	Name         string
	LastModified time.Time
}

// ListSharingAccounts lists the accounts sharing something with the user (GET of the service root).
func (c *Client) ListSharingAccounts(ctx context.Context) ([]SharingAccount, error) {
	if c.asOf != nil {
		return nil, nil // until is for the owner only
	}
	var out []SharingAccount
	seen := map[string]bool{}
	marker := ""
	for {
		q := url.Values{"format": {"json"}, "limit": {strconv.Itoa(c.cfg.PageSize)}}
		if marker != "" {
			q.Set("marker", marker)
		}
		var page []struct {
			Name         string `json:"name"`
			LastModified string `json:"last_modified"`
		}
		// The top level needs its trailing slash (§1).
		if _, err := c.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: "/", Query: q,
			Success: []int{http.StatusOK, http.StatusNoContent}}, nil, &page); err != nil {
			return nil, err
		}
		for _, e := range page {
			if !seen[e.Name] {
				seen[e.Name] = true
				out = append(out, SharingAccount{Name: e.Name, LastModified: parseListingTime(e.LastModified)})
			}
		}
		if len(page) < c.cfg.PageSize || page[len(page)-1].Name <= marker {
			sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			return out, nil
		}
		marker = page[len(page)-1].Name
	}
}
