package cyclades

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestComputeExtraRequests(t *testing.T) {
	ctx := context.Background()
	pub := true
	srv, fake := newScripted(t, "/cyclades/compute/v2.0", []exchange{
		{"GET", "/flavors/detail", "SNF%3Aflavor-access=p-1&SNF%3Ais_public=true", "", 200, `{"flavors": [` + flavorDetail + `]}`},
		{"GET", "/os-keypairs", "", "", 200, `{"keypairs": [{"keypair": {"name": "laptop", "fingerprint": "aa:bb", "public_key": "ssh-rsa AAA"}}]}`},
		{"GET", "/os-keypairs/laptop", "", "", 200, `{"keypair": {"name": "laptop", "fingerprint": "aa:bb", "public_key": "ssh-rsa AAA", "id": 1, "created_at": "x", "updated_at": "x", "deleted": false, "deleted_at": null}}`},
		{"POST", "/os-keypairs", "", `{"keypair": {"name": "gen"}}`, 201, `{"keypair": {"name": "gen", "public_key": "ssh-rsa BBB", "private_key": "-----BEGIN"}}`},
		{"DELETE", "/os-keypairs/gen", "", "", 204, ""},
		{"GET", "/servers/42/os-volume_attachments", "", "", 200, `{"volumeAttachments": [{"id": 5, "volumeId": 5, "serverId": 42, "device": ""}]}`},
		{"POST", "/servers/42/os-volume_attachments", "", `{"volumeAttachment": {"volumeId": "6"}}`, 202, `{"volumeAttachment": {"id": 6, "volumeId": 6, "serverId": 42, "device": ""}}`},
		{"DELETE", "/servers/42/os-volume_attachments/6", "", "", 202, ""},
		{"PUT", "/servers/42/tags", "", `{"tags": ["a", "b"]}`, 200, `{"tags": ["a", "b"], "statuses": ["PENDADD", "PENDADD"]}`},
		{"GET", "/servers/42/tags", "", "", 200, `{"tags": ["a", "b"], "statuses": ["ACTIVE", "ACTIVE"]}`},
		{"PUT", "/servers/42/tags/c", "", "", 201, ""},
		{"DELETE", "/servers/42/tags/c", "", "", 204, ""},
		{"DELETE", "/servers/42/tags", "", "", 204, ""},
		{"GET", "/servers/42/stats", "", "", 200, `{"stats": {"serverRef": 42, "refresh": 60}}`},
		{"GET", "/servers/42/diagnostics", "", "", 200, `[{"level": "INFO", "message": "built"}]`},
		{"GET", "/servers/42/password", "", "", 200, `{"password": "Xy12abcdEF"}`},
		{"DELETE", "/servers/42/password", "", "", 204, ""},
	})
	c, err := NewCompute(srv.URL+"/cyclades/compute/v2.0", testToken, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	fl, err1 := c.ListFlavorsFiltered(ctx, FlavorFilter{Detail: true, IsPublic: &pub, ProjectID: "p-1"})
	ks, err2 := c.ListKeypairs(ctx)
	k, err3 := c.GetKeypair(ctx, "laptop")
	g, err4 := c.CreateKeypair(ctx, "gen", "")
	err5 := c.DeleteKeypair(ctx, "gen")
	va, err6 := c.ListVolumeAttachments(ctx, 42)
	a, err7 := c.AttachVolume(ctx, 42, "6")
	err8 := c.DetachVolume(ctx, 42, "6")
	rt, err9 := c.ReplaceServerTags(ctx, 42, []string{"a", "b"})
	lt, err10 := c.ListServerTags(ctx, 42)
	err11 := errors.Join(c.AddServerTag(ctx, 42, "c"), c.DeleteServerTag(ctx, 42, "c"), c.DeleteServerTags(ctx, 42))
	st, err12 := c.GetServerStats(ctx, 42)
	dg, err13 := c.GetServerDiagnostics(ctx, 42)
	pw, err14 := c.GetServerPassword(ctx, 42)
	err15 := c.DeleteServerPassword(ctx, 42)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12, err13, err14, err15); err != nil {
		t.Fatal(err)
	}
	got := []any{fl[0].ID, ks[0].PublicKey, k.ID, g.PrivateKey, va[0].VolumeID.String(), a.ID.String(), rt.Statuses[0], lt.Tags, st["refresh"], dg[0]["message"], pw}
	want := []any{int64(3), "ssh-rsa AAA", int64(1), "-----BEGIN", "5", "6", "PENDADD", []string{"a", "b"}, float64(60), "built", "Xy12abcdEF"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	fake.done()
}
