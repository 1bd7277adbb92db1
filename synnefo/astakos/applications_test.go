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

func TestApplicationsAgainstLocalCloud(t *testing.T) {
	adminUser := localcloudtest.User{Name: "admin@example.org", UUID: "cccccccc-0000-4000-8000-000000000003", Token: "admin-token", ProjectAdmin: true}
	srv := localcloudtest.New(t, localcloudtest.Alice(), localcloudtest.Bob(), adminUser)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := synnefo.Options{RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	alice, _ := astakos.New(srv.IdentityURL(), "alice-token", opts)
	bob, _ := astakos.New(srv.IdentityURL(), "bob-token", opts)
	admin, _ := astakos.New(srv.IdentityURL(), "admin-token", opts)

	created, err := alice.CreateProject(ctx, astakos.Application{Name: "lab", EndDate: "2030-01-01T00:00:00Z", JoinPolicy: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := admin.Applications(ctx, created.ID)
	if err != nil || len(apps) != 1 || apps[0].State != "pending" || apps[0].ID != created.Application || *apps[0].Name != "lab" {
		t.Fatalf("Applications: %+v %v", apps, err)
	}
	if err := alice.ApplicationAction(ctx, created.ID, created.Application, "approve", ""); synnefo.StatusOf(err) != 403 {
		t.Errorf("applicant approves: %v", err)
	}
	if err := admin.ApplicationAction(ctx, created.ID, created.Application, "approve", "ok"); err != nil {
		t.Fatal(err)
	}
	if a, err := alice.Application(ctx, created.Application); err != nil || a.State != "approved" || a.Project != created.ID {
		t.Errorf("Application: %+v %v", a, err)
	}
	mod, err := alice.ModifyProject(ctx, created.ID, astakos.Application{Description: "cells"})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.ApplicationAction(ctx, created.ID, mod.Application, "deny", "no"); err != nil {
		t.Fatal(err)
	}
	if err := alice.ApplicationAction(ctx, created.ID, mod.Application, "dismiss", ""); err != nil {
		t.Fatal(err)
	}
	if p, err := alice.Project(ctx, created.ID); err != nil || p.State != "active" || p.Description != "" ||
		p.LastApplication == nil || p.LastApplication.ID != mod.Application || p.LastApplication.State != "dismissed" || *p.LastApplication.Description != "cells" {
		t.Errorf("Project after a denied modification: %+v %v", p, err)
	}
	if _, err := bob.JoinProject(ctx, created.ID); synnefo.StatusOf(err) != 409 {
		t.Errorf("join a closed project: %v", err)
	}
	mid, err := alice.Enroll(ctx, created.ID, "bob@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := bob.Membership(ctx, mid); err != nil || m.State != "accepted" {
		t.Errorf("enrolled: %+v %v", m, err)
	}
	if err := admin.ProjectAction(ctx, created.ID, "suspend", "audit"); err != nil {
		t.Fatal(err)
	}
	if p, err := bob.Project(ctx, created.ID); err != nil || p.State != "suspended" {
		t.Errorf("after suspend: %+v %v", p, err)
	}
}

// On a cloud with a project administrator, a project waits for approval;
// its owner then enrolls a member.
func ExampleClient_ApplicationAction() {
	dir, _ := os.MkdirTemp("", "astakos-example-")
	defer os.RemoveAll(dir)
	users := []localcloud.User{
		{Name: "alice@example.org", UUID: "aaaaaaaa-0000-4000-8000-000000000001", Token: "alice-token"},
		{Name: "bob@example.org", UUID: "bbbbbbbb-0000-4000-8000-000000000002", Token: "bob-token"},
		{Name: "admin@example.org", UUID: "cccccccc-0000-4000-8000-000000000003", Token: "admin-token", ProjectAdmin: true},
	}
	srv, err := localcloud.Start(localcloud.Config{Dir: dir, Users: users})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()
	alice, _ := astakos.New(srv.IdentityURL(), "alice-token", synnefo.Options{})
	admin, _ := astakos.New(srv.IdentityURL(), "admin-token", synnefo.Options{})

	app, err := alice.CreateProject(ctx, astakos.Application{Name: "lab", EndDate: "2030-01-01T00:00:00Z"})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := alice.Project(ctx, app.ID)
	fmt.Println("submitted:", p.State)
	if err := admin.ApplicationAction(ctx, app.ID, app.Application, "approve", "looks good"); err != nil {
		fmt.Println(err)
		return
	}
	p, _ = alice.Project(ctx, app.ID)
	fmt.Println("approved:", p.State)
	if _, err := alice.Enroll(ctx, app.ID, "bob@example.org"); err != nil {
		fmt.Println(err)
		return
	}
	ms, _ := alice.Memberships(ctx, app.ID)
	fmt.Println("bob's membership:", ms[0].State)
	// Output:
	// submitted: uninitialized
	// approved: active
	// bob's membership: accepted
}
