package synnefo

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig is the client TLS configuration of caFile and insecure, as NewHTTPClient uses it: the system
// pool (which honours SSL_CERT_FILE and SSL_CERT_DIR) plus the PEM certificates of caFile when it is not
// "", and no verification at all when insecure is set. Callers that build their own http.Transport use it
// to get the same behaviour.
func TLSConfig(caFile string, insecure bool) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("synnefo: reading CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("synnefo: CA file %s holds no PEM certificate", caFile)
		}
		conf.RootCAs = pool
	}
	if insecure {
		conf.InsecureSkipVerify = true
	}
	return conf, nil
}

// certificateError reports whether err is the client refusing the server's certificate (unknown
// authority, wrong host name, expired…): asking again gets the same answer, so it is never retried.
func certificateError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
