package integration

// The mount and the local cloud over TLS: `pithosfs serve --tls-self-signed`, mounted with its CA named
// by --ca-certs, by ~/.kamakirc's ca_certs or by SSL_CERT_FILE; refused without it; accepted (with a
// warning) with --insecure.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// untrustedLine is what a mount that does not trust the server's certificate says (and nothing else).
const untrustedLine = "pithosfs: the server's certificate is not trusted: pass --ca-certs FILE (or ca_certs in ~/.kamakirc)"

// tlsServe is a `pithosfs serve --tls-self-signed` and the CA its certificate chains to.
type tlsServe struct {
	*serveProc
	CA   string
	note string // what serve said of the CA: "(new CA): …", "(reused): …"
}

// startServeTLS runs `pithosfs serve --tls-self-signed` on a free loopback port with alice and bob,
// stopped at cleanup.
func startServeTLS(t testing.TB) *tlsServe {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	b, _ := json.Marshal([]cloudUser{alice, bob})
	if err := os.WriteFile(users, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return startServeTLSAt(t, filepath.Join(dir, "data"), users)
}

// startServeTLSAt is startServeTLS on a given data directory and users file.
func startServeTLSAt(t testing.TB, data, users string) *tlsServe {
	t.Helper()
	s := &tlsServe{serveProc: &serveProc{Data: data, users: users}}
	cmd := exec.Command(pithosfsBinary(t), "--log-level", "warn", "serve", "--listen", "127.0.0.1:0", "--data", s.Data,
		"--users", users, "--build-delay", "200ms", "--tls-self-signed")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	t.Cleanup(s.stop)
	type banner struct{ url, ca, note string }
	got := make(chan banner, 1)
	go func() {
		var bn banner
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, " on https://"); i >= 0 && bn.url == "" {
				bn.url = strings.TrimSpace(line[i+4:])
			}
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "CA certificate: "); ok && bn.ca == "" {
				bn.ca, bn.note, _ = strings.Cut(rest, " ")
			}
			if bn.url != "" && bn.ca != "" {
				got <- bn
				bn = banner{url: "-", ca: "-", note: "-"}
			}
		}
	}()
	select {
	case bn := <-got:
		s.URL, s.CA, s.note = bn.url, bn.ca, bn.note
	case <-time.After(30 * time.Second):
		t.Fatal("pithosfs serve --tls-self-signed did not print its https URL and CA in 30s")
	}
	caPEM, err := os.ReadFile(s.CA)
	if err != nil {
		t.Fatalf("the CA serve printed: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no certificate", s.CA)
	}
	s.http = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return s
}

// runMountFails runs a mount that must fail and returns its exit code and stderr.
func runMountFails(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append(append([]string{"mount", "--cache-dir", filepath.Join(t.TempDir(), "cache")}, args...), dir)
	cmd := exec.CommandContext(ctx, pithosfsBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "HOME="+t.TempDir()), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if isMounted(dir) {
		_ = exec.Command("fusermount3", "-u", "-z", dir).Run()
		t.Fatalf("%s mounted: %s", dir, stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("pithosfs %s: %v, want a failure\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return ee.ExitCode(), stderr.String()
}

// readWriteTLS writes a file through the mount into dir (alice's container tls), reads it back, and checks
// it reached the cloud.
func readWriteTLS(t *testing.T, s *tlsServe, dir, name string) {
	t.Helper()
	p := filepath.Join(dir, name)
	want := strings.Repeat("secure "+name+"\n", 40000)
	if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != want {
		t.Fatalf("read back %d bytes, %v; want %d", len(got), err, len(want))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := doHTTP(t, s.http, http.MethodGet, s.objectURL(alice, "tls/"+name), alice.Token, nil, nil)
		if resp.StatusCode == http.StatusOK && string(body) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s over TLS: %s, %d bytes", name, resp.Status, len(body))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestMountTLS(t *testing.T) {
	s := startServeTLS(t)
	s.put(t, alice, "tls", nil, nil)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("serve URL %s", s.URL)
	}

	t.Run("ca-certs: files, images/ and servers/", func(t *testing.T) {
		m := startMount(t, mountArgs{URL: s.identityURL(), Token: alice.Token, Extra: []string{"--ca-certs", s.CA}})
		if strings.Contains(m.stderrText(), "NOT verified") {
			t.Fatalf("a verified mount warned:\n%s", m.stderrText())
		}
		root := m.Dir
		readWriteTLS(t, s, filepath.Join(root, alice.Name, "tls"), "flag.txt")
		img := filepath.Join(root, alice.Name, "tls", "base.img")
		sh(t, "head -c 3000000 /dev/urandom > "+shq(img))
		sh(t, "echo "+shq(`{"location": "`+img+`"}`)+" > "+shq(filepath.Join(root, "images", "base.json")))
		if doc := sh(t, "cat "+shq(filepath.Join(root, "images", "base.json"))); !strings.Contains(doc, "pithos://"+alice.UUID+"/tls/base.img") {
			t.Fatalf("image registered over TLS:\n%s", doc)
		}
		flavor := strings.TrimSuffix(strings.TrimSpace(sh(t, "ls "+shq(filepath.Join(root, "flavors"))+" | head -1")), ".json")
		sh(t, "echo "+shq(`{"flavor": "`+flavor+`", "image": "base"}`)+" > "+shq(filepath.Join(root, "servers", "web.json")))
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := os.ReadFile(filepath.Join(root, "servers", "web.json"))
			if err == nil && strings.Contains(string(out), `"ACTIVE"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server created over TLS never became ACTIVE: %s %v", out, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The server exists in the cloud, seen with a client of our own.
		resp, body := doHTTP(t, s.http, http.MethodGet, s.URL+"/cyclades/compute/v2.0/servers", alice.Token, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"web"`) {
			t.Fatalf("servers over TLS: %s %s", resp.Status, body)
		}
	})

	t.Run("no CA: one line, exit 1", func(t *testing.T) {
		for _, extra := range [][]string{nil, {"--daemon"}} {
			code, stderr := runMountFails(t, nil, append([]string{"--url", s.identityURL(), "--token", alice.Token}, extra...)...)
			if code != 1 || strings.TrimSpace(stderr) != untrustedLine {
				t.Fatalf("mount %v without the CA: exit %d, stderr:\n%s\nwant exit 1 and only:\n%s", extra, code, stderr, untrustedLine)
			}
		}
	})

	t.Run("insecure: mounts, warns", func(t *testing.T) {
		m := startMount(t, mountArgs{URL: s.identityURL(), Token: alice.Token, Remote: "/tls", Extra: []string{"--insecure"}})
		if !strings.Contains(m.stderrText(), "TLS certificates are NOT verified") || !strings.Contains(m.stderrText(), "--insecure") {
			t.Fatalf("no warning for --insecure:\n%s", m.stderrText())
		}
		readWriteTLS(t, s, m.Dir, "insecure.txt")
		// --daemon: the warning is on the terminal too (the daemon's goes to its log file).
		dir := t.TempDir()
		mp := filepath.Join(dir, "mnt")
		if err := os.Mkdir(mp, 0o755); err != nil {
			t.Fatal(err)
		}
		forceUnmount(t, mp)
		daemon := exec.Command(pithosfsBinary(t), "mount", "--daemon", "--insecure", "--url", s.identityURL(), "--token", alice.Token,
			"--cache-dir", filepath.Join(dir, "cache"), "--pid-file", filepath.Join(dir, "pid"), "/tls", mp)
		daemon.Env = append(os.Environ(), "HOME="+dir)
		out, err := daemon.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "pithosfs: warning: TLS certificates are NOT verified (--insecure)") {
			t.Fatalf("mount --daemon --insecure: %v\n%s", err, out)
		}
		if log, _ := os.ReadFile(filepath.Join(dir, "cache", "pithosfs.log")); !strings.Contains(string(log), "NOT verified") {
			t.Errorf("the daemon's log has no warning:\n%s", log)
		}
		if out, err := exec.Command(pithosfsBinary(t), "unmount", "--pid-file", filepath.Join(dir, "pid"), mp).CombinedOutput(); err != nil {
			t.Fatalf("pithosfs unmount: %v\n%s", err, out)
		}
	})

	t.Run("kamakirc ca_certs", func(t *testing.T) {
		rc := filepath.Join(t.TempDir(), "kamakirc")
		body := "[global]\ndefault_cloud = local\n\n[cloud \"local\"]\nurl = " + s.identityURL() + "\ntoken = " + alice.Token +
			"\nca_certs = " + s.CA + "\n"
		if err := os.WriteFile(rc, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		m := startMount(t, mountArgs{Remote: "/tls", Extra: []string{"--kamakirc", rc}})
		readWriteTLS(t, s, m.Dir, "kamakirc.txt")
		// The same kamakirc without ca_certs: refused.
		if err := os.WriteFile(rc, []byte(strings.ReplaceAll(body, "ca_certs", "# ca_certs")), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, stderr := runMountFails(t, nil, "--kamakirc", rc, "/tls"); code != 1 || strings.TrimSpace(stderr) != untrustedLine {
			t.Fatalf("kamakirc without ca_certs: exit %d:\n%s", code, stderr)
		}
	})

	t.Run("mount.pithosfs -o ca_certs=", func(t *testing.T) {
		// The fstab path: mount(8)'s helper with the CA among its -o options (the cloud from a kamakirc
		// without ca_certs). The helper backgrounds the mount and returns once it answers.
		dir := t.TempDir()
		helper := filepath.Join(dir, "mount.pithosfs")
		if err := os.Symlink(pithosfsBinary(t), helper); err != nil {
			t.Fatal(err)
		}
		rc := filepath.Join(dir, "kamakirc")
		if err := os.WriteFile(rc, []byte("[cloud \"tls\"]\nurl = "+s.identityURL()+"\ntoken = "+alice.Token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mp := filepath.Join(dir, "mnt")
		if err := os.Mkdir(mp, 0o755); err != nil {
			t.Fatal(err)
		}
		forceUnmount(t, mp)
		opts := "_netdev,cloud=tls,kamakirc=" + rc + ",cache_dir=" + filepath.Join(dir, "cache") + ",pid_file=" + filepath.Join(dir, "pid")
		out, err := exec.Command(helper, "pithos:/tls", mp, "-o", opts).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 32 || strings.TrimSpace(string(out)) != "mount.pithosfs"+strings.TrimPrefix(untrustedLine, "pithosfs") {
			t.Fatalf("helper without ca_certs: %v\n%s", err, out)
		}
		if out, err := exec.Command(helper, "pithos:/tls", mp, "-o", opts+",ca_certs="+s.CA).CombinedOutput(); err != nil {
			t.Fatalf("helper with ca_certs: %v\n%s", err, out)
		}
		readWriteTLS(t, s, mp, "fstab.txt")
		if out, err := exec.Command(pithosfsBinary(t), "unmount", "--pid-file", filepath.Join(dir, "pid"), mp).CombinedOutput(); err != nil {
			t.Fatalf("pithosfs unmount: %v\n%s", err, out)
		}
	})

	t.Run("example program", func(t *testing.T) {
		// examples/registerimages, built and run as a user would, registers alice's tls/ objects as
		// images over TLS, trusting serve's CA with --ca-certs.
		root, err := repoFile("")
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(t.TempDir(), "registerimages")
		build := exec.Command("go", "build", "-o", bin, "./examples/registerimages")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./examples/registerimages: %v\n%s", err, out)
		}
		s.put(t, alice, "tls/example.diskdump", []byte("an image"), nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "--url", s.identityURL(), "--token", alice.Token, "--ca-certs", s.CA,
			"--container", "tls").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Image Image example.diskdump registered with id ") {
			t.Fatalf("registerimages --ca-certs: %v\n%s", err, out)
		}
		out, err = exec.CommandContext(ctx, bin, "--url", s.identityURL(), "--token", alice.Token, "--container", "tls").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "unknown authority") {
			t.Fatalf("registerimages without the CA: %v\n%s", err, out)
		}
	})

	t.Run("SSL_CERT_FILE", func(t *testing.T) {
		t.Setenv("SSL_CERT_FILE", s.CA)
		m := startMount(t, mountArgs{URL: s.identityURL(), Token: alice.Token, Remote: "/tls"})
		readWriteTLS(t, s, m.Dir, "env.txt")
	})

	t.Run("SSL_CERT_DIR", func(t *testing.T) {
		dir := t.TempDir()
		sh(t, "cp "+shq(s.CA)+" "+shq(filepath.Join(dir, "pithosfs-test-ca.pem")))
		t.Setenv("SSL_CERT_DIR", dir)
		m := startMount(t, mountArgs{URL: s.identityURL(), Token: alice.Token, Remote: "/tls"})
		readWriteTLS(t, s, m.Dir, "envdir.txt")
	})

	t.Run("restart reuses the CA", func(t *testing.T) {
		ca, err := os.ReadFile(s.CA)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s.note, "(new CA)") {
			t.Fatalf("first start said %q of its CA", s.note)
		}
		s.stop()
		s2 := startServeTLSAt(t, s.Data, s.users)
		if ca2, err := os.ReadFile(s2.CA); err != nil || s2.CA != s.CA || !bytes.Equal(ca, ca2) || !strings.HasPrefix(s2.note, "(reused)") {
			t.Fatalf("after a restart: CA %s (%q), same content %v, %v", s2.CA, s2.note, bytes.Equal(ca, ca2), err)
		}
		m := startMount(t, mountArgs{URL: s2.identityURL(), Token: alice.Token, Remote: "/tls", Extra: []string{"--ca-certs", s.CA}})
		if _, err := os.ReadFile(filepath.Join(m.Dir, "flag.txt")); err != nil {
			t.Fatalf("a file written before the restart: %v", err)
		}
	})
}
