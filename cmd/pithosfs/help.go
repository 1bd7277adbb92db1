package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// commandDoc is what `pithosfs help COMMAND` says before the flags: the synopsis, what the command does, and
// an example or two.
type commandDoc struct {
	synopsis string   // after "pithosfs NAME "
	about    string   // one paragraph
	examples []string // command lines
}

var docs = map[string]commandDoc{
	"mount": {
		synopsis: "[flags] [REMOTE] MOUNTPOINT",
		about: "Mounts a cloud's object storage at MOUNTPOINT (an empty directory) and serves it until unmounted.\n" +
			"REMOTE: nothing (the whole cloud: every container, plus servers/, images/… of the compute service),\n" +
			"/CONTAINER[/PREFIX], or pithos://ACCOUNT/CONTAINER[/PREFIX].\n" +
			"The cloud: --url/--token, else PITHOSFS_URL/PITHOSFS_TOKEN, else ~/.kamakirc; with none of them, the\n" +
			"embedded local cloud. Every flag is also a mount -o option (see docs/options.md).",
		examples: []string{
			"pithosfs mount ~/cloud                         # the cloud of ~/.kamakirc",
			"pithosfs mount --daemon /photos ~/photos       # one container, in the background",
			"pithosfs mount --url https://HOST/astakos/identity/v2.0 --token TOKEN ~/cloud",
			"pithosfs mount --ca-certs /etc/ssl/our-ca.pem ~/cloud   # a cloud with a private CA (or ca_certs in ~/.kamakirc)",
		},
	},
	"unmount": {
		synopsis: "[flags] MOUNTPOINT",
		about:    "Flushes the mount's pending writes, unmounts it and waits for its daemon to exit.",
		examples: []string{"pithosfs unmount ~/cloud"},
	},
	"serve": {
		synopsis: "[flags]",
		about: "Runs the local Synnefo-compatible cloud (identity, object store, compute, image, network, volume) on\n" +
			"one machine, with its data in one directory; prints its identity URL and users' tokens.",
		examples: []string{
			"pithosfs serve --listen 127.0.0.1:8080",
			"pithosfs mount --url http://127.0.0.1:8080/astakos/identity/v2.0 --token TOKEN ~/cloud",
			"pithosfs serve --tls-self-signed               # HTTPS; mount with the --ca-certs it prints",
			"pithosfs serve --gc-interval 1h                # also remove unreferenced blocks every hour",
		},
	},
	"serve gc": {
		synopsis: "[flags]",
		about: "Removes the blocks no object version or volume references from a local cloud's data directory that\n" +
			"no server is using (a running server collects with serve --gc-interval).",
		examples: []string{"pithosfs serve gc --data ~/.local/share/pithosfs/local --gc-grace 0s"},
	},
	"status": {
		synopsis: "",
		about: "Lists this machine's pithosfs mounts (those of this user): mountpoint, daemon pid, remote, pending\n" +
			"uploads and cache size (read from each mount's pid file and its .pithosfs/ files).",
		examples: []string{"pithosfs status"},
	},
	"version": {
		about:    "Prints the version: the module version and the VCS revision it was built from.",
		examples: []string{"pithosfs version"},
	},
	"help": {
		synopsis: "[COMMAND]",
		about:    "Lists the commands, or says what COMMAND does, with an example, and lists its flags.",
		examples: []string{"pithosfs help mount"},
	},
}

// writeCommandHelp prints NAME's synopsis, what it does, its examples and, when fl is not nil, its flags.
func writeCommandHelp(w io.Writer, name string, fl *pflag.FlagSet) {
	d := docs[name]
	fmt.Fprintf(w, "usage: pithosfs %s %s\n\n%s\n", name, d.synopsis, d.about)
	if len(d.examples) > 0 {
		fmt.Fprintf(w, "\nExample:\n")
		for _, e := range d.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if fl != nil && fl.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fl.FlagUsages())
	}
}

// usageError is a mistake in a command line: main prints the error, then the short usage.
type usageError struct {
	command string
	err     error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// shortUsage is printed after a usage error: the synopsis and where the rest is.
func shortUsage(w io.Writer, name string) {
	fmt.Fprintf(w, "usage: pithosfs %s %s\n", name, docs[name].synopsis)
	fmt.Fprintf(w, "Run 'pithosfs help %s' for what it does, an example and its flags.\n", name)
}

// usage lists the commands.
func usage(w io.Writer) {
	fmt.Fprintf(w, "pithosfs mounts Synnefo (Pithos+) and OpenStack Swift object storage as a filesystem, and serves a\n"+
		"local Synnefo-compatible cloud.\n\n"+
		"usage: pithosfs [--log-level LEVEL] [--log-format console|json] COMMAND [ARGS]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'pithosfs help COMMAND' (or 'pithosfs COMMAND --help') for what a command does, an example and its flags.\n")
}

// runHelp is `pithosfs help [COMMAND]`.
func runHelp(args []string, lo logOptions) error {
	switch len(args) {
	case 0:
		usage(os.Stdout)
		return nil
	case 1:
	default:
		return &usageError{"help", errors.New("help takes at most one COMMAND")}
	}
	for _, c := range commands() {
		if c.name == args[0] && c.name != "help" {
			return c.run([]string{"--help"}, lo)
		}
	}
	if args[0] == "help" {
		writeCommandHelp(os.Stdout, "help", nil)
		return nil
	}
	return &usageError{"help", fmt.Errorf("unknown command %q (one of: %s)", args[0], strings.Join(commandNames(), ", "))}
}

func commandNames() []string {
	var out []string
	for _, c := range commands() {
		out = append(out, c.name)
	}
	return out
}

// parseCommandFlags parses a command's flags with help wired in: -h/--help prints the command's help to
// stdout (ok is false then: the caller returns nil); a bad flag is a usageError, which main prints once,
// followed by the short usage.
func parseCommandFlags(name string, fl *pflag.FlagSet, args []string) (ok bool, err error) {
	fl.SetOutput(io.Discard) // pflag's own messages
	fl.Usage = func() {}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			writeCommandHelp(os.Stdout, name, fl)
			return false, nil
		}
		return false, &usageError{name, err}
	}
	return true, nil
}
