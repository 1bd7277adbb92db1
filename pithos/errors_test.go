package pithos

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Every call's error is a domain error: the server's status decides which,
// and the *synnefo.ClientError with its reason stays reachable for logs.
func TestDomainErrors(t *testing.T) {
	ctx := context.Background()
	hm := &Hashmap{BlockSize: 4, Bytes: 1, Hashes: []string{hashmap.EmptyHash}}
	calls := map[string]func(c *Client) error{
		"ObjectInfo": func(c *Client) error { _, err := c.ObjectInfo(ctx, "c", "o", GetOptions{}); return err },
		"GetHashmap": func(c *Client) error { _, _, err := c.GetHashmap(ctx, "c", "o", GetOptions{}); return err },
		"ReadRange":  func(c *Client) error { _, err := c.ReadRange(ctx, "c", "o", 0, 4, 8, GetOptions{}); return err },
		"PutObject": func(c *Client) error {
			_, err := c.PutObject(ctx, "c", "o", strings.NewReader("x"), 1, PutOptions{})
			return err
		},
		"PutHashmap": func(c *Client) error { _, _, err := c.PutHashmap(ctx, "c", "o", hm, PutOptions{}); return err },
		"MoveObject": func(c *Client) error { _, err := c.MoveObject(ctx, "c", "a", "c", "b", CopyOptions{}); return err },
		"CopyObject": func(c *Client) error { _, err := c.CopyObject(ctx, "c", "a", "c", "b", CopyOptions{}); return err },
		"DeleteObject": func(c *Client) error {
			return c.DeleteObject(ctx, "c", "o", DeleteOptions{})
		},
		"ListObjects": func(c *Client) error { _, err := c.ListObjects(ctx, "c", ListOptions{}); return err },
		"UpdateObjectMeta": func(c *Client) error {
			_, err := c.UpdateObjectMeta(ctx, "c", "o", MetaOptions{Meta: map[string]string{"k": "v"}})
			return err
		},
		"AccountInfo": func(c *Client) error { _, err := c.AccountInfo(ctx); return err },
	}
	statuses := []struct {
		status int
		want   error
	}{
		{400, fault.ErrInvalid}, {401, fault.ErrUnauthorized}, {403, fault.ErrForbidden}, {404, fault.ErrNotFound},
		{409, fault.ErrConflict}, {412, fault.ErrPrecondition}, {413, fault.ErrQuota}, {429, fault.ErrBusy},
		{503, fault.ErrUnavailable},
	}
	all := []error{fault.ErrInvalid, fault.ErrUnauthorized, fault.ErrForbidden, fault.ErrNotFound, fault.ErrConflict,
		fault.ErrPrecondition, fault.ErrQuota, fault.ErrBusy, fault.ErrUnavailable, fault.ErrNotModified}
	for name, call := range calls {
		for _, st := range statuses {
			if name == "PutHashmap" && st.status == 409 {
				continue // a 409 listing blocks is a result; a bare one is tested below
			}
			c, _ := newRecorded(t, reply{status: st.status, body: `{"fault": {"code": 1, "message": "why"}}`})
			err := call(c)
			for _, k := range all {
				if got := errors.Is(err, k); got != (k == st.want) {
					t.Errorf("%s %d: errors.Is(%v, %v) = %v", name, st.status, err, k, got)
				}
			}
			var ce *synnefo.ClientError
			if !errors.As(err, &ce) || ce.Status != st.status {
				t.Errorf("%s %d: the ClientError is not reachable: %#v", name, st.status, err)
			}
		}
	}
}

func TestNotModifiedAndNotEmpty(t *testing.T) {
	ctx := context.Background()
	c, _ := newRecorded(t, reply{status: 304}, reply{status: 409, body: "container not empty"}, reply{status: 409})
	if _, err := c.ObjectInfo(ctx, "c", "o", GetOptions{Conditions: Conditions{IfNoneMatch: "e"}}); !errors.Is(err, fault.ErrNotModified) {
		t.Errorf("304: %v", err)
	}
	err := c.DeleteContainer(ctx, "c", DeleteContainerOptions{})
	if !errors.Is(err, fault.ErrNotEmpty) || !errors.Is(err, fault.ErrConflict) {
		t.Errorf("container DELETE 409: %v, want ErrNotEmpty (and ErrConflict)", err)
	}
	// Deleting every object is not refused for want of emptiness.
	if err := c.DeleteContainer(ctx, "c", DeleteContainerOptions{AllObjects: true}); errors.Is(err, fault.ErrNotEmpty) || !errors.Is(err, fault.ErrConflict) {
		t.Errorf("DELETE ?delimiter 409: %v", err)
	}
}

// A hashmap PUT answered by a conflict that lists no blocks is a real
// conflict; one that keeps listing blocks after the upload rounds is a
// *MissingBlocksError carrying them.
func TestHashmapConflicts(t *testing.T) {
	ctx := context.Background()
	hm := &Hashmap{BlockSize: 4, Bytes: 1, Hashes: []string{hashmap.BlockHashHex([]byte("a"))}}
	c, _ := newRecorded(t, reply{status: 409, body: "[]"})
	if _, _, err := c.PutHashmap(ctx, "c", "o", hm, PutOptions{}); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("bare 409: %v", err)
	}
	missing := `["` + hm.Hashes[0] + `"]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodPut:
			w.WriteHeader(409)
			_, _ = io.WriteString(w, missing)
		case r.Method == http.MethodPost: // the block upload: the server says it stored it
			w.WriteHeader(202)
			_, _ = io.WriteString(w, missing)
		default:
			w.WriteHeader(204)
		}
	}))
	t.Cleanup(srv.Close)
	cl, err := New(srv.URL+"/v1", "tok", synnefo.Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	cl = cl.WithAccount("u").WithConfig(Config{MaxHashmapRounds: 2})
	_, err = cl.CommitHashmap(ctx, "c", "o", hm, func(context.Context, string) ([]byte, error) { return []byte("a"), nil }, CommitOptions{})
	var mb *MissingBlocksError
	if !errors.As(err, &mb) || mb.Rounds != 2 || len(mb.Missing) != 1 || mb.Missing[0] != hm.Hashes[0] {
		t.Fatalf("CommitHashmap: %v, want a MissingBlocksError listing %s", err, hm.Hashes[0])
	}
	if errors.Is(err, fault.ErrConflict) || fault.Refused(err) {
		t.Errorf("missing blocks must stay retryable, not a refusal: %v", err)
	}
}

// No reply at all (a closed port, after the client's retries) is
// ErrUnavailable; a call the caller cancelled is not.
func TestUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(url+"/v1", "tok", synnefo.Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithAccount("u")
	if _, err := c.ObjectInfo(context.Background(), "c", "o", GetOptions{}); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("closed port: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ObjectInfo(ctx, "c", "o", GetOptions{}); errors.Is(err, fault.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
