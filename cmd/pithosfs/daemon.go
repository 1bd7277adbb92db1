package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// The daemon child finds its status pipe and the token in its environment
// (never on its command line, which every user can read).
const (
	envDaemonFD    = "PITHOSFS_DAEMON_FD"
	envDaemonToken = "PITHOSFS_DAEMON_TOKEN"
)

// startDaemon re-executes this binary as `pithosfs mount` with the flags
// that were set (the token through the environment), in a new session with
// stdin on /dev/null and stdout/stderr appended to logFile, and an
// inherited pipe on which the child writes "ready" or "error: REASON". It
// returns when the child has answered: nil once the mount is ready, else
// the child's reason (or how it died).
func startDaemon(fl *pflag.FlagSet, mountArgs []string, logFile string, timeout time.Duration) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	args := []string{"mount"}
	var token string
	fl.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "daemon", "foreground":
		case "token":
			token = f.Value.String()
		default:
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	args = append(args, "--foreground", "--")
	args = append(args, mountArgs...)

	if err := os.MkdirAll(filepath.Dir(logFile), 0o700); err != nil {
		return fmt.Errorf("daemon: log file: %w", err)
	}
	logf, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("daemon: log file: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.Env = append(os.Environ(), envDaemonFD+"=3")
	if token != "" {
		cmd.Env = append(cmd.Env, envDaemonToken+"="+token)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("daemon: starting %s: %w", exe, err)
	}
	w.Close()

	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		got <- answer{strings.TrimSpace(line), err}
	}()
	var a answer
	select {
	case a = <-got:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("the mount was not ready after %s (see %s); stopped it", timeout, logFile)
	}
	switch {
	case a.line == "ready":
		_ = cmd.Process.Release()
		return nil
	case strings.HasPrefix(a.line, "error: "):
		_ = cmd.Wait()
		return errors.New(strings.TrimPrefix(a.line, "error: "))
	}
	werr := cmd.Wait()
	return fmt.Errorf("the mount daemon exited before the mount was ready (%v); last lines of %s:\n%s", werr, logFile, tail(logFile, 5))
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// readiness tells whoever waits for the mount that it is ready or why it
// failed: the parent of a --daemon child (an inherited pipe) and systemd
// (sd_notify on $NOTIFY_SOCKET).
type readiness struct {
	pipe *os.File
}

func newReadiness(getenv func(string) string) *readiness {
	r := &readiness{}
	if fd, err := strconv.Atoi(getenv(envDaemonFD)); err == nil && fd > 2 {
		r.pipe = os.NewFile(uintptr(fd), "daemon-status")
	}
	return r
}

// daemonChild reports whether this process is a --daemon child.
func (r *readiness) daemonChild() bool { return r.pipe != nil }

func (r *readiness) ready(status string) {
	if r.pipe != nil {
		_, _ = io.WriteString(r.pipe, "ready\n")
		r.pipe.Close()
		r.pipe = nil
	}
	_ = sdNotify(os.Getenv("NOTIFY_SOCKET"), fmt.Sprintf("READY=1\nMAINPID=%d\nSTATUS=%s", os.Getpid(), status))
}

func (r *readiness) fail(err error) {
	if r.pipe != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		_, _ = io.WriteString(r.pipe, "error: "+msg+"\n")
		r.pipe.Close()
		r.pipe = nil
	}
}

func (r *readiness) stopping() {
	_ = sdNotify(os.Getenv("NOTIFY_SOCKET"), "STOPPING=1")
}

// sdNotify sends state to systemd's notification socket (a datagram to
// a unix socket; "@" starts an abstract address). No socket: nothing.
func sdNotify(socket, state string) error {
	if socket == "" {
		return nil
	}
	if socket[0] == '@' {
		socket = "\x00" + socket[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// runtimeDir is where pid files go: /run/pithosfs for root, else
// $XDG_RUNTIME_DIR/pithosfs, else $TMPDIR/pithosfs-UID.
func runtimeDir(getenv func(string) string) string {
	if os.Getuid() == 0 {
		return "/run/pithosfs"
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "pithosfs")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("pithosfs-%d", os.Getuid()))
}

// defaultPidFile is the pid file of the mount at mountpoint (absolute).
func defaultPidFile(mountpoint string) string {
	h := sha256.Sum256([]byte(mountpoint))
	return filepath.Join(runtimeDir(os.Getenv), hex.EncodeToString(h[:8])+".pid")
}

// pidInfo is a pid file's content: "PID\nMOUNTPOINT\nREMOTE\n" (REMOTE, for pithosfs status, may be absent).
type pidInfo struct {
	PID        int
	Mountpoint string
	Remote     string
}

// writePidFile writes the pid file of this process's mount of remote at mountpoint, and clears the results
// that ended mounts left in its directory.
func writePidFile(path, mountpoint, remote string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	cleanStaleResults(filepath.Dir(path), time.Hour)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n%s\n%s\n", os.Getpid(), mountpoint, remote)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readPidFile(path string) (pidInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return pidInfo{}, err
	}
	lines := strings.SplitN(string(data), "\n", 4)
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || len(lines) < 2 {
		return pidInfo{}, fmt.Errorf("%s: not a pid file", path)
	}
	info := pidInfo{PID: pid, Mountpoint: strings.TrimSpace(lines[1])}
	if len(lines) > 2 {
		info.Remote = strings.TrimSpace(lines[2])
	}
	return info, nil
}

// resultFile is where a mount leaves how it ended for pithosfs unmount.
func resultFile(pidFile string) string { return pidFile + ".result" }
