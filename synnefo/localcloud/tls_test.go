package localcloud

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSelfSigned: the CA and server certificate are created once and reused; a new host or a certificate
// about to expire gets a new server certificate from the same CA; keys are private.
func TestSelfSigned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f, err := SelfSigned(dir, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if !f.CACreated || !f.Issued {
		t.Fatalf("first call: %+v, want a new CA and certificate", f)
	}
	for _, k := range []string{f.CAKey, f.Key} {
		if st, err := os.Stat(k); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", k, st.Mode(), err)
		}
	}
	ca, _ := os.ReadFile(f.CA)
	cert, _ := os.ReadFile(f.Cert)

	for _, tt := range []struct {
		name       string
		hosts      []string
		now        time.Time
		wantIssued bool
	}{
		{"restart", nil, now.Add(24 * time.Hour), false},
		{"new host", []string{"cloud.test"}, now, true},
		{"same host again", []string{"cloud.test"}, now, false},
		{"near expiry", []string{"cloud.test"}, now.Add(selfSignedServerValidity - 10*24*time.Hour), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, err := SelfSigned(dir, tt.hosts, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if g.CACreated || g.Issued != tt.wantIssued {
				t.Fatalf("%+v: CA created %v, issued %v; want issued %v", g, g.CACreated, g.Issued, tt.wantIssued)
			}
			if ca2, _ := os.ReadFile(g.CA); !bytes.Equal(ca, ca2) {
				t.Fatal("the CA changed")
			}
			cert2, _ := os.ReadFile(g.Cert)
			if bytes.Equal(cert, cert2) == tt.wantIssued {
				t.Fatalf("server certificate changed = %v, want %v", !bytes.Equal(cert, cert2), tt.wantIssued)
			}
			cert = cert2
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(ca)
			pair, err := tls.LoadX509KeyPair(g.Cert, g.Key)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, tt.hosts...) {
				if _, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: tt.now}); err != nil {
					t.Errorf("certificate for %s: %v", h, err)
				}
			}
		})
	}
	if err := os.WriteFile(f.CAKey, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := SelfSigned(dir, nil, now); err == nil {
		t.Fatal("a corrupt CA key was accepted (or silently replaced)")
	}
}

// TestListenTLS: the cloud over TLS answers a client that trusts the CA, refuses one that does not, and
// its service catalog names https:// endpoints.
func TestListenTLS(t *testing.T) {
	f, err := SelfSigned(filepath.Join(t.TempDir(), "tls"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ListenTLS("127.0.0.1:0", Config{Dir: t.TempDir(), Users: []User{userA}}, &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", srv.URL)
	}
	body := strings.NewReader(`{"auth": {"token": {"id": "` + userA.Token + `"}}}`)
	if _, err := http.Post(srv.IdentityURL()+"/tokens", "application/json", body); err == nil {
		t.Fatal("a client without the CA was answered")
	}
	caPEM, _ := os.ReadFile(f.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Post(srv.IdentityURL()+"/tokens", "application/json",
		strings.NewReader(`{"auth": {"token": {"id": "`+userA.Token+`"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var doc struct {
		Access struct {
			ServiceCatalog []struct {
				Endpoints []struct {
					PublicURL string `json:"publicURL"`
				} `json:"endpoints"`
			} `json:"serviceCatalog"`
		} `json:"access"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Access.ServiceCatalog) == 0 {
		t.Fatalf("%s: %v %s", resp.Status, err, data)
	}
	for _, s := range doc.Access.ServiceCatalog {
		for _, e := range s.Endpoints {
			if !strings.HasPrefix(e.PublicURL, srv.URL+"/") {
				t.Errorf("catalog endpoint %s is not under %s", e.PublicURL, srv.URL)
			}
		}
	}
	if _, err := ListenTLS("127.0.0.1:0", Config{Dir: t.TempDir()}, &tls.Config{}); err == nil {
		t.Fatal("ListenTLS without a certificate accepted")
	}
}
