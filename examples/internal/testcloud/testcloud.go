// Package testcloud starts a fresh local cloud for the example programs' tests and gives them the clients
// and fixtures (an uploaded, registered image; a built server) the guide's scripts assume exist.
package testcloud

import (
	"bytes"
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/examples/internal/cli"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/kamakirc"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// Poll is the polling interval the tests give the programs (-poll).
const Poll = 20 * time.Millisecond

// Cloud is a running local cloud with one user and clients for it.
type Cloud struct {
	Local   *localcloud.Server
	URL     string // identity URL
	CA      string // with StartTLS: the CA certificate the cloud's chains to
	Token   string
	UUID    string // the user's uuid (Pithos account)
	Compute *cyclades.ComputeClient
	Network *cyclades.NetworkClient
	Volumes *cyclades.BlockStorageClient
	Images  *image.Client
	Pithos  *pithos.Client // on the user's account
}

// Start starts a local cloud under t.TempDir() (stopped at the end of the test) and connects to it.
func Start(t *testing.T) *Cloud {
	t.Helper()
	srv, err := localcloud.Start(localcloud.Config{Dir: t.TempDir(), BuildDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return connect(t, srv, "")
}

// StartTLS is Start over TLS, with a CA and server certificate made as pithosfs serve --tls-self-signed
// makes them; Args names the CA with -ca-certs.
func StartTLS(t *testing.T) *Cloud {
	t.Helper()
	dir := t.TempDir()
	files, err := localcloud.SelfSigned(filepath.Join(dir, "tls"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := localcloud.ListenTLS("127.0.0.1:0", localcloud.Config{Dir: filepath.Join(dir, "data"), BuildDelay: 200 * time.Millisecond},
		&tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	return connect(t, srv, files.CA)
}

func connect(t *testing.T, srv *localcloud.Server, ca string) *Cloud {
	t.Helper()
	// The programs read kamaki's configuration file for what their flags leave out: none unless a test
	// writes one.
	t.Setenv(kamakirc.EnvConfig, filepath.Join(t.TempDir(), "no-kamakirc"))
	t.Cleanup(func() { srv.Close() })
	user := srv.Cloud.Users()[0]
	c := &Cloud{Local: srv, URL: srv.IdentityURL(), Token: user.Token, UUID: user.UUID, CA: ca}
	ctx := Context(t)
	opts := synnefo.Options{CAFile: ca, RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
	ident, err := astakos.New(c.URL, c.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	url := func(serviceType string) string {
		u, err := ident.EndpointURL(ctx, serviceType)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.Compute, err = cyclades.NewCompute(url(cyclades.ComputeServiceType), c.Token, opts)
	must(err)
	c.Network, err = cyclades.NewNetwork(url(cyclades.NetworkServiceType), c.Token, opts)
	must(err)
	c.Volumes, err = cyclades.NewBlockStorage(url(cyclades.VolumeServiceType), c.Token, opts)
	must(err)
	c.Images, err = image.New(url(image.ServiceType), c.Token, opts)
	must(err)
	p, err := pithos.New(url(pithos.ServiceType), c.Token, opts)
	must(err)
	c.Pithos = p.WithAccount(c.UUID)
	return c
}

// Context returns a context that ends with the test or after a minute.
func Context(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Args returns the cloud flags for this cloud (with -ca-certs over TLS) followed by extra.
func (c *Cloud) Args(extra ...string) []string {
	args := []string{"-url", c.URL, "-token", c.Token, "-poll", Poll.String()}
	if c.CA != "" {
		args = append(args, "-ca-certs", c.CA)
	}
	return append(args, extra...)
}

// Run runs program p with args against nothing but what args say, and returns its output and exit code.
func Run(t *testing.T, p cli.Program, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := cli.Run(Context(t), p, args, &out)
	t.Logf("%s", out.String())
	return out.String(), code
}

// Upload stores data as container/name (creating the container).
func (c *Cloud) Upload(t *testing.T, container, name string, data []byte) {
	t.Helper()
	ctx := Context(t)
	if _, err := c.Pithos.CreateContainer(ctx, container, pithos.CreateContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pithos.UploadObject(ctx, container, name, bytes.NewReader(data), pithos.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Image uploads data to images/<name> and registers it as a Debian image; it returns the image id.
func (c *Cloud) Image(t *testing.T, name string, data []byte) string {
	t.Helper()
	c.Upload(t, "images", name, data)
	m, err := c.Images.Register(Context(t), strings.TrimSuffix(name, ".diskdump"),
		image.Location{Account: c.UUID, Container: "images", Path: name},
		image.RegisterOptions{Properties: map[string]string{"OS": "debian", "USERS": "root", "OSFAMILY": "linux", "ROOT_PARTITION": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// Flavor is a flavor of the local cloud whose volumes can be snapshotted (ext_archipelago).
const Flavor = 1

// Server creates a server from imageID with no networks and waits until it is ACTIVE.
func (c *Cloud) Server(t *testing.T, name, imageID string) *cyclades.Server {
	t.Helper()
	ctx := Context(t)
	s, err := c.Compute.CreateServer(ctx, cyclades.CreateServerRequest{Name: name, FlavorID: Flavor, ImageID: imageID,
		Networks: []cyclades.ServerNetwork{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err = c.Compute.WaitServerUntil(ctx, s.ID, cyclades.StatusActive, &cyclades.WaitOptions{Interval: Poll})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
