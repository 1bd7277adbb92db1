package localcloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// ListenTLS opens a cloud and serves it over TLS (conf holds the server
// certificate) on addr; the Server's URL and the service catalog are https://.
func ListenTLS(addr string, cfg Config, conf *tls.Config) (*Server, error) {
	if conf == nil || (len(conf.Certificates) == 0 && conf.GetCertificate == nil) {
		return nil, errors.New("localcloud: ListenTLS needs a server certificate")
	}
	return listen(addr, cfg, conf)
}

// SelfSignedFiles are the PEM files SelfSigned keeps: a certificate
// authority and a server certificate it signed.
type SelfSignedFiles struct {
	CA, CAKey   string // the CA certificate clients trust (--ca-certs), and its key
	Cert, Key   string // the server's certificate and key
	Issued      bool   // the server certificate was (re)issued by this call
	CACreated   bool   // the CA was created by this call
	ServerHosts []string
}

// Validity of what SelfSigned issues; a server certificate is re-issued
// (by the same CA) once it has less than selfSignedRenew left.
const (
	selfSignedCAValidity     = 10 * 365 * 24 * time.Hour
	selfSignedServerValidity = 825 * 24 * time.Hour
	selfSignedRenew          = 30 * 24 * time.Hour
)

// SelfSigned makes sure dir holds a CA (ca.pem, ca-key.pem) and a server
// certificate it signed (server.pem, server-key.pem) valid at now for
// localhost, 127.0.0.1, ::1 and the extra hosts (names or IP addresses). It
// reuses what is there: the CA always (clients keep trusting the same file),
// the server certificate while it covers every host and has 30 days left;
// otherwise the CA issues a new one. Keys are written 0600.
func SelfSigned(dir string, hosts []string, now time.Time) (SelfSignedFiles, error) {
	f := SelfSignedFiles{CA: filepath.Join(dir, "ca.pem"), CAKey: filepath.Join(dir, "ca-key.pem"),
		Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem")}
	f.ServerHosts = append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("localcloud: %w", err)
	}
	ca, caKey, err := loadPair(f.CA, f.CAKey)
	if errors.Is(err, os.ErrNotExist) {
		ca, caKey, err = newCA(f, now)
		f.CACreated = err == nil
	}
	if err != nil {
		return f, err
	}
	if !ca.IsCA {
		return f, fmt.Errorf("localcloud: %s is not a CA certificate", f.CA)
	}
	if cert, _, err := loadPair(f.Cert, f.Key); err == nil && serverCertFits(cert, ca, f.ServerHosts, now) {
		return f, nil
	}
	if err := issueServer(f, ca, caKey, now); err != nil {
		return f, err
	}
	f.Issued = true
	return f, nil
}

// serverCertFits reports whether cert was signed by ca, is valid for every
// host and stays valid for selfSignedRenew.
func serverCertFits(cert, ca *x509.Certificate, hosts []string, now time.Time) bool {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, h := range hosts {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: now.Add(selfSignedRenew)}); err != nil {
			return false
		}
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: now}); err != nil {
			return false
		}
	}
	return true
}

func newCA(f SelfSignedFiles, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("localcloud: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"pithosfs local cloud"}, CommonName: "pithosfs local CA " + now.UTC().Format("2006-01-02T15:04:05Z")},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("localcloud: CA certificate: %w", err)
	}
	if err := writePair(f.CA, f.CAKey, der, key); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("localcloud: %w", err)
	}
	return cert, key, nil
}

func issueServer(f SelfSignedFiles, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("localcloud: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"pithosfs local cloud"}, CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedServerValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	for _, h := range f.ServerHosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("localcloud: server certificate: %w", err)
	}
	return writePair(f.Cert, f.Key, der, key)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

// writePair writes a certificate (0644) and its key (0600), each atomically.
func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("localcloud: %w", err)
	}
	if err := diskfile.WriteAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return fmt.Errorf("localcloud: %w", err)
	}
	if err := diskfile.WriteAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("localcloud: %w", err)
	}
	return nil
}

// loadPair reads a PEM certificate and its ECDSA key (as SelfSigned writes
// them). A missing file is os.ErrNotExist.
func loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("localcloud: %s: %w", certPath, err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("localcloud: %s: not an ECDSA key", keyPath)
	}
	return pair.Leaf, key, nil
}
