package control

import (
	"context"
	"fmt"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

// Identity is what FromCatalog needs of the identity service
// (*astakos.Client): who the user is, which services the cloud offers, and
// the token their clients use.
type Identity interface {
	UserInfo(ctx context.Context) (astakos.UserInfo, error)
	Catalog(ctx context.Context) ([]astakos.Service, error)
	Token() string
}

// FromCatalog fills a Config's clients from the user's service catalog: a
// service the cloud does not offer leaves its directory out. The caller
// sets the remaining fields (TTL, TempDir, AllowDeleteServers, AllowDeleteVolumes, Logger, …).
func FromCatalog(ctx context.Context, id Identity, opts synnefo.Options) (Config, error) {
	var cfg Config
	info, err := id.UserInfo(ctx)
	if err != nil {
		return cfg, fmt.Errorf("control: %w", err)
	}
	cfg.Account = info.UUID
	catalog, err := id.Catalog(ctx)
	if err != nil {
		return cfg, fmt.Errorf("control: %w", err)
	}
	url := func(typ string) string {
		ep, err := astakos.FindEndpoint(catalog, typ, "")
		if err != nil {
			return ""
		}
		return ep.PublicURL
	}
	tok := id.Token()
	if u := url(cyclades.ComputeServiceType); u != "" {
		if cfg.Compute, err = cyclades.NewCompute(u, tok, opts); err != nil {
			return cfg, err
		}
	}
	if u := url(cyclades.NetworkServiceType); u != "" {
		if cfg.Network, err = cyclades.NewNetwork(u, tok, opts); err != nil {
			return cfg, err
		}
	}
	if u := url(cyclades.VolumeServiceType); u != "" {
		if cfg.Volumes, err = cyclades.NewBlockStorage(u, tok, opts); err != nil {
			return cfg, err
		}
	}
	if u := url(image.ServiceType); u != "" {
		if cfg.Images, err = image.New(u, tok, opts); err != nil {
			return cfg, err
		}
	}
	if u := url(pithos.ServiceType); u != "" {
		pc, err := pithos.New(u, tok, opts)
		if err != nil {
			return cfg, err
		}
		cfg.Pithos = pc.WithAccount(info.UUID)
	}
	return cfg, nil
}
