// Command pithosfs mounts Synnefo (Pithos+) object storage as a filesystem
// and serves a local Synnefo-compatible cloud. It only wires the packages
// together: flags, configuration, logging and subcommands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type command struct {
	name, summary string
	run           func(args []string, log logOptions) error
}

func commands() []command {
	return []command{
		{"mount", "mount a cloud's storage: pithosfs mount [REMOTE] MOUNTPOINT", runMount},
		{"unmount", "flush pending writes and unmount: pithosfs unmount MOUNTPOINT", runUnmount},
		{"status", "list this machine's mounts: remote, pid, pending uploads, cache size", runStatus},
		{"serve", "run the local Synnefo-compatible cloud", runServe},
		{"version", "print the version and the revision it was built from", runVersion},
		{"help", "say what a command does: pithosfs help [COMMAND]", runHelp},
	}
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
	os.Exit(run(os.Args[1:]))
}

// run runs a command line and returns the exit code: 0, 1 when the command failed, 2 for a usage mistake.
func run(argv []string) int {
	global := pflag.NewFlagSet("pithosfs", pflag.ContinueOnError)
	global.SetInterspersed(false)
	global.SetOutput(io.Discard)
	global.Usage = func() {}
	logs := logOptions{}.register(global)
	if err := global.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			usage(os.Stdout)
			return 0
		}
		fmt.Fprintln(os.Stderr, "pithosfs:", err)
		usage(os.Stderr)
		return 2
	}
	args := global.Args()
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], *logs)
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ue):
			fmt.Fprintln(os.Stderr, "pithosfs:", err)
			shortUsage(os.Stderr, ue.command)
			return 2
		default:
			fmt.Fprintln(os.Stderr, "pithosfs:", err)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "pithosfs: unknown command %q\n", args[0])
	usage(os.Stderr)
	return 2
}
