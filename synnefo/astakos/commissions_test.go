package astakos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

func TestCommissionsAgainstLocalCloud(t *testing.T) {
	alice := localcloud.User{Name: "alice@example.org", UUID: "aaaaaaaa-0000-4000-8000-000000000001", Token: "alice-token", Quota: 1000}
	srv, err := localcloud.Start(localcloud.Config{Dir: t.TempDir(), Users: []localcloud.User{alice}, ComponentToken: "component-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	comp, _ := astakos.New(srv.IdentityURL(), "component-token", opts)
	user, _ := astakos.New(srv.IdentityURL(), "alice-token", opts)
	src := "project:" + alice.UUID
	storage := func(n int64) []astakos.Provision {
		return []astakos.Provision{{Holder: "user:" + alice.UUID, Source: &src, Resource: "pithos.diskspace", Quantity: n},
			{Holder: src, Resource: "pithos.diskspace", Quantity: n}}
	}
	s1, err := comp.IssueCommission(ctx, astakos.Commission{Name: "upload", Provisions: storage(600)})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := comp.PendingCommissions(ctx); err != nil || len(p) != 1 || p[0] != s1 {
		t.Errorf("PendingCommissions: %v %v", p, err)
	}
	if info, err := comp.CommissionInfo(ctx, s1); err != nil || info.Name != "upload" || len(info.Provisions) != 2 || info.Provisions[1].Source != nil {
		t.Errorf("CommissionInfo: %+v %v", info, err)
	}
	_, err = comp.IssueCommission(ctx, astakos.Commission{Provisions: storage(500)})
	var ce *astakos.CommissionError
	if !errors.As(err, &ce) || ce.Status != 413 || ce.Name != "NoCapacityError" || ce.Limit != 1000 || ce.Usage != 600 {
		t.Fatalf("over the limit: %#v", err)
	}
	if q, err := user.Quotas(ctx); err != nil || q[alice.UUID]["pithos.diskspace"].Pending != 600 {
		t.Errorf("pending quota: %+v %v", q, err)
	}
	if err := comp.CommissionAction(ctx, s1, true); err != nil {
		t.Fatal(err)
	}
	if err := comp.CommissionAction(ctx, s1, false); !errors.Is(err, astakos.ErrCommissionNotFound) {
		t.Errorf("second action: %v", err)
	}
	if _, err := comp.CommissionInfo(ctx, s1); !errors.Is(err, astakos.ErrCommissionNotFound) {
		t.Errorf("info of an accepted commission: %v", err)
	}
	s2, _ := comp.IssueCommission(ctx, astakos.Commission{Provisions: storage(-100)})
	res, err := comp.ResolveCommissions(ctx, []int64{s2}, []int64{77})
	if err != nil || len(res.Accepted) != 1 || res.Failed[77] != "serial 77 does not exist" {
		t.Errorf("ResolveCommissions: %+v %v", res, err)
	}
	if q, err := user.Quotas(ctx); err != nil || q[alice.UUID]["pithos.diskspace"].Usage != 500 {
		t.Errorf("usage: %+v %v", q, err)
	}
	if _, err := user.IssueCommission(ctx, astakos.Commission{Provisions: storage(1)}); synnefo.StatusOf(err) != 401 {
		t.Errorf("a user's token: %v", err)
	}
}

// A component reserves storage for a user with a pending commission, then
// accepts it once the data is in place.
func ExampleClient_IssueCommission() {
	dir, _ := os.MkdirTemp("", "astakos-example-")
	defer os.RemoveAll(dir)
	alice := localcloud.User{Name: "alice@example.org", UUID: "aaaaaaaa-0000-4000-8000-000000000001", Token: "alice-token", Quota: 1 << 30}
	srv, err := localcloud.Start(localcloud.Config{Dir: dir, Users: []localcloud.User{alice}, ComponentToken: "component-token"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()
	comp, _ := astakos.New(srv.IdentityURL(), "component-token", synnefo.Options{})

	project := "project:" + alice.UUID
	serial, err := comp.IssueCommission(ctx, astakos.Commission{Name: "backup", Provisions: []astakos.Provision{
		{Holder: "user:" + alice.UUID, Source: &project, Resource: "pithos.diskspace", Quantity: 256 << 20},
		{Holder: project, Resource: "pithos.diskspace", Quantity: 256 << 20},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	pending, _ := comp.PendingCommissions(ctx)
	fmt.Println("pending:", len(pending))
	if err := comp.CommissionAction(ctx, serial, true); err != nil {
		fmt.Println(err)
		return
	}
	_, err = comp.IssueCommission(ctx, astakos.Commission{Provisions: []astakos.Provision{
		{Holder: "user:" + alice.UUID, Source: &project, Resource: "pithos.diskspace", Quantity: 1 << 30},
	}})
	var refused *astakos.CommissionError
	if errors.As(err, &refused) {
		fmt.Println("refused:", refused.Name, "usage", refused.Usage>>20, "MiB of", refused.Limit>>20)
	}
	// Output:
	// pending: 1
	// refused: NoCapacityError usage 256 MiB of 1024
}
