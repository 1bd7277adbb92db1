package cyclades

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

const volumeDetail = `{"id": "5", "display_name": "root", "links": [], "status": "in_use", "size": 20, "display_description": "",
  "created_at": "2014-02-12T08:31:37+00:00", "metadata": {}, "snapshot_id": null, "source_volid": null,
  "image_id": "b7b2c0de-0000-4000-8000-000000000001", "attachments": [{"server_id": 42, "volume_id": 5, "device_index": 0}],
  "volume_type": 1, "deleted": false, "delete_on_termination": true, "user_id": "u-1", "tenant_id": "u-1", "shared_to_project": false}`

const snapshotDetail = `{"id": "9f5d1c9e-0000-4000-8000-000000000009", "size": 20, "display_name": "Srv 42 BackUp",
  "display_description": "", "status": "CREATING", "user_id": "u-1", "tenant_id": "u-1",
  "os-extended-snapshot-attribute:progress": 0, "created_at": "2014-02-12T08:31:37+00:00", "metadata": {}, "volume_id": "5", "links": []}`

func TestBlockStorageRequests(t *testing.T) {
	ctx := context.Background()
	name, desc, dot := "renamed", "d", false
	tests := []struct {
		name   string
		script []exchange
		call   func(*BlockStorageClient) (any, error)
		want   any
	}{
		{"volumes", []exchange{
			{"GET", "/volumes", "", "", 200, `{"volumes": [{"id": "5", "display_name": "root", "links": []}]}`},
			{"GET", "/volumes/detail", "", "", 200, `{"volumes": [` + volumeDetail + `]}`},
			{"GET", "/volumes/5", "", "", 200, `{"volume": ` + volumeDetail + `}`},
			{"POST", "/volumes", "", `{"volume": {"size": 2, "display_name": "data", "server_id": "42", "metadata": {"k": "v"}, "project": "p-1"}}`, 202,
				`{"volume": {"id": "6", "display_name": "data", "links": []}}`},
			{"PUT", "/volumes/6", "", `{"volume": {"display_name": "renamed", "delete_on_termination": false}}`, 200, `{"volume": ` + volumeDetail + `}`},
			{"POST", "/volumes/6/action", "", `{"reassign": {"project": "p-2"}}`, 200, ""},
			{"DELETE", "/volumes/6", "", "", 202, ""}},
			func(c *BlockStorageClient) (any, error) {
				l, err1 := c.ListVolumes(ctx, false)
				d, err2 := c.ListVolumes(ctx, true)
				g, err3 := c.GetVolume(ctx, "5")
				n, err4 := c.CreateVolume(ctx, CreateVolumeRequest{Size: 2, DisplayName: "data", ServerID: 42, Metadata: map[string]string{"k": "v"}, Project: "p-1"})
				_, err5 := c.UpdateVolume(ctx, "6", VolumeUpdate{DisplayName: &name, DeleteOnTermination: &dot})
				err6 := c.ReassignVolume(ctx, "6", "p-2")
				err7 := c.DeleteVolume(ctx, "6")
				if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
					return nil, err
				}
				return []any{l[0].DisplayName, d[0].Status, g.Attachments[0].ServerID, g.SnapshotID == nil, n.ID}, nil
			}, []any{"root", "in_use", int64(42), true, "6"}},
		{"snapshots", []exchange{
			{"POST", "/snapshots", "", `{"snapshot": {"volume_id": "5", "display_name": "Srv 42 BackUp"}}`, 202, `{"snapshot": ` + snapshotDetail + `}`},
			{"POST", "/snapshots", "", `{"snapshot": {"volume_id": "5"}}`, 202, `{"snapshot": ` + snapshotDetail + `}`},
			{"GET", "/snapshots/detail", "", "", 200, `{"snapshots": [` + snapshotDetail + `]}`},
			{"GET", "/snapshots/9f5d1c9e-0000-4000-8000-000000000009", "", "", 200, `{"snapshot": ` + snapshotDetail + `}`},
			{"PUT", "/snapshots/9f5d1c9e-0000-4000-8000-000000000009", "", `{"snapshot": {"display_description": "d"}}`, 200, `{"snapshot": ` + snapshotDetail + `}`},
			{"DELETE", "/snapshots/9f5d1c9e-0000-4000-8000-000000000009", "", "", 202, ""}},
			func(c *BlockStorageClient) (any, error) {
				s, err1 := c.CreateSnapshot(ctx, "5", "Srv 42 BackUp", "")
				_, err2 := c.CreateSnapshot(ctx, "5", "", "")
				l, err3 := c.ListSnapshots(ctx, true)
				_, err4 := c.GetSnapshot(ctx, s.ID)
				_, err5 := c.UpdateSnapshot(ctx, s.ID, nil, &desc)
				err6 := c.DeleteSnapshot(ctx, s.ID)
				if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
					return nil, err
				}
				return []any{s.Status, s.VolumeID, l[0].Size, string(l[0].Progress)}, nil
			}, []any{"CREATING", "5", int64(20), "0"}},
		{"types", []exchange{
			{"GET", "/types", "", "", 200, `{"volume_types": [{"id": 1, "name": "drbd", "deleted": false, "SNF:disk_template": "drbd", "SNF:detachable": false}]}`},
			{"GET", "/types/1", "", "", 200, `{"volume_type": {"id": 1, "name": "drbd", "deleted": false, "SNF:disk_template": "drbd", "SNF:detachable": false}}`}},
			func(c *BlockStorageClient) (any, error) {
				l, err1 := c.ListVolumeTypes(ctx)
				g, err2 := c.GetVolumeType(ctx, 1)
				if err := errors.Join(err1, err2); err != nil {
					return nil, err
				}
				return []any{l[0].DiskTemplate, g.Name}, nil
			}, []any{"drbd", "drbd"}},
		{"wait volume", []exchange{
			{"GET", "/volumes/6", "", "", 200, `{"volume": {"id": "6", "display_name": "d", "status": "creating"}}`},
			{"GET", "/volumes/6", "", "", 200, `{"volume": {"id": "6", "display_name": "d", "status": "in_use"}}`}},
			func(c *BlockStorageClient) (any, error) {
				v, err := c.WaitVolume(ctx, "6", "", &WaitOptions{Interval: time.Millisecond})
				if err != nil {
					return nil, err
				}
				return v.Status, nil
			}, "in_use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, fake := newScripted(t, "/cyclades/volume/v2.0", tt.script)
			c, err := NewBlockStorage(srv.URL+"/cyclades/volume/", testToken, testOpts())
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
			fake.done()
		})
	}
}
