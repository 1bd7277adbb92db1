package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// runUnmount asks the mount daemon at MOUNTPOINT to flush its pending
// writes and unmount (SIGTERM to the pid in its pid file), waits for it to
// exit and reports how it ended. Without a pid file it falls back to
// fusermount3 -u, which cannot wait for a flush.
func runUnmount(args []string, _ logOptions) error {
	fl := pflag.NewFlagSet("unmount", pflag.ContinueOnError)
	pidFile := fl.String("pid-file", "", "the mount's pid file (default: the one pithosfs mount uses for MOUNTPOINT)")
	timeout := fl.Duration("timeout", 30*time.Minute, "how long to wait for pending writes to reach the server")
	if ok, err := parseCommandFlags("unmount", fl, args); !ok {
		return err
	}
	if fl.NArg() != 1 {
		return &usageError{"unmount", errors.New("unmount needs one MOUNTPOINT")}
	}
	mp, err := filepath.Abs(fl.Arg(0))
	if err != nil {
		return err
	}
	if *pidFile == "" {
		*pidFile = defaultPidFile(mp)
	}
	return unmountAndWait(mp, *pidFile, *timeout)
}

func unmountAndWait(mp, pidFile string, timeout time.Duration) error {
	info, err := readPidFile(pidFile)
	if err == nil && info.Mountpoint == mp && isPithosfs(info.PID) {
		fmt.Fprintf(os.Stderr, "pithosfs: asking the mount daemon (pid %d) to flush and unmount %s\n", info.PID, mp)
		_ = os.Remove(resultFile(pidFile))
		if err := syscall.Kill(info.PID, syscall.SIGTERM); err != nil {
			return fmt.Errorf("signalling pid %d: %w", info.PID, err)
		}
		deadline := time.Now().Add(timeout)
		next := time.Now().Add(10 * time.Second)
		for isPithosfs(info.PID) {
			if time.Now().After(deadline) {
				return fmt.Errorf("the mount daemon (pid %d) is still flushing after %s; it keeps going, pending writes stay in its journal", info.PID, timeout)
			}
			if time.Now().After(next) {
				fmt.Fprintf(os.Stderr, "pithosfs: still waiting for pid %d to commit its pending writes…\n", info.PID)
				next = time.Now().Add(10 * time.Second)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if mounted, _ := isMounted(mp); mounted {
			return fmt.Errorf("the mount daemon exited but %s is still mounted", mp)
		}
		res, err := os.ReadFile(resultFile(pidFile))
		_ = os.Remove(resultFile(pidFile))
		switch r := strings.TrimSpace(string(res)); {
		case err != nil:
			return fmt.Errorf("the mount daemon exited without reporting its result (%v)", err)
		case r != "ok":
			return errors.New(strings.TrimPrefix(r, "error: "))
		}
		fmt.Fprintf(os.Stderr, "pithosfs: %s unmounted, every write committed\n", mp)
		return nil
	}
	mounted, merr := isMounted(mp)
	if merr != nil {
		return merr
	}
	if !mounted {
		return fmt.Errorf("%s is not mounted", mp)
	}
	fmt.Fprintf(os.Stderr, "pithosfs: no running daemon recorded for %s (%s); unmounting with fusermount3 -u without waiting for its flush\n", mp, pidFile)
	if out, err := exec.Command("fusermount3", "-u", mp).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot unmount %s: %s", mp, busyReason(mp, fmt.Errorf("%w: %s", err, out)))
	}
	return nil
}

// isPithosfs reports whether pid is alive and runs a pithosfs binary (a
// recycled pid belongs to something else).
func isPithosfs(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// A zombie (exited, not yet reaped by its parent) is gone for us.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	argv0, _, _ := strings.Cut(string(data), "\x00")
	return strings.Contains(filepath.Base(argv0), "pithosfs")
}

// isMounted reports whether mp is a mount point in /proc/self/mountinfo.
func isMounted(mp string) (bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == mp {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
