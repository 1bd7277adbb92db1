package main

// Errors a newcomer can act on: each mistake found before mounting, said in one line with what to do.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"

	"go.uber.org/zap"

	pfs "github.com/pithosfs/pithosfs/fs"
	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/metrics"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// errNoFuse is the error when FUSE's mount helper is missing.
var errNoFuse = errors.New("fusermount3 not found: install fuse3 (apt-get install fuse3)")

// checkFuse finds fusermount3 (or fusermount) where go-fuse looks for it: on PATH, then in /bin; and /dev/fuse.
func checkFuse() error {
	found := false
	for _, name := range []string{"fusermount3", "fusermount"} {
		if _, err := exec.LookPath(name); err == nil {
			found = true
			break
		}
		if fi, err := os.Stat("/bin/" + name); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			found = true
			break
		}
	}
	if !found {
		return errNoFuse
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("/dev/fuse is missing (%v): load the fuse module (modprobe fuse), or in a container give it /dev/fuse", err)
	}
	return nil
}

// noteLocalFallback resolves the cloud the way the mount will, before a --daemon forks: a configuration
// error is returned here, on the terminal, and the fallback to the embedded local cloud is said here too
// (the daemon's own notice goes to its log).
func noteLocalFallback(o *mountOptions) error {
	if o.Local {
		return nil
	}
	_, found, err := resolveCloud(cloudFlags{URL: o.URL, Token: o.Token, Cloud: o.Cloud, User: o.User,
		KamakircGiven: o.Kamakirc != defaultKamakirc()}, os.Getenv, o.Kamakirc)
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprintf(os.Stderr, "pithosfs: %s: using the embedded local cloud with data in %s\n", noCloudConfigured, o.LocalData)
	}
	return nil
}

// noCloudConfigured is why the embedded local cloud is used.
const noCloudConfigured = "no cloud configured (--url/--token, PITHOSFS_URL/PITHOSFS_TOKEN, ~/.kamakirc)"

// wellKnownIdentityPaths are where Synnefo's identity service usually is below a base URL.
var wellKnownIdentityPaths = []string{"/astakos/identity/v2.0", "/identity/v2.0"}

// checkURL says what is wrong with an identity URL that cannot work: no scheme, no host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if !strings.Contains(raw, "://") {
			return fmt.Errorf("URL %q has no scheme: write it as https://%s (or http:// for a local server)", raw, raw)
		}
		if err != nil {
			return fmt.Errorf("URL %q: %w", raw, err)
		}
		return fmt.Errorf("URL %q has no host", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: the scheme must be http or https, not %s", raw, u.Scheme)
	}
	return nil
}

// identityCandidates are the identity URLs to try for a URL that answered 404: each well-known path below
// the URL, then below its host's root.
func identityCandidates(raw string) []string {
	var out []string
	bases := []string{strings.TrimRight(raw, "/")}
	if u, err := url.Parse(raw); err == nil && strings.Trim(u.Path, "/") != "" {
		bases = append(bases, u.Scheme+"://"+u.Host)
	}
	for _, b := range bases {
		for _, p := range wellKnownIdentityPaths {
			if !strings.HasSuffix(b, p) && b+p != bases[0] && !slices.Contains(out, b+p) {
				out = append(out, b+p)
			}
		}
	}
	return out
}

// loginWithHints logs in like login, turning the usual first mistakes into one line each: a URL without a
// scheme; an unreachable server (one attempt, no retry warnings); a base URL without the identity path
// (the well-known paths are tried, and the one that worked is said). It returns the cloud it logged in to
// with its object-store client and identity service (nil on plain Swift).
func loginWithHints(ctx context.Context, cloud cloudConfig, opts synnefo.Options, cfg *pfs.Config) (cloudConfig, *pithos.Client, control.Identity, error) {
	if err := checkURL(cloud.URL); err != nil {
		return cloud, nil, nil, err
	}
	quiet := opts
	quiet.MaxRetries = -1
	quiet.Logger = zap.NewNop()
	probe := pfs.Config{}
	qctx := metrics.Quiet(ctx)
	_, _, err := login(qctx, cloud, quiet, &probe)
	if err != nil && !cloud.swift() && errors.Is(err, fault.ErrNotFound) {
		for _, u := range identityCandidates(cloud.URL) {
			try := cloud
			try.URL = u
			if _, _, lerr := login(qctx, try, quiet, &probe); lerr == nil {
				fmt.Fprintf(os.Stderr, "pithosfs: %s is not an identity URL (HTTP 404); %s is: using it (put it in --url or the kamakirc to skip this)\n", cloud.URL, try.URL)
				cloud, err = try, nil
				break
			}
		}
		if err != nil {
			return cloud, nil, nil, fmt.Errorf("%w (an identity URL usually ends in %s; tried those too)", err, strings.Join(wellKnownIdentityPaths, " or "))
		}
	}
	if err != nil {
		return cloud, nil, nil, err
	}
	c, id, err := login(ctx, cloud, opts, cfg)
	return cloud, c, id, err
}

// checkRemoteContainer fails when the REMOTE names a container that does not exist, instead of mounting an
// empty directory that then answers "No such file or directory".
func checkRemoteContainer(ctx context.Context, c *pithos.Client, r pfs.Remote) error {
	if r.Container == "" {
		return nil
	}
	if r.Account != "" {
		c = c.WithAccount(r.Account)
	}
	if _, err := c.ContainerInfo(ctx, r.Container); errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("container %q does not exist (create it first, e.g. mkdir in a mount of the whole cloud)", r.Container)
	}
	return nil
}

// alreadyMounted fails when mp is a live pithosfs mount, naming its daemon's pid when a pid file has it.
func alreadyMounted(mp string) error {
	mounts, err := pithosfsMounts("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	if _, ok := mounts[mp]; !ok {
		return nil
	}
	pid := ""
	if info, ok := pidFiles(runtimeDir(os.Getenv))[mp]; ok {
		pid = fmt.Sprintf(" (pid %d)", info.PID)
	}
	return fmt.Errorf("%s is already mounted%s; unmount it first: pithosfs unmount %s", mp, pid, mp)
}

// loginFailure is a login error in one line that still unwraps to the client's error (its HTTP status).
type loginFailure struct {
	msg string
	err error
}

func (e *loginFailure) Error() string { return e.msg }
func (e *loginFailure) Unwrap() error { return e.err }

// unreachable is the one line for a server that could not be reached: the URL and the transport's reason
// (connection refused, no such host, timeout), without the request dump.
func unreachable(url string, err error) error {
	reason := err.Error()
	var ne *net.OpError
	var de *net.DNSError
	switch {
	case errors.As(err, &de):
		reason = "no such host " + de.Name
	case errors.As(err, &ne) && ne.Err != nil:
		reason = ne.Err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		reason = "timed out"
	}
	return &loginFailure{fmt.Sprintf("cannot reach %s: %s", url, reason), err}
}
