package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/synnefo/kamakirc"
)

// cloudConfig is where a mount's cloud is and how to log in.
type cloudConfig struct {
	URL    string // Astakos identity URL, or a Swift v1.0 auth URL
	Token  string // the token (Swift: the key)
	User   string // Swift v1.0 auth user ("account:user"); "" for Synnefo
	Source string // where the settings came from, for messages
	Cloud  string // the kamakirc cloud section it came from; "" for flags and environment
}

// swift reports whether the URL is a Swift v1.0 auth endpoint.
func (c cloudConfig) swift() bool {
	return c.User != "" || strings.HasSuffix(strings.TrimRight(c.URL, "/"), "/auth/v1.0")
}

// cloudFlags are the command-line settings of resolveCloud.
type cloudFlags struct {
	URL, Token, Cloud, User string
	// KamakircGiven: the kamakirc path was chosen (--kamakirc): it must then exist and name a cloud.
	KamakircGiven bool
}

// resolveCloud picks the cloud, first match wins: flags, then the
// environment (PITHOSFS_URL, PITHOSFS_TOKEN, PITHOSFS_USER), then
// the kamaki configuration file at path, normally ~/.kamakirc (the --cloud
// or default_cloud section). found is false when none applies: the caller
// then starts the embedded local cloud.
func resolveCloud(f cloudFlags, getenv func(string) string, path string) (cfg cloudConfig, found bool, err error) {
	if f.URL != "" || f.Token != "" {
		if f.URL == "" || f.Token == "" {
			return cfg, false, errors.New("--url and --token go together")
		}
		return cloudConfig{URL: f.URL, Token: f.Token, User: f.User, Source: "command line"}, true, nil
	}
	if u, t := getenv("PITHOSFS_URL"), getenv("PITHOSFS_TOKEN"); u != "" || t != "" {
		if u == "" || t == "" {
			return cfg, false, errors.New("PITHOSFS_URL and PITHOSFS_TOKEN go together")
		}
		user := f.User
		if user == "" {
			user = getenv("PITHOSFS_USER")
		}
		return cloudConfig{URL: u, Token: t, User: user, Source: "environment"}, true, nil
	}
	rc, err := kamakirc.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		if f.Cloud != "" {
			return cfg, false, fmt.Errorf("--cloud %s: %s does not exist", f.Cloud, path)
		}
		if f.KamakircGiven {
			return cfg, false, fmt.Errorf("--kamakirc %s does not exist", path)
		}
		return cfg, false, nil
	}
	if err != nil {
		return cfg, false, err
	}
	name := f.Cloud
	if name == "" {
		name = rc.Global["default_cloud"]
	}
	if name == "" {
		switch len(rc.Clouds) {
		case 0:
			if f.KamakircGiven {
				return cfg, false, fmt.Errorf("%s has no [cloud \"NAME\"] section", path)
			}
			return cfg, false, nil
		case 1:
		default:
			return cfg, false, fmt.Errorf("%s has %d clouds and no default_cloud in [global]: choose one with --cloud NAME", path, len(rc.Clouds))
		}
		for n := range rc.Clouds {
			name = n
		}
	}
	c, ok := rc.Clouds[name]
	if !ok || c["url"] == "" || c["token"] == "" {
		return cfg, false, fmt.Errorf("%s: cloud %q needs url and token", path, name)
	}
	return cloudConfig{URL: c["url"], Token: c["token"], User: f.User, Source: fmt.Sprintf("%s (cloud %q)", path, name), Cloud: name}, true, nil
}

// parseSize reads a byte count with an optional K, M, G or T suffix (powers
// of 1024; "KiB"/"KB" forms accepted).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q (e.g. 256MiB, 10G)", s)
	}
	return int64(v * float64(mult)), nil
}

// remoteSpec is a parsed REMOTE argument.
type remoteSpec struct {
	Account   string // "" = the user's own; may be a user name
	Container string
	Prefix    string
}

// parseRemote reads "", "/CONTAINER[/PREFIX]" or "pithos://ACCOUNT/CONTAINER[/PREFIX]".
// An fstab spec "pithos:/CONTAINER[/PREFIX]" is "/CONTAINER[/PREFIX]", and
// "pithos", "pithos:" or "pithosfs" the whole cloud.
func parseRemote(s string) (remoteSpec, error) {
	var r remoteSpec
	switch {
	case s == "pithos" || s == "pithos:" || s == "pithosfs":
		return r, nil
	case strings.HasPrefix(s, "pithos:/") && !strings.HasPrefix(s, "pithos://"):
		s = strings.TrimPrefix(s, "pithos:")
	}
	switch {
	case s == "":
		return r, nil
	case strings.HasPrefix(s, "pithos://"):
		rest := strings.TrimPrefix(s, "pithos://")
		acct, path, _ := strings.Cut(rest, "/")
		if acct == "" {
			return r, fmt.Errorf("remote %q: no account (pithos://ACCOUNT/CONTAINER[/PREFIX])", s)
		}
		r.Account = acct
		s = "/" + path
		if path == "" {
			return r, nil
		}
	case !strings.HasPrefix(s, "/"):
		return r, fmt.Errorf("remote %q: use /CONTAINER[/PREFIX] or pithos://ACCOUNT/CONTAINER[/PREFIX]", s)
	}
	c, p, _ := strings.Cut(strings.TrimPrefix(s, "/"), "/")
	r.Container, r.Prefix = c, strings.Trim(p, "/")
	if r.Container == "" && r.Prefix != "" {
		return r, fmt.Errorf("remote %q: empty container name", s)
	}
	return r, nil
}
