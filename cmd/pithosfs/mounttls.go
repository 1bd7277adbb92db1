package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/kamakirc"
)

// tlsSettings are how a mount verifies the cloud's certificates, and where
// each setting came from (for messages).
type tlsSettings struct {
	CAFile, CASource string // extra CA bundle; "" = the system's only
	Insecure         bool
	InsecureSource   string
}

// resolveTLS picks the CA bundle and whether to verify at all. Each setting
// is taken from the first place that has it: the flag (--ca-certs,
// --insecure, or their -o forms), then the kamakirc cloud section the cloud
// came from, then the kamakirc [global] section (kamaki's own place for
// them). An explicit --ca-certs means "verify with this", so it also turns
// off a kamakirc ignore_ssl. The kamakirc is read only for a configured
// cloud (found): the embedded local cloud is plain HTTP on loopback.
// SSL_CERT_FILE and SSL_CERT_DIR keep choosing the system's certificates.
func resolveTLS(o *mountOptions, cloud cloudConfig, found bool, getenv func(string) string) (tlsSettings, error) {
	t := tlsSettings{}
	if o.CACerts != "" {
		t.CAFile, t.CASource = o.CACerts, "--ca-certs"
	}
	if o.insecureSet || o.CACerts != "" {
		t.Insecure, t.InsecureSource = o.Insecure, "--insecure"
	}
	if found && (t.CASource == "" || t.InsecureSource == "") {
		rc, err := kamakirc.Read(o.Kamakirc)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return t, err
		default:
			k, err := rc.TLS(cloud.Cloud, getenv("HOME"))
			if err != nil {
				return t, err
			}
			if t.CASource == "" && k.CACerts != "" {
				t.CAFile, t.CASource = k.CACerts, "ca_certs in "+o.Kamakirc+" "+k.CACertsFrom
			}
			if t.InsecureSource == "" && k.IgnoreSSLSet {
				t.Insecure, t.InsecureSource = k.IgnoreSSL, "ignore_ssl in "+o.Kamakirc+" "+k.IgnoreFrom
			}
		}
	}
	if t.CAFile != "" {
		abs, err := filepath.Abs(t.CAFile)
		if err != nil {
			return t, err
		}
		t.CAFile = abs
	}
	return t, nil
}

// config is the client TLS configuration; an insecure one is logged as a
// warning (every mount, whatever set it).
func (t tlsSettings) config(log *zap.Logger) (*tls.Config, error) {
	conf, err := synnefo.TLSConfig(t.CAFile, t.Insecure)
	if err != nil {
		return nil, fmt.Errorf("CA certificates (%s): %w", t.CASource, err)
	}
	if t.Insecure {
		log.Warn("TLS certificates are NOT verified: anyone between here and the cloud can read and change the traffic, token included; use --ca-certs instead",
			zap.String("set_by", t.InsecureSource))
	}
	return conf, nil
}

// certError is a certificate the mount refused, as one line that says what
// to do; Unwrap keeps the cause.
type certError struct {
	msg string
	err error
}

func (e *certError) Error() string { return e.msg }
func (e *certError) Unwrap() error { return e.err }

// trustError turns a refused certificate in err's chain into one actionable
// line (x509's "certificate signed by unknown authority" says nothing of
// what to do); other errors are returned as they are.
func (t tlsSettings) trustError(err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	const pass = "pass --ca-certs FILE (or ca_certs in ~/.kamakirc)"
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unknown) && t.CAFile == "":
		return &certError{"the server's certificate is not trusted: " + pass, err}
	case errors.As(err, &unknown):
		return &certError{fmt.Sprintf("the server's certificate is not trusted, not even with %s (%s): %s of the CA that signed it", t.CAFile, t.CASource, pass), err}
	case errors.As(err, &hostname):
		return &certError{"the server's certificate is not for the host in the URL (" + strings.TrimPrefix(hostname.Error(), "x509: ") + "): use a URL with a name it has", err}
	case errors.As(err, &invalid):
		return &certError{"the server's certificate is not valid (" + strings.TrimPrefix(invalid.Error(), "x509: ") + ")", err}
	}
	return err
}

// warnInsecureBeforeDaemon says on the terminal, before a --daemon mount
// forks, that it will not verify certificates (the daemon's own warning goes
// to its log file), and reports a TLS setting that cannot work (a bad
// ignore_ssl) at once.
func warnInsecureBeforeDaemon(o *mountOptions) error {
	if o.Local {
		return nil
	}
	cloud, found, err := resolveCloud(cloudFlags{URL: o.URL, Token: o.Token, Cloud: o.Cloud, User: o.User,
		KamakircGiven: o.Kamakirc != defaultKamakirc()}, os.Getenv, o.Kamakirc)
	if err != nil {
		return err
	}
	t, err := resolveTLS(o, cloud, found, os.Getenv)
	if err != nil {
		return err
	}
	if t.Insecure {
		fmt.Fprintf(os.Stderr, "pithosfs: warning: TLS certificates are NOT verified (%s): anyone between here and the cloud can read and change the traffic, token included\n", t.InsecureSource)
	}
	return nil
}
