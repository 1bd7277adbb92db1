package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/cache"
	pfs "github.com/pithosfs/pithosfs/fs"
	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/internal/timerslack"
	"github.com/pithosfs/pithosfs/internal/zapslog"
	"github.com/pithosfs/pithosfs/metrics"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/image"
	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

func defaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "pithosfs")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "pithosfs")
	}
	return ".pithosfs-cache"
}

func runMount(args []string, lo logOptions) error {
	fl := pflag.NewFlagSet("mount", pflag.ContinueOnError)
	var o mountOptions
	registerOptions(fl, &o)
	o.LogLevel, o.LogFormat = lo.Level, lo.Format // the global flags, unless set here
	if ok, err := parseCommandFlags("mount", fl, args); !ok {
		return err
	}
	var remoteArg, mountpoint string
	switch fl.NArg() {
	case 1:
		mountpoint = fl.Arg(0)
	case 2:
		remoteArg, mountpoint = fl.Arg(0), fl.Arg(1)
	case 0:
		return &usageError{"mount", errors.New("mount needs a MOUNTPOINT")}
	default:
		return &usageError{"mount", fmt.Errorf("mount takes [REMOTE] MOUNTPOINT, not %d arguments", fl.NArg())}
	}
	return mountWith(fl, &o, remoteArg, mountpoint)
}

// daemonTimerSlack is the kernel timer slack of the mount daemon's threads:
// go-fuse's blocking reads of /dev/fuse keep the Go runtime's sysmon waking
// every 20 µs, and 1 ms of slack lets the kernel batch those wake-ups (half
// the task switches, 15–30 % less daemon CPU per GiB written; comparison.md,
// "Session 9 — write9"). PITHOSFS_TIMER_SLACK=off keeps the default.
const daemonTimerSlack = time.Millisecond

// mountWith mounts (in the foreground, or as a --daemon child) or starts
// the daemon and waits for it. Errors never carry the token.
func mountWith(fl *pflag.FlagSet, o *mountOptions, remoteArg, mountpoint string) error {
	// Before anything is done that a re-exec would repeat: the daemon's
	// threads get a 1 ms timer slack (internal/timerslack; returns only when
	// it could not, and the mount goes on with the kernel's default).
	if err := timerslack.Reexec(daemonTimerSlack); err != nil {
		fmt.Fprintln(os.Stderr, "pithosfs: warning:", err)
	}
	rd := newReadiness(os.Getenv)
	if err := checkFuse(); err != nil {
		return err
	}
	if rd.daemonChild() {
		if t := os.Getenv(envDaemonToken); t != "" {
			o.Token = t
		}
		os.Unsetenv(envDaemonToken)
		os.Unsetenv(envDaemonFD)
	}
	token := o.Token
	o.insecureSet = fl.Changed("insecure")
	if o.Daemon && !o.Foreground && !rd.daemonChild() {
		// Check what can be checked here, so that plain mistakes are
		// reported without a round trip through the daemon's log.
		if _, err := parseRemote(remoteArg); err != nil {
			return err
		}
		mp, err := checkMountpoint(mountpoint)
		if err != nil {
			return err
		}
		if err := noteLocalFallback(o); err != nil {
			return err
		}
		if err := warnInsecureBeforeDaemon(o); err != nil {
			return err
		}
		logFile := o.LogFile
		if logFile == "" {
			logFile = filepath.Join(o.CacheDir, "pithosfs.log")
		}
		margs := []string{mp}
		if remoteArg != "" {
			margs = []string{remoteArg, mp}
		}
		if err := startDaemon(fl, margs, logFile, 5*time.Minute); err != nil {
			return errors.New(redact(err.Error(), token))
		}
		fmt.Fprintf(os.Stderr, "pithosfs: mounted at %s (in the background; log in %s); unmount with: pithosfs unmount %s\n", mp, logFile, mp)
		return nil
	}
	err := serveMount(o, remoteArg, mountpoint, rd)
	if err != nil {
		err = errors.New(redact(err.Error(), token, o.Token))
		rd.fail(err)
	}
	return err
}

// serveMount mounts and serves until the mount ends (unmount, signal).
func serveMount(o *mountOptions, remoteArg, mountpoint string, rd *readiness) (err error) {
	remote, err := parseRemote(remoteArg)
	if err != nil {
		return err
	}
	lim, err := parseMountLimits(o)
	if err != nil {
		return err
	}
	if o.MetricsAddr != "" {
		if err := metrics.CheckAddr(o.MetricsAddr, o.MetricsAllowRemote); err != nil {
			return err
		}
	}
	var cloud cloudConfig
	found := false
	if !o.Local {
		cf := cloudFlags{URL: o.URL, Token: o.Token, Cloud: o.Cloud, User: o.User, KamakircGiven: o.Kamakirc != defaultKamakirc()}
		if cloud, found, err = resolveCloud(cf, os.Getenv, o.Kamakirc); err != nil {
			return err
		}
	}
	tlsSet, err := resolveTLS(o, cloud, found, os.Getenv)
	if err != nil {
		return err
	}
	secrets := &secretSet{}
	secrets.add(cloud.Token)
	log, err := newLogger(o.LogLevel, o.LogFormat, o.LogFile, secrets)
	if err != nil {
		return err
	}
	defer log.Sync()
	defer redirectStdLog(log)()
	startPprof(log)
	setMemoryLimit(lim.mem)
	if mountpoint, err = checkMountpoint(mountpoint); err != nil {
		return err
	}
	if !found {
		srv, err := startEmbeddedCloud(o, log, secrets)
		if err != nil {
			return err
		}
		defer srv.Close()
		cloud = cloudConfig{URL: srv.IdentityURL(), Token: o.Token, Source: "embedded local cloud"}
	}

	met := metrics.New(log.Named("http"))
	stats := pfs.NewStats(met.Tally())
	tlsConf, err := tlsSet.config(log)
	if err != nil {
		return err
	}
	opts := synnefo.Options{HTTPClient: newHTTPClient(tlsConf, met), Logger: log.Named("http"), IOTimeout: o.IOTimeout}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := pfs.Config{AttrTTL: o.AttrTTL, ListTTL: o.ListTTL, Readahead: o.Readahead, NoPassthrough: !o.Passthrough, Logger: log, Stats: stats, AllowOther: o.AllowOther,
		IOTimeout: o.IOTimeout}
	cfg.AsyncCloseMax = lim.asyncClose
	var identity control.Identity
	if cloud, identity, err = connect(ctx, cloud, remote, lim, opts, met, log, &cfg); err != nil {
		return tlsSet.trustError(err)
	}
	bc, err := cache.Open(cache.Config{MemBytes: lim.mem, Dir: o.CacheDir, DiskBytes: lim.disk, Logger: zapslog.New(log.Named("cache"))})
	if err != nil {
		return err
	}
	defer bc.Close()
	cfg.Cache = bc
	cfg.ReadOnly = o.ReadOnly
	if !o.ReadOnly {
		cfg.JournalDir = filepath.Join(o.CacheDir, "journal")
	}
	if identity != nil && !o.NoControl && cfg.Remote == (pfs.Remote{}) {
		if cfg.Control, err = controlConfig(ctx, o, identity, opts, log, mountpoint, cfg); err != nil {
			return tlsSet.trustError(fmt.Errorf("cloud %s: %w", cloud.URL, err))
		}
	}
	var mounted atomic.Pointer[pfs.Mounted]
	registerMountMetrics(met, bc, &mounted)
	if o.MetricsAddr != "" {
		ms, err := metrics.Serve(o.MetricsAddr, o.MetricsAllowRemote, met)
		if err != nil {
			return err
		}
		defer ms.Close()
		log.Info("serving metrics", zap.String("url", "http://"+ms.Addr().String()+"/metrics"))
	}
	return mountAndServe(o, cfg, cloud, mountpoint, remoteArg, &mounted, rd, log, secrets)
}

// mountAndServe mounts, publishes the mount (pid file, readiness), serves
// it until it is unmounted, and leaves its result beside the pid file.
func mountAndServe(o *mountOptions, cfg pfs.Config, cloud cloudConfig, mountpoint, remoteArg string, mounted *atomic.Pointer[pfs.Mounted], rd *readiness, log *zap.Logger, secrets *secretSet) (err error) {
	// Signals are caught before the mount exists and before READY=1 or the
	// pid file can prompt anyone to send one: a SIGTERM then always
	// flushes and unmounts, never kills the daemon with writes pending.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	mnt, err := pfs.Mount(mountpoint, cfg, "pithos:"+cfg.Client.AccountID(), o.DebugFuse)
	if err != nil {
		return err
	}
	defer mnt.Close()
	mounted.Store(mnt)
	if _, err := os.Stat(mountpoint); err != nil {
		unmount(mnt.Server, mountpoint, nil, log)
		return fmt.Errorf("the mount at %s does not answer: %w", mountpoint, err)
	}
	pidFile := o.PidFile
	if pidFile == "" {
		pidFile = defaultPidFile(mountpoint)
	}
	if err := writePidFile(pidFile, mountpoint, strings.TrimSpace(cloud.URL+" "+remoteArg)); err != nil {
		log.Warn("cannot write the pid file; pithosfs unmount will not find this mount", zap.String("pid_file", pidFile), zap.Error(err))
	} else {
		defer func() { leavePidFile(pidFile, err, secrets) }()
	}
	fmt.Fprintf(os.Stderr, "pithosfs: mounted %s (%s) at %s; unmount with Ctrl-C or: pithosfs unmount %s\n",
		cloud.URL, cloud.Source, mountpoint, mountpoint)
	rd.ready("mounted " + mountpoint)
	return serveUntilUnmounted(mnt, mountpoint, sigs, rd, log)
}

// serveUntilUnmounted waits for the mount to end, by an unmount from
// outside or a signal (then it unmounts), and flushes every pending write
// before it returns; a second signal stops the flush.
func serveUntilUnmounted(mnt *pfs.Mounted, mountpoint string, sigs chan os.Signal, rd *readiness, log *zap.Logger) error {
	srv := mnt.Server
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	select {
	case <-done:
		rd.stopping()
		fmt.Fprintf(os.Stderr, "pithosfs: %s was unmounted\n", mountpoint)
		fctx, stop := stopOnSignal(sigs, mnt)
		defer stop()
		return flushAll(fctx, mnt)
	case s := <-sigs:
		rd.stopping()
		fmt.Fprintf(os.Stderr, "pithosfs: %s: unmounting %s\n", s, mountpoint)
	}
	fctx, stop := stopOnSignal(sigs, mnt)
	defer stop()
	ferr := flushAll(fctx, mnt)
	unmount(srv, mountpoint, done, log)
	if err := flushAll(fctx, mnt); err != nil { // writes that raced with the unmount
		return err
	}
	return ferr
}

// stopOnSignal returns the context of the final flush: a further signal
// ends it, and the commits not done by then stay in the journal, written
// durably, for the next mount to complete (a second Ctrl-C exits promptly
// even when the server is unreachable, and loses nothing).
func stopOnSignal(sigs <-chan os.Signal, mnt *pfs.Mounted) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "pithosfs: %s: stopping the commits; what is not on the server yet stays in the journal and is committed at the next mount\n", s)
			mnt.StopCommits()
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// mountPathResolver maps a path inside this mount (absolute, under
// mountpoint: MOUNTPOINT/ACCOUNT/CONTAINER/PATH, the account by user name or
// uuid) to an image location, for "location" in images/NAME.json.
func mountPathResolver(mountpoint string, cfg pfs.Config) func(string) (image.Location, bool) {
	return func(p string) (image.Location, bool) {
		rel, ok := strings.CutPrefix(filepath.Clean(p), mountpoint+"/")
		if !ok {
			return image.Location{}, false
		}
		parts := strings.SplitN(rel, "/", 3)
		if len(parts) != 3 || parts[2] == "" {
			return image.Location{}, false
		}
		acct := parts[0]
		if acct == cfg.UserName {
			acct = cfg.Client.AccountID()
		} else if cfg.Names != nil && acct != cfg.Client.AccountID() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if m, err := cfg.Names.NamesToUUIDs(ctx, []string{acct}); err == nil && m[acct] != "" {
				acct = m[acct]
			}
		}
		return image.Location{Account: acct, Container: parts[1], Path: parts[2]}, true
	}
}

// flushAll commits every pending write, printing progress for large files,
// until ctx ends (see stopOnSignal).
func flushAll(ctx context.Context, mnt *pfs.Mounted) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	err := mnt.FlushAll(ctx, func(p writeback.FlushProgress) {
		switch {
		case p.Done && p.Err != nil:
			fmt.Fprintf(os.Stderr, "pithosfs: commit of %s/%s failed (kept in the journal for the next mount): %v\n", p.Container, p.Name, p.Err)
		case p.Done:
			if p.Size >= 64<<20 {
				fmt.Fprintf(os.Stderr, "pithosfs: committed %s/%s\n", p.Container, p.Name)
			}
		case p.BlocksUploaded == 0:
			fmt.Fprintf(os.Stderr, "pithosfs: committing %s/%s (%d/%d, %d bytes)\n", p.Container, p.Name, p.File, p.Files, p.Size)
		case p.BlocksUploaded%16 == 0:
			fmt.Fprintf(os.Stderr, "pithosfs:   %s: %d blocks, %d MiB uploaded\n", p.Name, p.BlocksUploaded, p.BytesUploaded>>20)
		}
	})
	if err != nil {
		return fmt.Errorf("some writes are not committed yet (they stay in the journal and are completed at the next mount): %w", err)
	}
	return nil
}

// unmount unmounts cleanly, retrying while the mount is busy; after 10 s a
// lazy unmount detaches it (it goes away when the last user leaves).
func unmount(srv interface{ Unmount() error }, mountpoint string, done <-chan struct{}, log *zap.Logger) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := srv.Unmount()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "pithosfs: %s is busy (%s); detaching it lazily: it goes away when the last process using it leaves\n", mountpoint, busyReason(mountpoint, err))
			if out, err := exec.Command("fusermount3", "-u", "-z", mountpoint).CombinedOutput(); err != nil {
				log.Warn("lazy unmount failed", zap.String("mountpoint", mountpoint), zap.ByteString("output", out), zap.Error(err))
			}
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		log.Warn("the FUSE server did not stop in 30s", zap.String("mountpoint", mountpoint))
	}
}

// checkMountpoint returns mountpoint's absolute path after checking it is
// an existing empty directory; a stale FUSE mount there (its daemon died:
// "transport endpoint is not connected") is detached first.
func checkMountpoint(mp string) (string, error) {
	abs, err := filepath.Abs(mp)
	if err != nil {
		return "", err
	}
	// Stat may be answered from the kernel's attribute cache; reading the
	// directory reaches the (dead) daemon.
	_, err = os.Stat(abs)
	if err == nil {
		_, err = os.ReadDir(abs)
	}
	if errors.Is(err, syscall.ENOTCONN) {
		fmt.Fprintf(os.Stderr, "pithosfs: %s holds a stale mount (transport endpoint is not connected); clearing it\n", abs)
		if uerr := syscall.Unmount(abs, syscall.MNT_DETACH); uerr != nil {
			if out, err := exec.Command("fusermount3", "-u", "-z", abs).CombinedOutput(); err != nil {
				return "", fmt.Errorf("mountpoint %s: cannot clear the stale mount: %v: %s", abs, err, out)
			}
		}
		_, err = os.Stat(abs)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("mountpoint %s does not exist (create it with mkdir -p)", abs)
	case err != nil:
		return "", fmt.Errorf("mountpoint %s: %w", abs, err)
	}
	if err := alreadyMounted(abs); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("mountpoint %s: %w", abs, err)
	}
	if len(entries) > 0 {
		return "", fmt.Errorf("mountpoint %s is not empty (%d entries, e.g. %q); mount on an empty directory", abs, len(entries), entries[0].Name())
	}
	return abs, nil
}

// mountLimits are the mount's size and time options, parsed.
type mountLimits struct {
	mem, disk, asyncClose int64     // --cache-mem, --cache-size, --async-close-max
	at                    time.Time // --at; zero: the present
}

// parseMountLimits parses the sizes and --at; a time-travel mount is made
// read-only without control trees (it writes nothing).
func parseMountLimits(o *mountOptions) (mountLimits, error) {
	var lim mountLimits
	var err error
	if o.At != "" {
		if lim.at, err = parseAt(o.At, time.Now()); err != nil {
			return lim, err
		}
		o.ReadOnly, o.NoControl = true, true
	}
	for _, sz := range []struct {
		flag, val string
		out       *int64
	}{{"--cache-mem", o.CacheMem, &lim.mem}, {"--cache-size", o.CacheSize, &lim.disk}, {"--async-close-max", o.AsyncCloseMax, &lim.asyncClose}} {
		if *sz.out, err = parseSize(sz.val); err != nil {
			return lim, fmt.Errorf("%s: %w", sz.flag, err)
		}
	}
	return lim, nil
}

// newHTTPClient is the one HTTP client of every service client: the
// mount's TLS settings, counted for the metrics and stats.json.
func newHTTPClient(tlsConf *tls.Config, met *metrics.Metrics) *http.Client {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, DialContext: synnefo.BodyDialer((&net.Dialer{Timeout: 10 * time.Second}).DialContext),
		MaxIdleConns: 128, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: 60 * time.Second,
		TLSClientConfig: tlsConf, TLSHandshakeTimeout: 10 * time.Second}
	return &http.Client{Transport: met.Transport(tr)}
}

// controlConfig is the configuration of the cloud control trees (servers/,
// images/, volumes/, ...) from the identity service's catalog.
func controlConfig(ctx context.Context, o *mountOptions, identity control.Identity, opts synnefo.Options, log *zap.Logger, mountpoint string, cfg pfs.Config) (*control.Config, error) {
	ctl, err := control.FromCatalog(ctx, identity, opts)
	if err != nil {
		return nil, err
	}
	ctl.AllowDeleteServers = o.AllowDeleteServers
	ctl.AllowDeleteVolumes = o.AllowDeleteVolumes
	ctl.TTL = o.AttrTTL
	ctl.TempDir = filepath.Join(o.CacheDir, "tmp")
	if err := os.MkdirAll(ctl.TempDir, 0o700); err != nil {
		return nil, err
	}
	ctl.Logger = log.Named("control")
	ctl.ResolvePath = mountPathResolver(mountpoint, cfg)
	return &ctl, nil
}

// memLimitOver is the Go runtime's memory limit's margin over the budget
// (setMemoryLimit). 32 MiB until session 11: the live heap under 16 writers
// and 16 readers then reached the limit (request buffers and early-upload
// read-backs charged up to 24 MiB past the budget), and the RSS sat at the
// limit + 14 MiB of text with peaks over it. With those within the budget
// the live heap's peaks are ~10 MB lower and 24 MiB is enough: the RSS
// sits ~8 MiB lower and the collector runs less often than it did at 32
// (docs/comparison.md, "Session 11 — mem11"). A smaller budget (80 MiB)
// under the same limit cut the collections 4–5× but slowed the cold read
// by 10 % ("Session 9 — mem9").
const memLimitOver = 24 << 20

// setMemoryLimit sets the Go runtime's soft memory limit from the cache
// budget, unless GOMEMLIMIT is set. Blocks are 4 MiB allocations: without
// a limit the garbage collector lets the heap grow to twice the cache
// budget before collecting, and the process's size follows this limit. The
// budget covers cached blocks, readahead, fetches, blocks queued for the
// disk cache, dirty blocks, read-backs of spilled blocks and go-fuse's
// READ and WRITE buffers (fs/reqmem.go: the budget keeps room for as many as
// were held at once in the last seconds, cache/budgetreq.go); beyond it live
// go-fuse's idle buffers (1 MiB per goroutine waiting for a request, and
// those its sync.Pools keep between collections), up to 2 free block
// buffers (cache.poolSlack), the commits' read-backs and over-budget loads
// charged past a full budget, and the rest of the process.
func setMemoryLimit(budget int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(budget + memLimitOver)
	}
}

// startEmbeddedCloud starts the local cloud `mount` uses when no cloud is
// configured (or with --local), as its first user, whose token it puts in
// o.Token and among the secrets the log redacts.
func startEmbeddedCloud(o *mountOptions, log *zap.Logger, secrets *secretSet) (*localcloud.Server, error) {
	srv, err := localcloud.Start(localcloud.Config{Dir: o.LocalData, Logger: log.Named("localcloud")})
	if err != nil {
		return nil, fmt.Errorf("starting the embedded local cloud: %w", err)
	}
	u := srv.Cloud.Users()[0]
	secrets.add(u.Token)
	o.Token = u.Token
	why := noCloudConfigured
	if o.Local {
		why = "--local"
	}
	fmt.Fprintf(os.Stderr, "pithosfs: %s: using the embedded local cloud with data in %s (user %s)\n", why, o.LocalData, u.Name)
	return srv, nil
}

// leavePidFile removes the pid file, leaving beside it the mount's result
// ("ok", or the error, redacted) for `pithosfs unmount` to report.
func leavePidFile(pidFile string, err error, secrets *secretSet) {
	result := "ok\n"
	if err != nil {
		result = "error: " + strings.ReplaceAll(redact(err.Error(), secrets.list()...), "\n", " ") + "\n"
	}
	_ = os.WriteFile(resultFile(pidFile), []byte(result), 0o600)
	_ = os.Remove(pidFile)
}
