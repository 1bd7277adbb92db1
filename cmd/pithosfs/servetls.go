package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// serveTLSFlags are the TLS settings of pithosfs serve.
type serveTLSFlags struct {
	Cert, Key  string
	SelfSigned bool
}

func (f *serveTLSFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Cert, "tls-cert", "", "serve HTTPS with this certificate (PEM, with any intermediates; needs --tls-key)")
	fs.StringVar(&f.Key, "tls-key", "", "the private key of --tls-cert (PEM)")
	fs.BoolVar(&f.SelfSigned, "tls-self-signed", false, "serve HTTPS with a CA and server certificate for 127.0.0.1/localhost kept in DATA/tls (made once, reused); clients trust DATA/tls/ca.pem")
}

// serveTLS is how serve listens: conf nil means plain HTTP; caFile is the
// CA clients should trust ("" when the certificate is the user's).
type serveTLS struct {
	conf   *tls.Config
	caFile string
	note   string // what --tls-self-signed did, for the banner
}

// setup checks the flags and loads (or, with --tls-self-signed, makes) the
// server certificate. listen and publicURL add their host to a self-signed
// certificate when they name one.
func (f *serveTLSFlags) setup(data, listen, publicURL string, now time.Time) (serveTLS, error) {
	var st serveTLS
	switch {
	case f.SelfSigned && (f.Cert != "" || f.Key != ""):
		return st, errors.New("--tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key")
	case (f.Cert == "") != (f.Key == ""):
		return st, errors.New("--tls-cert and --tls-key go together")
	case !f.SelfSigned && f.Cert == "":
		return st, nil
	}
	if publicURL != "" && !strings.HasPrefix(publicURL, "https://") {
		return st, fmt.Errorf("--public-url %s: the cloud serves HTTPS, so its public URL starts with https://", publicURL)
	}
	certFile, keyFile := f.Cert, f.Key
	if f.SelfSigned {
		dir, err := filepath.Abs(filepath.Join(data, "tls"))
		if err != nil {
			return st, err
		}
		files, err := localcloud.SelfSigned(dir, extraHosts(listen, publicURL), now)
		if err != nil {
			return st, fmt.Errorf("--tls-self-signed: %w", err)
		}
		certFile, keyFile, st.caFile = files.Cert, files.Key, files.CA
		switch {
		case files.CACreated:
			st.note = "new CA"
		case files.Issued:
			st.note = "same CA, new server certificate for " + strings.Join(files.ServerHosts, ", ")
		default:
			st.note = "reused"
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return st, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	st.conf = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	return st, nil
}

// extraHosts are the hosts a self-signed certificate names beyond
// localhost, 127.0.0.1 and ::1: the --listen host when it is a specific
// address, and the --public-url host.
func extraHosts(listen, publicURL string) []string {
	var hosts []string
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	return hosts
}

// listen starts the cloud over TLS or plain HTTP.
func (st serveTLS) listen(addr string, cfg localcloud.Config) (*localcloud.Server, error) {
	if st.conf != nil {
		return localcloud.ListenTLS(addr, cfg, st.conf)
	}
	return localcloud.Listen(addr, cfg)
}
