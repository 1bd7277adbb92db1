package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pithosfs/pithosfs/cache"
)

// mountOptions are the settings of one mount, filled from the option table
// by command-line flags or mount -o options.
type mountOptions struct {
	URL, Token, Cloud, User, Kamakirc string
	Local                             bool
	LocalData                         string

	IOTimeout time.Duration // a request (or a commit) without progress for this long fails

	CACerts     string // extra CA bundle for the cloud's TLS certificates
	Insecure    bool   // do not verify TLS certificates
	insecureSet bool   // --insecure was given (true or false): it overrides ~/.kamakirc's ignore_ssl

	CacheDir, CacheMem, CacheSize string
	Readahead                     int
	Passthrough                   bool

	AttrTTL, ListTTL   time.Duration
	AsyncCloseMax      string
	ReadOnly           bool
	At                 string // --at: mount the store as it was then (attime.go)
	AllowOther         bool
	AllowDeleteServers bool
	AllowDeleteVolumes bool
	NoControl          bool

	Daemon, Foreground bool
	PidFile, LogFile   string

	MetricsAddr        string
	MetricsAllowRemote bool
	LogLevel           string
	LogFormat          string
	DebugFuse          bool
}

// option is one row of the table that generates the mount flags, the
// mount -o names (the same, "_" also accepted for "-") and docs/options.md.
type option struct {
	Name    string
	Group   string
	Help    string
	Default string // the flag's default, as a flag value
	// DocDefault replaces Default in the docs when the default depends on
	// the environment (directories).
	DocDefault string
	// Size marks a string option holding a byte count (256MiB, 10G).
	Size bool
	// Field is where the value goes: *string, *bool, *int or *time.Duration.
	Field func(*mountOptions) any
}

const (
	groupCloud = "Cloud and login"
	groupCache = "Cache"
	groupFS    = "Filesystem"
	groupRun   = "Running"
	groupObs   = "Logs and metrics"
)

var optionGroups = []string{groupCloud, groupCache, groupFS, groupRun, groupObs}

// optionTable is every mount option. Keep docs/options.md in step with
// `go test ./cmd/pithosfs -run TestOptionsDoc -update`.
func optionTable() []option {
	return []option{
		{Name: "url", Group: groupCloud, Help: "Astakos identity URL (or a Swift v1.0 auth URL ending in /auth/v1.0); with --token, overrides the environment and ~/.kamakirc",
			Field: func(o *mountOptions) any { return &o.URL }},
		{Name: "token", Group: groupCloud, Help: "user token (Swift v1.0: the key); visible to other users in ps, prefer PITHOSFS_TOKEN or ~/.kamakirc",
			Field: func(o *mountOptions) any { return &o.Token }},
		{Name: "cloud", Group: groupCloud, Help: "cloud name in ~/.kamakirc (default: its default_cloud)",
			Field: func(o *mountOptions) any { return &o.Cloud }},
		{Name: "user", Group: groupCloud, Help: "Swift v1.0 auth user (account:user)",
			Field: func(o *mountOptions) any { return &o.User }},
		{Name: "kamakirc", Group: groupCloud, Help: "kamaki configuration file to read clouds from", Default: defaultKamakirc(), DocDefault: "~/.kamakirc",
			Field: func(o *mountOptions) any { return &o.Kamakirc }},
		{Name: "ca-certs", Group: groupCloud, Help: "CA certificates (PEM) trusted beside the system's (SSL_CERT_FILE, SSL_CERT_DIR), for a cloud with a private CA; overrides ca_certs of ~/.kamakirc",
			Field: func(o *mountOptions) any { return &o.CACerts }},
		{Name: "insecure", Group: groupCloud, Help: "do not verify the cloud's TLS certificates (test clouds only; logged as a warning at every mount); overrides ignore_ssl of ~/.kamakirc", Default: "false",
			Field: func(o *mountOptions) any { return &o.Insecure }},
		{Name: "local", Group: groupCloud, Help: "mount the embedded local cloud even when a cloud is configured", Default: "false",
			Field: func(o *mountOptions) any { return &o.Local }},
		{Name: "local-data", Group: groupCloud, Help: "data directory of the embedded local cloud", Default: defaultDataDir(), DocDefault: "$XDG_DATA_HOME/pithosfs/local",
			Field: func(o *mountOptions) any { return &o.LocalData }},
		{Name: "io-timeout", Group: groupCloud, Help: "a request that makes no progress (no bytes moving, no reply) for this long fails: a read gets EIO, and a commit in close()/fsync() gets EIO with its data kept in the journal and committed when the server is back; 0 disables it", Default: "60s",
			Field: func(o *mountOptions) any { return &o.IOTimeout }},

		{Name: "cache-dir", Group: groupCache, Help: "block cache, write journal and temporary files (kept across mounts)", Default: defaultCacheDir(), DocDefault: "$XDG_CACHE_HOME/pithosfs",
			Field: func(o *mountOptions) any { return &o.CacheDir }},
		{Name: "cache-mem", Group: groupCache, Help: "memory budget: the ceiling for everything the daemon holds (cached blocks, readahead, blocks waiting for the disk cache, dirty blocks, listings, READ replies); a plain mount stays within about this + 40 MiB (many parallel readers and writers go past it). More helps many parallel readers and writers", Default: "96MiB", Size: true,
			Field: func(o *mountOptions) any { return &o.CacheMem }},
		{Name: "passthrough", Group: groupCache, Help: "a file read whole is assembled in the disk cache, and later read-only opens let the kernel read that file directly (FUSE passthrough: Linux ≥ 6.9, mount as root); false, or a kernel without it, serves those reads through the daemon from the same file", Default: "true",
			Field: func(o *mountOptions) any { return &o.Passthrough }},
		{Name: "cache-size", Group: groupCache, Help: "disk cache size (least recently used blocks are evicted)", Default: "10GiB", Size: true,
			Field: func(o *mountOptions) any { return &o.CacheSize }},
		{Name: "readahead", Group: groupCache, Help: "largest readahead window, in blocks (fetched in parallel ahead of a sequential reader; a distant server needs them, on a LAN or loopback 3 reads as fast with ~50 MiB less memory)", Default: strconv.Itoa(cache.DefaultReadaheadBlocks),
			Field: func(o *mountOptions) any { return &o.Readahead }},

		{Name: "attr-ttl", Group: groupFS, Help: "how long the kernel caches attributes, entries and negative lookups", Default: "1s",
			Field: func(o *mountOptions) any { return &o.AttrTTL }},
		{Name: "list-ttl", Group: groupFS, Help: "how long a directory listing answers lookups and readdirs", Default: "5s",
			Field: func(o *mountOptions) any { return &o.ListTTL }},
		{Name: "async-close-max", Group: groupFS, Help: "close() of a new file of at most this size returns once the file is in the local journal (a daemon crash loses nothing), before its upload, which runs in the background (16 at a time; errors go to the log and uploads/failed/; fsync() still waits for the server); 0: close() returns once the file is on the server", Default: "0", Size: true,
			Field: func(o *mountOptions) any { return &o.AsyncCloseMax }},
		{Name: "read-only", Group: groupFS, Help: "refuse writes (EROFS); mount -o ro sets it", Default: "false",
			Field: func(o *mountOptions) any { return &o.ReadOnly }},
		{Name: "at", Group: groupFS, Help: "mount read-only the account, container or prefix as it was at TIME (Pithos+ only): RFC 3339 (2026-12-01T15:00:00Z), a Unix time (1796137200), or a time ago (-2h, -90m, -3d); listings and reads show the versions current then, writes fail with EROFS",
			Field: func(o *mountOptions) any { return &o.At }},
		{Name: "allow-other", Group: groupFS, Help: "let other users access the mount (with default_permissions; non-root needs user_allow_other in /etc/fuse.conf)", Default: "false",
			Field: func(o *mountOptions) any { return &o.AllowOther }},
		{Name: "allow-delete-servers", Group: groupFS, Help: "let rm servers/NAME.json delete the server (otherwise EPERM)", Default: "false",
			Field: func(o *mountOptions) any { return &o.AllowDeleteServers }},
		{Name: "allow-delete-volumes", Group: groupFS, Help: "let rm volumes/NAME.json and snapshots/NAME.json delete the volume or the snapshot (otherwise EPERM)", Default: "false",
			Field: func(o *mountOptions) any { return &o.AllowDeleteVolumes }},
		{Name: "no-control", Group: groupFS, Help: "do not show servers/, images/, flavors/, networks/, volumes/ and snapshots/ at the root", Default: "false",
			Field: func(o *mountOptions) any { return &o.NoControl }},

		{Name: "daemon", Group: groupRun, Help: "run in the background: return once the mount answers, or fail with the reason (mount.pithosfs: default true)", Default: "false",
			Field: func(o *mountOptions) any { return &o.Daemon }},
		{Name: "foreground", Group: groupRun, Help: "stay in the foreground (overrides --daemon and mount.pithosfs' default)", Default: "false",
			Field: func(o *mountOptions) any { return &o.Foreground }},
		{Name: "pid-file", Group: groupRun, Help: "where the mount records its pid for pithosfs unmount", DocDefault: "/run/pithosfs/<hash>.pid (root), else $XDG_RUNTIME_DIR/pithosfs/ or /tmp/pithosfs-UID/",
			Field: func(o *mountOptions) any { return &o.PidFile }},
		{Name: "log-file", Group: groupRun, Help: "append logs to this file (default: stderr; with --daemon, CACHE-DIR/pithosfs.log)",
			Field: func(o *mountOptions) any { return &o.LogFile }},

		{Name: "metrics-addr", Group: groupObs, Help: "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464); off when empty",
			Field: func(o *mountOptions) any { return &o.MetricsAddr }},
		{Name: "metrics-allow-remote", Group: groupObs, Help: "allow --metrics-addr on a non-loopback address", Default: "false",
			Field: func(o *mountOptions) any { return &o.MetricsAllowRemote }},
		{Name: "log-level", Group: groupObs, Help: "log level: debug (every HTTP request), info, warn, error", Default: "info",
			Field: func(o *mountOptions) any { return &o.LogLevel }},
		{Name: "log-format", Group: groupObs, Help: "log format: console or json", Default: "console",
			Field: func(o *mountOptions) any { return &o.LogFormat }},
		{Name: "debug-fuse", Group: groupObs, Help: "log every FUSE request", Default: "false",
			Field: func(o *mountOptions) any { return &o.DebugFuse }},
	}
}

func defaultKamakirc() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = "/root"
		if os.Getuid() != 0 {
			return ".kamakirc"
		}
	}
	return filepath.Join(home, ".kamakirc")
}

// registerOptions adds one flag per option, bound to o's fields.
func registerOptions(fl *pflag.FlagSet, o *mountOptions) {
	for _, opt := range optionTable() {
		switch p := opt.Field(o).(type) {
		case *string:
			fl.StringVar(p, opt.Name, opt.Default, opt.Help)
		case *bool:
			b, _ := strconv.ParseBool(opt.Default)
			fl.BoolVar(p, opt.Name, b, opt.Help)
		case *int:
			n, _ := strconv.Atoi(opt.Default)
			fl.IntVar(p, opt.Name, n, opt.Help)
		case *time.Duration:
			d, _ := time.ParseDuration(opt.Default)
			fl.DurationVar(p, opt.Name, d, opt.Help)
		default:
			panic(fmt.Sprintf("option %s: unsupported field type %T", opt.Name, p))
		}
	}
}

// ignoredMountOptions are mount(8)/fstab options that mean nothing to a
// FUSE daemon (they are for mount itself, the kernel or systemd).
var ignoredMountOptions = map[string]bool{
	"rw": true, "defaults": true, "_netdev": true, "netdev": true, "auto": true, "noauto": true, "user": true, "users": true,
	"nouser": true, "owner": true, "group": true, "nofail": true, "exec": true, "noexec": true, "suid": true, "nosuid": true,
	"dev": true, "nodev": true, "async": true, "sync": true, "atime": true, "noatime": true, "relatime": true,
	"norelatime": true, "strictatime": true, "diratime": true, "nodiratime": true, "lazytime": true, "nolazytime": true,
	"silent": true, "loud": true, "dirsync": true, "default_permissions": true,
}

// applyMountOpts sets the flags named in a mount -o list
// ("cloud=NAME,allow_other,ro,_netdev"): an option's name with "_" or "-",
// a bare name sets a boolean to true; "ro" is read-only; mount(8)'s own
// options (rw, _netdev, noauto, user, …, x-*, comment=…) are ignored.
func applyMountOpts(fl *pflag.FlagSet, list string) error {
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, hasVal := strings.Cut(item, "=")
		if (ignoredMountOptions[name] && !(hasVal && fl.Lookup(name) != nil)) || // user=ACCOUNT:USER is ours
			strings.HasPrefix(name, "x-") || name == "comment" || name == "helper" {
			continue
		}
		if name == "ro" {
			name, val, hasVal = "read-only", "true", true
		}
		flagName := strings.ReplaceAll(name, "_", "-")
		f := fl.Lookup(flagName)
		if f == nil {
			return fmt.Errorf("unknown mount option %q (see pithosfs mount --help; mount(8) options like rw, _netdev, noauto are ignored)", name)
		}
		if !hasVal {
			if f.Value.Type() != "bool" {
				return fmt.Errorf("mount option %s needs a value (%s=…)", name, name)
			}
			val = "true"
		}
		if err := fl.Set(flagName, val); err != nil {
			return fmt.Errorf("mount option %s: %w", name, err)
		}
	}
	return nil
}

// optionsMarkdown renders the option table as docs/options.md.
func optionsMarkdown() string {
	var b strings.Builder
	b.WriteString("# Mount options\n\n<!-- Generated from cmd/pithosfs/options.go by `go test ./cmd/pithosfs -run TestOptionsDoc -update`; do not edit. -->\n\n")
	b.WriteString("Every option is a flag of `pithosfs mount` (`--name=value`) and a `-o` option of `mount.pithosfs` and\n" +
		"`/etc/fstab` (`name=value`; `_` may replace `-`; a bare name sets a boolean). `-o ro` means `read-only`; mount(8)'s own\n" +
		"options (`rw`, `defaults`, `_netdev`, `auto`, `noauto`, `user`, `users`, `nofail`, `exec`, `suid`, `dev`, `atime` and\n" +
		"their `no` forms, `x-systemd.*`, `comment=`) are accepted and ignored.\n")
	byGroup := map[string][]option{}
	for _, o := range optionTable() {
		byGroup[o.Group] = append(byGroup[o.Group], o)
	}
	var probe mountOptions
	for _, g := range optionGroups {
		fmt.Fprintf(&b, "\n## %s\n\n| flag | `-o` | type | default | meaning |\n| --- | --- | --- | --- | --- |\n", g)
		for _, o := range byGroup[g] {
			typ := "string"
			switch o.Field(&probe).(type) {
			case *bool:
				typ = "bool"
			case *int:
				typ = "int"
			case *time.Duration:
				typ = "duration"
			}
			if o.Size {
				typ = "size"
			}
			def := o.Default
			if o.DocDefault != "" {
				def = o.DocDefault
			}
			if def == "" {
				def = "—"
			} else {
				def = "`" + def + "`"
			}
			oName := o.Name
			if typ != "bool" {
				oName += "=…"
			}
			fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s | %s |\n", o.Name, oName, typ, def, strings.ReplaceAll(o.Help, "|", "\\|"))
		}
	}
	return b.String()
}
