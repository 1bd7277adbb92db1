package cyclades

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pithosfs/pithosfs/synnefo"
)

// Link is one entry of a resource's "links".
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// service wraps the core client of one Cyclades endpoint.
type service struct {
	http *synnefo.Client
}

func newService(endpointURL, token, defaultVersion string, opts synnefo.Options) (service, error) {
	c, err := synnefo.NewClient(synnefo.VersionedEndpoint(endpointURL, defaultVersion), token, opts)
	if err != nil {
		return service{}, err
	}
	return service{http: c}, nil
}

// get decodes GET path?query (200) into out.
func (s service) get(ctx context.Context, path string, query url.Values, out any) error {
	_, err := s.http.DoJSON(ctx, &synnefo.Request{Method: http.MethodGet, Path: path, Query: query,
		Success: []int{http.StatusOK}}, nil, out)
	return err
}

// send issues method path with in as the JSON body (nil → none) and decodes the reply into out (nil →
// discarded); success lists the accepted statuses.
func (s service) send(ctx context.Context, method, path string, in, out any, success ...int) (*http.Response, error) {
	return s.http.DoJSON(ctx, &synnefo.Request{Method: method, Path: path, Success: success}, in, out)
}

// detailPath returns base or base+"/detail".
func detailPath(base string, detail bool) string {
	if detail {
		return base + "/detail"
	}
	return base
}

// empty is the JSON object {} (actions like {"start": {}}).
var empty = struct{}{}
