package cyclades_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
)

// TestLocalCloudTagsAndAttachments drives the tag calls and volume attach/detach (cyclades-api.md §3 tags,
// os-volume_attachments) against the local cloud.
func TestLocalCloudTagsAndAttachments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc := startCloud(t, ctx)
	c, bs := cc.compute, cc.storage
	wait := &cyclades.WaitOptions{Interval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	s := activeServer(t, ctx, cc, wait)

	// Tags.
	tags := func() []string {
		t.Helper()
		st, err := c.ListServerTags(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(slices.Values(st.Tags))
	}
	if err := c.AddServerTag(ctx, s.ID, "db"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddServerTag(ctx, s.ID, "db"); err != nil { // 204: it existed
		t.Fatalf("adding an existing tag: %v", err)
	}
	if got := tags(); !slices.Equal(got, []string{"db", "web"}) {
		t.Fatalf("tags %v", got)
	}
	rep, err := c.ReplaceServerTags(ctx, s.ID, []string{"a", "b"})
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(rep.Tags)), []string{"a", "b"}) || len(rep.Statuses) != 2 {
		t.Fatalf("replaced %+v %v", rep, err)
	}
	if err := c.DeleteServerTag(ctx, s.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if got := tags(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("tags after delete %v", got)
	}
	if err := c.DeleteServerTag(ctx, s.ID, "a"); synnefo.StatusOf(err) != 404 {
		t.Fatalf("deleting a missing tag: %v", err)
	}
	if err := c.DeleteServerTags(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if got := tags(); len(got) != 0 {
		t.Fatalf("tags after delete all %v", got)
	}
	if err := c.DeleteServerTags(ctx, s.ID); synnefo.StatusOf(err) != 404 {
		t.Fatalf("deleting all of no tags: %v", err)
	}

	vol, err := bs.CreateVolume(ctx, cyclades.CreateVolumeRequest{Size: 2, DisplayName: "spare", VolumeType: 2})
	if err != nil {
		t.Fatal(err)
	}
	if vol, err = bs.WaitVolume(ctx, vol.ID, "creating", wait); err != nil || vol.Status != "available" {
		t.Fatalf("new volume %+v %v", vol, err)
	}
	att, err := c.AttachVolume(ctx, s.ID, vol.ID)
	if err != nil || att.VolumeID.String() != vol.ID || att.ServerID.String() != strconv.FormatInt(s.ID, 10) {
		t.Fatalf("attach %+v %v", att, err)
	}
	if vol, err = bs.WaitVolumeUntil(ctx, vol.ID, "in_use", wait); err != nil || len(vol.Attachments) != 1 || vol.Attachments[0].ServerID != s.ID {
		t.Fatalf("attached volume %+v %v", vol, err)
	}
	if as, err := c.ListVolumeAttachments(ctx, s.ID); err != nil || len(as) != 2 {
		t.Fatalf("attachments %+v %v", as, err)
	}
	if err := c.DetachVolume(ctx, s.ID, vol.ID); err != nil {
		t.Fatal(err)
	}
	if vol, err = bs.WaitVolumeUntil(ctx, vol.ID, "available", wait); err != nil || len(vol.Attachments) != 0 {
		t.Fatalf("detached volume %+v %v", vol, err)
	}
	// The root volume cannot be detached: refused with a 4xx about the call, not a routing error.
	if err := c.DetachVolume(ctx, s.ID, strconv.FormatInt(s.Volumes[0], 10)); synnefo.StatusOf(err)/100 != 4 ||
		strings.Contains(err.Error(), "API endpoint not found") {
		t.Fatalf("detaching the root volume: %v", err)
	}
	if _, err := c.AttachVolume(ctx, s.ID, "999999"); synnefo.StatusOf(err) != 404 {
		t.Fatalf("attaching an unknown volume: %v", err)
	}
}
