package astakos_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// TestLocalCloudCatalogAndCaches covers the methods TestAgainstLocalCloud leaves out: the cached access
// document, the catalogue and its lookups (client methods and the package functions), the token and the
// HTTP core, user catalogs in both directions, the effective quota, and lookups that must fail.
func TestLocalCloudCatalogAndCaches(t *testing.T) {
	alice := localcloudtest.Alice()
	alice.Quota = 1 << 30
	srv := localcloudtest.New(t, alice, localcloudtest.Bob())
	users := srv.Users
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := astakos.New(srv.URL+"/astakos/identity", users[0].Token, synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if c.Token() != users[0].Token || c.HTTP().Endpoint() != srv.IdentityURL() {
		t.Fatalf("token %q, endpoint %q (want %q: /v2.0 appended)", c.Token(), c.HTTP().Endpoint(), srv.IdentityURL())
	}

	// Access authenticates once and then serves the cache; Authenticate refreshes it.
	a1, err := c.Access(ctx)
	if err != nil || a1.User.ID != users[0].UUID || a1.User.Name != users[0].Name || len(a1.ServiceCatalog) == 0 {
		t.Fatalf("access %+v %v", a1, err)
	}
	if a2, err := c.Access(ctx); err != nil || a2 != a1 {
		t.Fatalf("second Access was not the cached document: %p %p %v", a1, a2, err)
	}
	if a3, err := c.Authenticate(ctx); err != nil || a3 == a1 || a3.User.ID != a1.User.ID {
		t.Fatalf("re-authenticate %p %v", a3, err)
	}

	cat, err := c.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		serviceType, version, wantSuffix string
		wantErr                          error
	}{
		{"identity", "", "/astakos/identity/v2.0", nil},
		{"IDENTITY", "v2.0", "/astakos/identity/v2.0", nil}, // type and version match case-insensitively
		{"account", "v1.0", "/astakos/account/v1.0", nil},
		{"object-store", "", "/pithos/object-store/v1", nil},
		{"compute", "v2.0", "/cyclades/compute/v2.0", nil},
		{"image", "", "/cyclades/image", nil},
		{"compute", "v9", "", astakos.ErrEndpoints},
		{"orchestration", "", "", astakos.ErrNoService},
	} {
		e, err := c.Endpoint(ctx, tt.serviceType, tt.version)
		fe, ferr := astakos.FindEndpoint(cat, tt.serviceType, tt.version)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !errors.Is(ferr, tt.wantErr) {
				t.Errorf("Endpoint(%s, %s): %v / %v, want %v", tt.serviceType, tt.version, err, ferr, tt.wantErr)
			}
			continue
		}
		if err != nil || ferr != nil || e.PublicURL != srv.URL+tt.wantSuffix || fe != e {
			t.Errorf("Endpoint(%s, %s) = %+v %v / %+v %v", tt.serviceType, tt.version, e, err, fe, ferr)
		}
		s, err := c.Service(ctx, tt.serviceType)
		fs, ferr := astakos.FindService(cat, tt.serviceType)
		if err != nil || ferr != nil || !strings.EqualFold(s.Type, tt.serviceType) || s.Name != fs.Name || len(s.Endpoints) == 0 {
			t.Errorf("Service(%s) = %+v %v / %v", tt.serviceType, s, err, ferr)
		}
	}
	if _, err := c.EndpointURL(ctx, "orchestration"); !errors.Is(err, astakos.ErrNoService) {
		t.Fatalf("EndpointURL of an unknown type: %v", err)
	}
	if _, err := c.ServiceClient(ctx, "orchestration", "1"); !errors.Is(err, astakos.ErrNoService) {
		t.Fatalf("ServiceClient of an unknown type: %v", err)
	}

	// User catalogs in both directions at once; unknown entries are absent.
	uc, err := c.UserCatalogs(ctx, []string{users[1].UUID, "cccccccc-0000-4000-8000-000000000003"}, []string{"ALICE@example.org", "nobody@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(uc.UUIDCatalog) != 1 || uc.UUIDCatalog[users[1].UUID] != users[1].Name ||
		len(uc.DisplaynameCatalog) != 1 || uc.DisplaynameCatalog["ALICE@example.org"] != users[0].UUID {
		t.Fatalf("user catalogs %+v", uc)
	}
	if _, err := c.UserCatalogs(ctx, nil, nil); err != nil {
		t.Fatalf("empty user catalogs: %v", err)
	}

	// Quotas: alice's disk quota is the one configured, with nothing used yet.
	q, err := c.Quotas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := q[users[0].UUID]["pithos.diskspace"]
	if !ok || d.Limit != 1<<30 || d.Usage != 0 || d.Effective() != 1<<30 {
		t.Fatalf("disk quota %+v (effective %d)", d, d.Effective())
	}

	// A refused token fails every cached-catalogue method with 401.
	bad, err := astakos.New(srv.IdentityURL(), "bad-token", synnefo.Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Access":       func() error { _, err := bad.Access(ctx); return err },
		"Catalog":      func() error { _, err := bad.Catalog(ctx); return err },
		"Service":      func() error { _, err := bad.Service(ctx, "compute"); return err },
		"Endpoint":     func() error { _, err := bad.Endpoint(ctx, "compute", ""); return err },
		"UserInfo":     func() error { _, err := bad.UserInfo(ctx); return err },
		"AccountURL":   func() error { _, err := bad.AccountURL(ctx); return err },
		"UserCatalogs": func() error { _, err := bad.UserCatalogs(ctx, []string{users[0].UUID}, nil); return err },
		"Quotas":       func() error { _, err := bad.Quotas(ctx); return err },
	} {
		if st := synnefo.StatusOf(call()); st != 401 {
			t.Errorf("%s with a bad token: status %d, want 401", name, st)
		}
	}
	// The public catalogue needs no token.
	if pub, err := bad.PublicCatalog(ctx); err != nil || len(pub) == 0 {
		t.Fatalf("public catalog with a bad token: %v %v", pub, err)
	}
}
