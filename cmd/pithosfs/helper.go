package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// isMountHelper reports whether the binary runs as mount(8)'s helper
// (mount.pithosfs, or mount.fuse.pithosfs for type fuse.pithosfs).
func isMountHelper(argv0 string) bool {
	b := filepath.Base(argv0)
	return b == "mount.pithosfs" || b == "mount.fuse.pithosfs"
}

// helperArgs is a parsed mount(8) helper command line:
// SPEC DIR [-sfnv] [-o OPTIONS] [-t TYPE] [-N NS] [--flag=value …].
type helperArgs struct {
	spec, dir string
	opts      []string // each -o list
	flags     []string // --long flags passed through
	fake      bool     // -f: check everything, mount nothing
}

func parseHelperArgs(args []string) (helperArgs, error) {
	var h helperArgs
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "-t" || a == "-N":
			if i+1 >= len(args) {
				return h, fmt.Errorf("%s needs a value", a)
			}
			if a == "-o" {
				h.opts = append(h.opts, args[i+1])
			} else if a == "-N" {
				return h, errors.New("-N (mount namespaces) is not supported")
			}
			i++
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			h.opts = append(h.opts, a[2:])
		case strings.HasPrefix(a, "--") && len(a) > 2:
			h.flags = append(h.flags, a)
		case len(a) > 1 && a[0] == '-':
			for _, c := range a[1:] {
				switch c {
				case 'f':
					h.fake = true
				case 's', 'n', 'v', 'w', 'r':
					if c == 'r' {
						h.opts = append(h.opts, "ro")
					}
				default:
					return h, fmt.Errorf("unknown option -%c", c)
				}
			}
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return h, errors.New("usage: mount.pithosfs REMOTE MOUNTPOINT [-o name=value,…] (fstab: pithos:/CONTAINER /mnt/x pithosfs _netdev,cloud=NAME 0 0)")
	}
	h.spec, h.dir = pos[0], pos[1]
	return h, nil
}

// runMountHelper is mount.pithosfs: mount(8) runs it for type pithosfs
// (fstab or mount -t pithosfs). It mounts in the background by default and
// returns once the mount answers, since mount(8) waits for it.
func runMountHelper(args []string) error {
	h, err := parseHelperArgs(args)
	if err != nil {
		return err
	}
	fl := pflag.NewFlagSet("mount.pithosfs", pflag.ContinueOnError)
	var o mountOptions
	registerOptions(fl, &o)
	if err := fl.Set("daemon", "true"); err != nil {
		return err
	}
	if err := fl.Parse(h.flags); err != nil {
		return err
	}
	for _, list := range h.opts {
		if err := applyMountOpts(fl, list); err != nil {
			return err
		}
	}
	if h.fake {
		if _, err := parseRemote(h.spec); err != nil {
			return err
		}
		_, err := checkMountpoint(h.dir)
		return err
	}
	remote := h.spec
	if r, err := parseRemote(remote); err != nil {
		return err
	} else if r == (remoteSpec{}) {
		remote = "" // the whole cloud
	}
	return mountWith(fl, &o, remote, h.dir)
}
