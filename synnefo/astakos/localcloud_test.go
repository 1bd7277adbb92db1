package astakos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

func TestAgainstLocalCloud(t *testing.T) {
	srv := localcloudtest.New(t)
	users := srv.Users
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}

	c, err := astakos.New(srv.IdentityURL(), "alice-token", opts)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Authenticate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.User.ID != users[0].UUID || a.Token.ID != "alice-token" || a.Token.Tenant.ID == "" {
		t.Fatalf("access %+v", a)
	}
	info, err := c.UserInfo(ctx)
	if err != nil || info.UUID != users[0].UUID || info.DefaultProject != a.Token.Tenant.ID {
		t.Fatalf("user info %+v %v", info, err)
	}

	for _, tt := range []struct{ serviceType, want, versioned, def string }{
		{astakos.ServiceType, "/astakos/identity/v2.0", "/astakos/identity/v2.0", "2.0"},
		{"account", "/astakos/account/v1.0", "/astakos/account/v1.0", "1.0"},
		{"object-store", "/pithos/object-store/v1", "/pithos/object-store/v1", "1"},
		{"compute", "/cyclades/compute/v2.0", "/cyclades/compute/v2.0", "2.0"},
		{"network", "/cyclades/network", "/cyclades/network/v2.0", "2.0"},
		{"image", "/cyclades/image", "/cyclades/image/v1.0", "1.0"},
		{"volume", "/cyclades/volume", "/cyclades/volume/v2.0", "2.0"},
	} {
		got, err := c.EndpointURL(ctx, tt.serviceType)
		if err != nil || got != srv.URL+tt.want {
			t.Errorf("EndpointURL(%s) = %q, %v; want %q", tt.serviceType, got, err, srv.URL+tt.want)
			continue
		}
		sc, err := c.ServiceClient(ctx, tt.serviceType, tt.def)
		if err != nil || sc.Endpoint() != srv.URL+tt.versioned {
			t.Errorf("ServiceClient(%s) endpoint %v, %v", tt.serviceType, sc, err)
		}
	}
	if u, err := c.AccountURL(ctx); err != nil || u != srv.URL+"/astakos/account/v1.0" {
		t.Fatalf("account URL %q %v", u, err)
	}
	pub, err := c.PublicCatalog(ctx)
	if err != nil || len(pub) == 0 {
		t.Fatalf("public catalog %v %v", pub, err)
	}

	names, err := c.UUIDsToNames(ctx, []string{users[0].UUID, users[1].UUID, "nobody"})
	if err != nil || len(names) != 2 || names[users[1].UUID] != "bob@example.org" {
		t.Fatalf("names %v %v", names, err)
	}
	uuids, err := c.NamesToUUIDs(ctx, []string{"BOB@example.org", "carol@example.org"})
	if err != nil || len(uuids) != 1 || uuids["BOB@example.org"] != users[1].UUID {
		t.Fatalf("uuids %v %v", uuids, err)
	}
	q, err := c.Quotas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := q[users[0].UUID]["pithos.diskspace"]; !ok || d.Limit <= 0 {
		t.Fatalf("quotas %+v", q)
	}

	bad, err := astakos.New(srv.IdentityURL(), "not-a-token", opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Authenticate(ctx)
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) || ce.Status != 401 || ce.Fault == "" {
		t.Fatalf("bad token: %#v", err)
	}
	if _, err := bad.EndpointURL(ctx, "compute"); synnefo.StatusOf(err) != 401 {
		t.Fatalf("bad token endpoint lookup: %v", err)
	}
}
