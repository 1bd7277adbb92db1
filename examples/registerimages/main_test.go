package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/examples/internal/testcloud"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/kamakirc"
)

func TestRegisterImages(t *testing.T) {
	c := testcloud.Start(t)
	names := []string{"centos.diskdump", "debian/base 7.diskdump", "ελληνικά.diskdump"}
	for i, n := range names {
		c.Upload(t, "images", n, []byte(strings.Repeat(n, i+1)))
	}

	out, code := testcloud.Run(t, run, c.Args()...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	imgs, err := c.Images.ListImages(testcloud.Context(t), image.ListOptions{Detail: true, Order: "name"})
	if err != nil || len(imgs) != len(names) {
		t.Fatalf("images %+v %v", imgs, err)
	}
	var want strings.Builder
	for i, n := range names { // listing and name order agree
		img := imgs[i]
		loc := image.Location{Account: c.UUID, Container: "images", Path: n}
		if img.Name != "Image "+n || img.Location != loc.String() || img.Size != int64(len(n)*(i+1)) || img.Owner != c.UUID {
			t.Fatalf("image %d: %+v, want location %s", i, img, loc)
		}
		fmt.Fprintf(&want, "Image %s registered with id %s\n", img.Name, img.ID)
	}
	if out != want.String() {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want.String())
	}

	// Running it again re-registers the same objects: same ids.
	again, code := testcloud.Run(t, run, c.Args()...)
	if code != 0 || again != out {
		t.Fatalf("second run: exit %d:\n%s", code, again)
	}

	// An object the service refuses (its image name would exceed 256 characters) is reported, the others
	// are still registered, and the exit status says something failed.
	long := strings.Repeat("x", 251)
	c.Upload(t, "other", long, []byte("a"))
	c.Upload(t, "other", "z.diskdump", []byte("z"))
	out, code = testcloud.Run(t, run, c.Args("-container", "other")...)
	lines := strings.Split(out, "\n")
	if code != 1 || len(lines) != 6 || lines[0] != "Failed to register image "+long || lines[1] != "Error: Invalid image name" ||
		lines[2] != "- error code: 400" || !strings.HasPrefix(lines[3], "Image Image z.diskdump registered with id ") ||
		lines[4] != "Error: 1 of 2 images failed to register" {
		t.Fatalf("exit %d: %q", code, lines)
	}

	out, code = testcloud.Run(t, run, c.Args("-container", "missing")...)
	if code != 1 || out != "Error: Container does not exist\n- error code: 404\n" {
		t.Fatalf("missing container: exit %d: %q", code, out)
	}
}

// TestRegisterImagesTLS: the program against the local cloud over TLS trusts its CA with -ca-certs, is
// refused without it, and with -insecure skips verification.
func TestRegisterImagesTLS(t *testing.T) {
	c := testcloud.StartTLS(t)
	if !strings.HasPrefix(c.URL, "https://") {
		t.Fatalf("identity URL %s", c.URL)
	}
	c.Upload(t, "images", "tls.diskdump", []byte("secure"))
	out, code := testcloud.Run(t, run, c.Args()...)
	if code != 0 || !strings.HasPrefix(out, "Image Image tls.diskdump registered with id ") {
		t.Fatalf("with -ca-certs: exit %d:\n%s", code, out)
	}
	noCA := []string{"-url", c.URL, "-token", c.Token, "-poll", testcloud.Poll.String()}
	out, code = testcloud.Run(t, run, noCA...)
	want := "SSL Authentication failed\nError: the server's certificate was refused: to trust its CA, pass -ca-certs FILE (or set PITHOSFS_CA_FILE)\n" +
		"- tls: failed to verify certificate: x509: certificate signed by unknown authority\n"
	if code != 1 || out != want {
		t.Fatalf("without the CA: exit %d:\n%s", code, out)
	}
	out, code = testcloud.Run(t, run, append(noCA, "-insecure")...)
	if code != 0 || !strings.Contains(out, "registered with id") {
		t.Fatalf("with -insecure: exit %d:\n%s", code, out)
	}

	// The cloud and its CA from kamaki's configuration file, as kamaki would take them.
	rc := filepath.Join(t.TempDir(), "kamakirc")
	body := "[global]\ndefault_cloud = local\n\n[cloud \"local\"]\nurl = " + c.URL + "\ntoken = " + c.Token + "\nca_certs = " + c.CA + "\n"
	if err := os.WriteFile(rc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = testcloud.Run(t, run, "-config", rc, "-poll", testcloud.Poll.String())
	if code != 0 || !strings.Contains(out, "registered with id") {
		t.Fatalf("with ca_certs in -config: exit %d:\n%s", code, out)
	}
	if err := os.WriteFile(rc, []byte(strings.Replace(body, "ca_certs", "ignore_ssl = on\n# ca_certs", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(kamakirc.EnvConfig, rc)
	out, code = testcloud.Run(t, run, "-poll", testcloud.Poll.String())
	if code != 0 || !strings.Contains(out, "registered with id") {
		t.Fatalf("with ignore_ssl = on in $%s: exit %d:\n%s", kamakirc.EnvConfig, code, out)
	}
}
