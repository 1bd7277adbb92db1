package astakos_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

func TestProjectsAgainstLocalCloud(t *testing.T) {
	small := localcloudtest.Bob()
	small.Quota = 1000
	srv := localcloudtest.New(t, localcloudtest.Alice(), small)
	users := srv.Users
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	alice, _ := astakos.New(srv.IdentityURL(), "alice-token", opts)
	bob, _ := astakos.New(srv.IdentityURL(), "bob-token", opts)

	res, err := alice.Resources(ctx)
	if err != nil || res["pithos.diskspace"].Service != "pithos_object-store" || *res["pithos.diskspace"].Unit != "bytes" || res["cyclades.vm"].Unit != nil {
		t.Fatalf("Resources: %+v %v", res, err)
	}
	created, err := alice.CreateProject(ctx, astakos.Application{Name: "lab", EndDate: "2030-01-01T00:00:00Z", JoinPolicy: "moderated",
		Resources: map[string]astakos.Capacity{"pithos.diskspace": {Member: 100, Project: 200}}})
	if err != nil || created.ID == "" {
		t.Fatalf("CreateProject: %+v %v", created, err)
	}
	ps, err := alice.Projects(ctx, nil)
	if err != nil || len(ps) != 2 || !ps[0].System || ps[1].Name != "lab" || ps[1].Resources["pithos.diskspace"].Member != 100 {
		t.Fatalf("Projects: %+v %v", ps, err)
	}
	if _, err := bob.ModifyProject(ctx, created.ID, astakos.Application{Description: "mine"}); synnefo.StatusOf(err) != 403 {
		t.Errorf("bob modifies alice's project: %v", err)
	}
	if _, err := alice.ModifyProject(ctx, created.ID, astakos.Application{Description: "cells"}); err != nil {
		t.Fatal(err)
	}
	if p, err := alice.Project(ctx, created.ID); err != nil || p.Description != "cells" || p.Name != "lab" {
		t.Errorf("Project after modify: %+v %v", p, err)
	}
	mid, err := bob.JoinProject(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := alice.Memberships(ctx, created.ID)
	if err != nil || len(ms) != 1 || ms[0].State != "requested" || ms[0].User != users[1].UUID {
		t.Fatalf("Memberships: %+v %v", ms, err)
	}
	if err := alice.MembershipAction(ctx, mid, "accept", ""); err != nil {
		t.Fatal(err)
	}
	q, err := bob.Quotas(ctx)
	if err != nil || q[created.ID]["pithos.diskspace"].Limit != 100 || q[users[1].UUID]["pithos.diskspace"].Limit != 1000 {
		t.Fatalf("bob's quotas: %+v %v", q, err)
	}
	if err := bob.MembershipAction(ctx, mid, "leave", "done"); err != nil {
		t.Fatal(err)
	}
	if m, err := bob.Membership(ctx, mid); err != nil || m.State != "removed" {
		t.Errorf("Membership after leave: %+v %v", m, err)
	}
	if _, err := bob.Project(ctx, "no-such-project"); synnefo.StatusOf(err) != 404 {
		t.Errorf("unknown project: %v", err)
	}
}

// Create a project with storage for its members, join it and read the quota
// it gives.
func ExampleClient_CreateProject() {
	dir, _ := os.MkdirTemp("", "astakos-example-")
	defer os.RemoveAll(dir)
	users := []localcloud.User{
		{Name: "alice@example.org", UUID: "aaaaaaaa-0000-4000-8000-000000000001", Token: "alice-token"},
		{Name: "bob@example.org", UUID: "bbbbbbbb-0000-4000-8000-000000000002", Token: "bob-token"},
	}
	srv, err := localcloud.Start(localcloud.Config{Dir: dir, Users: users})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()
	alice, _ := astakos.New(srv.IdentityURL(), "alice-token", synnefo.Options{})
	bob, _ := astakos.New(srv.IdentityURL(), "bob-token", synnefo.Options{})

	p, err := alice.CreateProject(ctx, astakos.Application{Name: "lab", EndDate: "2030-01-01T00:00:00Z", JoinPolicy: "auto",
		Resources: map[string]astakos.Capacity{"pithos.diskspace": {Member: 10 << 30, Project: 100 << 30}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := bob.JoinProject(ctx, p.ID); err != nil {
		fmt.Println(err)
		return
	}
	q, err := bob.Quotas(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bob's storage in lab:", q[p.ID]["pithos.diskspace"].Limit>>30, "GiB")
	// Output: bob's storage in lab: 10 GiB
}
