// Command pithosfs mounts Synnefo (Pithos+) object storage as a filesystem
// and serves a local Synnefo-compatible cloud. It only wires the packages
// together: flags, configuration, logging and subcommands.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name, summary string
	run           func(args []string, log logOptions) error
}

func commands() []command {
	return []command{
		{"mount", "mount a cloud's storage: pithosfs mount [REMOTE] MOUNTPOINT", runMount},
		{"unmount", "flush pending writes and unmount: pithosfs unmount MOUNTPOINT", runUnmount},
		{"serve", "run the local Synnefo-compatible cloud", runServe},
		{"version", "print the version", func([]string, logOptions) error { fmt.Println("pithosfs", version); return nil }},
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: pithosfs [--log-level LEVEL] [--log-format console|json] COMMAND [ARGS]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'pithosfs COMMAND --help' for a command's flags.\n")
}

// logOptions are the global logging flags.
type logOptions struct {
	Level  string
	Format string
}

func (o logOptions) register(fs *pflag.FlagSet) *logOptions {
	fs.StringVar(&o.Level, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.Format, "log-format", "console", "log format: console or json")
	return &o
}

func (o logOptions) logger() (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(o.Level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	var cfg zap.Config
	switch o.Format {
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
	case "json":
		cfg = zap.NewProductionConfig()
	default:
		return nil, fmt.Errorf("--log-format must be console or json, not %q", o.Format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.OutputPaths = []string{"stderr"}
	return cfg.Build()
}

func main() {
	if isMountHelper(os.Args[0]) {
		if err := runMountHelper(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "mount.pithosfs:", err)
			os.Exit(32) // mount(8)'s "mount failure"
		}
		return
	}
	global := pflag.NewFlagSet("pithosfs", pflag.ContinueOnError)
	global.SetInterspersed(false)
	global.Usage = usage
	logs := logOptions{}.register(global)
	if err := global.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	args := global.Args()
	if len(args) == 0 {
		usage()
		os.Exit(2)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(args[1:], *logs); err != nil {
				fmt.Fprintln(os.Stderr, "pithosfs:", err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "pithosfs: unknown command %q\n", args[0])
	usage()
	os.Exit(2)
}
