package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// serveGCFlags are serve's block garbage collection flags.
type serveGCFlags struct {
	interval, grace time.Duration
}

func (f *serveGCFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.interval, "gc-interval", 0, "remove unreferenced blocks every DURATION while serving (e.g. 1h); 0 never")
	fs.DurationVar(&f.grace, "gc-grace", time.Hour, "keep unreferenced blocks younger than this (blocks uploaded for a hashmap PUT that has not come yet)")
}

// start runs GC in the background every interval, until ctx ends.
func (f *serveGCFlags) start(ctx context.Context, c *localcloud.Cloud) {
	if f.interval > 0 {
		go c.RunGC(ctx, f.interval, f.grace)
	}
}

// runServeGC is "pithosfs serve gc": one GC of a data directory no server is
// using (a running server collects with --gc-interval instead).
func runServeGC(args []string, lo logOptions) error {
	fs := pflag.NewFlagSet("serve gc", pflag.ContinueOnError)
	logs := lo.register(fs)
	data := fs.String("data", defaultDataDir(), "directory of the cloud's state (database and blocks)")
	grace := fs.Duration("gc-grace", time.Hour, "keep unreferenced blocks younger than this")
	if ok, err := parseCommandFlags("serve gc", fs, args); !ok {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"serve gc", fmt.Errorf("serve gc takes no arguments (%q)", fs.Arg(0))}
	}
	log, err := logs.logger()
	if err != nil {
		return err
	}
	defer log.Sync()
	if _, err := os.Stat(filepath.Join(*data, "pithos.db")); err != nil {
		return fmt.Errorf("no local cloud in %s: %w", *data, err)
	}
	c, err := localcloud.Open(localcloud.Config{Dir: *data, Logger: log})
	if err != nil {
		return fmt.Errorf("%w (is pithosfs serve running on %s? it collects with --gc-interval)", err, *data)
	}
	defer c.Close()
	st, err := c.GC(context.Background(), *grace)
	if err != nil {
		return err
	}
	fmt.Printf("pithosfs serve gc: %d blocks scanned, %d removed (%d bytes freed), %d unreferenced kept (newer than %s)\n",
		st.Scanned, st.Removed, st.Freed, st.Kept, *grace)
	return nil
}
