package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "pithosfs", "local")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".pithosfs-local"
	}
	return filepath.Join(home, ".local", "share", "pithosfs", "local")
}

func runServe(args []string, lo logOptions) error {
	if len(args) > 0 && args[0] == "gc" {
		return runServeGC(args[1:], lo)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	logs := lo.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	data := fs.String("data", defaultDataDir(), "directory for the cloud's state (database and blocks)")
	users := fs.String("users", "", "JSON file of users [{name, uuid, token, quota, project_admin}] (default: one user demo@localhost); with a project_admin, project applications wait for one's approval")
	blockSize := fs.Int64("block-size", 4<<20, "Pithos block size in bytes")
	publicURL := fs.String("public-url", "", "base URL for the service catalog (default: from each request's Host)")
	buildDelay := fs.Duration("build-delay", 2*time.Second, "how long new servers stay in BUILD")
	componentToken := fs.String("component-token", "", "token of the component (service) allowed to issue and resolve quota commissions at /astakos/account/v1.0/commissions; empty: none")
	maxSource := fs.Int64("max-source-bytes", localcloud.DefaultMaxSourceBytes, "most data one POST with X-Source-Object (append or range write from an object) may copy; larger get 400")
	var tlsFlags serveTLSFlags
	tlsFlags.register(fs)
	var gcFlags serveGCFlags
	gcFlags.register(fs)
	if ok, err := parseCommandFlags("serve", fs, args); !ok {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"serve", fmt.Errorf("serve takes no arguments (%q)", fs.Arg(0))}
	}
	log, err := logs.logger()
	if err != nil {
		return err
	}
	defer log.Sync()
	cfg := localcloud.Config{Dir: *data, BlockSize: *blockSize, PublicURL: *publicURL, BuildDelay: *buildDelay, Logger: log,
		MaxSourceBytes: *maxSource, ComponentToken: *componentToken}
	if *users != "" {
		if cfg.Users, err = localcloud.LoadUsers(*users); err != nil {
			return err
		}
	}
	st, err := tlsFlags.setup(*data, *listen, *publicURL, time.Now())
	if err != nil {
		return err
	}
	srv, err := st.listen(*listen, cfg)
	if err != nil {
		return err
	}
	base := srv.URL
	if *publicURL != "" {
		base = *publicURL
	}
	fmt.Printf("pithosfs local cloud serving %s on %s\n", *data, srv.URL)
	fmt.Printf("  identity URL: %s/astakos/identity/v2.0\n", base)
	for _, u := range srv.Cloud.Users() {
		fmt.Printf("  user %s  uuid %s  token %s\n", u.Name, u.UUID, u.Token)
	}
	curlCA := ""
	if st.caFile != "" {
		fmt.Printf("  CA certificate: %s (%s): pithosfs mount --ca-certs %s, or ca_certs in ~/.kamakirc\n", st.caFile, st.note, st.caFile)
		curlCA = "--cacert " + st.caFile + " "
	}
	fmt.Printf("  try: curl %s-H 'X-Auth-Token: %s' %s/pithos/object-store/v1/%s?format=json\n", curlCA, srv.Cloud.Users()[0].Token, base, srv.Cloud.Users()[0].UUID)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gcFlags.start(ctx, srv.Cloud)
	<-ctx.Done()
	fmt.Println("pithosfs: shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
