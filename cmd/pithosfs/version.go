package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// runVersion prints the version from the binary's build information: the module version ("(devel)" for a
// build from a work tree), the VCS revision, "(modified)" when the tree had uncommitted changes, the
// commit time and the Go version.
func runVersion(args []string, _ logOptions) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			writeCommandHelp(os.Stdout, "version", nil)
			return nil
		}
		return &usageError{"version", errors.New("version takes no arguments")}
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Println("pithosfs (no build information)")
		return nil
	}
	fmt.Println(versionLine(bi))
	return nil
}

// versionLine is e.g. "pithosfs v0.3.0 rev 5127b20c1e2f (modified) 2026-12-01T10:00:00Z go1.26.8".
func versionLine(bi *debug.BuildInfo) string {
	parts := []string{"pithosfs", bi.Main.Version}
	if bi.Main.Version == "" {
		parts[1] = "(unknown)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		parts = append(parts, "rev "+rev[:min(12, len(rev))])
		if settings["vcs.modified"] == "true" {
			parts = append(parts, "(modified)")
		}
		if t := settings["vcs.time"]; t != "" {
			parts = append(parts, t)
		}
	} else {
		parts = append(parts, "(no VCS revision: built outside a git work tree, or with -buildvcs=false)")
	}
	return strings.Join(append(parts, bi.GoVersion), " ")
}
