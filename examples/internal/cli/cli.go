// Package cli is the little shared plumbing of the example programs: the cloud flags (identity URL,
// token, CA bundle or no verification, polling interval) with kamaki's configuration file behind them, a
// service client from the identity catalog, running a program with a deadline, and printing an error the
// way kamaki's guide does.
package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/kamakirc"
)

// Environment variables read when the flags are not given.
const (
	EnvURL    = "PITHOSFS_URL"
	EnvToken  = "PITHOSFS_TOKEN"
	EnvCAFile = "PITHOSFS_CA_FILE"
)

// Cloud is the cloud a program talks to.
type Cloud struct {
	URL      string        // identity (Astakos) URL, e.g. https://accounts.example.com/identity/v2.0
	Token    string        // the user's token
	CAFile   string        // extra CA bundle (PEM); "" → the system pool only
	Insecure bool          // skip TLS verification (kamaki's --ignore-ssl)
	Poll     time.Duration // first interval between status polls

	Name   string // a cloud of kamaki's configuration file (default: its default_cloud)
	Config string // kamaki's configuration file (default: $KAMAKI_CONFIG, else ~/.kamakirc)
}

// Flags registers -url, -token, -ca-certs (alias -ca-file), -insecure, -cloud, -config and -poll on fs,
// defaulting to the environment. What they leave unset comes from kamaki's configuration file (see
// Resolve).
func Flags(fs *flag.FlagSet) *Cloud {
	c := &Cloud{}
	fs.StringVar(&c.URL, "url", os.Getenv(EnvURL), "identity URL (env "+EnvURL+")")
	fs.StringVar(&c.Token, "token", os.Getenv(EnvToken), "token (env "+EnvToken+")")
	fs.StringVar(&c.CAFile, "ca-certs", os.Getenv(EnvCAFile), "CA certificates (PEM) trusted beside the system's, as kamaki's --ca-certs (env "+EnvCAFile+")")
	fs.StringVar(&c.CAFile, "ca-file", os.Getenv(EnvCAFile), "the same as -ca-certs")
	fs.BoolVar(&c.Insecure, "insecure", false, "do not verify TLS certificates (test clouds only), as kamaki's --ignore-ssl")
	fs.StringVar(&c.Name, "cloud", "", "cloud of kamaki's configuration file to use (default: its default_cloud)")
	fs.StringVar(&c.Config, "config", "", "kamaki's configuration file (default: $"+kamakirc.EnvConfig+", else ~/.kamakirc)")
	fs.DurationVar(&c.Poll, "poll", time.Second, "interval between status polls while waiting")
	return c
}

// Resolve fills what the flags and the environment left unset from kamaki's configuration file, as kamaki
// would: the URL and token of -cloud (or its default_cloud) when neither was given, and the CA bundle and
// ignore_ssl of that cloud's section or [global] when -ca-certs was not given. A missing default file
// is no error; a missing -config file is.
func (c *Cloud) Resolve() error {
	needCloud := c.URL == "" && c.Token == ""
	if !needCloud && c.CAFile != "" {
		return nil
	}
	path := c.Config
	if path == "" {
		path = kamakirc.DefaultPath(os.Getenv)
	}
	f, err := kamakirc.Read(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && c.Config == "" && c.Name == "":
		return nil
	case err != nil:
		return err
	}
	name := ""
	if needCloud {
		if name = c.Name; name == "" {
			name = f.DefaultCloud()
		}
		if name != "" {
			if c.URL, c.Token, err = f.Cloud(name); err != nil {
				return err
			}
		}
	}
	if c.CAFile != "" {
		return nil
	}
	home, _ := os.UserHomeDir()
	t, err := f.TLS(name, home)
	if err != nil {
		return err
	}
	c.CAFile = t.CACerts
	c.Insecure = c.Insecure || t.IgnoreSSL
	return nil
}

// Options returns the client options for c.
func (c *Cloud) Options() synnefo.Options {
	return synnefo.Options{CAFile: c.CAFile, Insecure: c.Insecure}
}

// Wait returns the polling options of the Wait* calls.
func (c *Cloud) Wait() *cyclades.WaitOptions {
	return &cyclades.WaitOptions{Interval: c.Poll, MaxInterval: 5 * c.Poll}
}

// Astakos checks that the URL and token are set, authenticates and returns the identity client,
// printing the guide's "Failed to authenticate user token" when the token is refused.
func (c *Cloud) Astakos(ctx context.Context, out io.Writer) (*astakos.Client, error) {
	if err := c.Resolve(); err != nil {
		return nil, err
	}
	if c.URL == "" || c.Token == "" {
		return nil, fmt.Errorf("no cloud: set -url and -token (or %s and %s, or a cloud in ~/.kamakirc)", EnvURL, EnvToken)
	}
	ident, err := astakos.New(c.URL, c.Token, c.Options())
	if err == nil {
		_, err = ident.Authenticate(ctx)
	}
	if err != nil {
		if refusedCertificate(err) != nil {
			fmt.Fprintln(out, "SSL Authentication failed") // kamaki's words
		} else {
			fmt.Fprintln(out, "Failed to authenticate user token")
		}
		return nil, err
	}
	return ident, nil
}

// Connect finds serviceType's endpoint in ident's service catalog and makes its client with newClient
// (cyclades.NewCompute, cyclades.NewNetwork, cyclades.NewBlockStorage, image.New or pithos.New), c's
// token and c's options.
func Connect[T any](ctx context.Context, c *Cloud, ident *astakos.Client, serviceType string,
	newClient func(endpointURL, token string, opts synnefo.Options) (T, error)) (T, error) {
	endpoint, err := ident.EndpointURL(ctx, serviceType)
	if err != nil {
		var none T
		return none, err
	}
	return newClient(endpoint, c.Token, c.Options())
}

// Program is the body of an example: it parses args, talks to the cloud and prints to out.
type Program func(ctx context.Context, args []string, out io.Writer) error

// Run runs p and prints its error (PrintError) to out; it returns the process exit code.
func Run(ctx context.Context, p Program, args []string, out io.Writer) int {
	err := p(ctx, args, out)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 2
	}
	PrintError(out, err)
	return 1
}

// Main runs p with the command line, stops it on an interrupt, and exits with Run's code.
func Main(p Program) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Run(ctx, p, os.Args[1:], os.Stdout)
	stop()
	os.Exit(code)
}

// refusedCertificate returns the refusal of the server's TLS certificate in err's chain, or nil.
func refusedCertificate(err error) *tls.CertificateVerificationError {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return verify
	}
	return nil
}

// PrintError prints err as kamaki's guide does (a refused certificate says what to pass):
//
//	Error: MESSAGE
//	- error code: STATUS
//	- DETAIL (one line each)
//
// The status and details lines appear only for a *synnefo.ClientError that has them.
func PrintError(out io.Writer, err error) {
	if verify := refusedCertificate(err); verify != nil {
		fmt.Fprintf(out, "Error: the server's certificate was refused: to trust its CA, pass -ca-certs FILE (or set %s)\n- %v\n", EnvCAFile, verify)
		return
	}
	var ce *synnefo.ClientError
	if !errors.As(err, &ce) {
		fmt.Fprintf(out, "Error: %v\n", err)
		return
	}
	msg := ce.Message
	if msg == "" {
		msg = ce.Error()
	}
	fmt.Fprintf(out, "Error: %s\n", msg)
	if ce.Status != 0 {
		fmt.Fprintf(out, "- error code: %d\n", ce.Status)
	}
	for _, d := range strings.Split(ce.Details, "\n") {
		if d = strings.TrimSpace(d); d != "" {
			fmt.Fprintf(out, "- %s\n", d)
		}
	}
	if ce.Err != nil {
		fmt.Fprintf(out, "- %v\n", ce.Err)
	}
}
