package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
)

// mountStatus is one line of `pithosfs status`.
type mountStatus struct {
	Mountpoint string
	PID        int    // 0: no pid file names this mount
	Remote     string // from the pid file; else the mount's source (pithos:ACCOUNT)
	Pending    int    // commits not on the server yet (.pithosfs/uploads.json); -1 unknown
	CacheBytes int64  // disk + memory tier (.pithosfs/stats.json); -1 unknown
	Note       string // why a figure is unknown
}

// runStatus lists this machine's pithosfs mounts: those in /proc/self/mountinfo (type fuse.pithosfs) and
// those the pid files of the runtime directory name.
func runStatus(args []string, _ logOptions) error {
	fl := pflag.NewFlagSet("status", pflag.ContinueOnError)
	if ok, err := parseCommandFlags("status", fl, args); !ok {
		return err
	}
	if fl.NArg() > 0 {
		return &usageError{"status", errors.New("status takes no arguments")}
	}
	mounts, err := pithosfsMounts("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	pids := pidFiles(runtimeDir(os.Getenv))
	var out []mountStatus
	for mp, source := range mounts {
		st := mountStatus{Mountpoint: mp, Remote: source}
		if info, ok := pids[mp]; ok {
			st.PID = info.PID
			if info.Remote != "" {
				st.Remote = info.Remote
			}
		}
		st.Pending, st.CacheBytes, st.Note = readControlFiles(mp, 3*time.Second)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mountpoint < out[j].Mountpoint })
	writeStatus(os.Stdout, out)
	return nil
}

func writeStatus(w io.Writer, ms []mountStatus) {
	if len(ms) == 0 {
		fmt.Fprintln(w, "no pithosfs mounts on this machine")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MOUNTPOINT\tPID\tREMOTE\tPENDING UPLOADS\tCACHE\tNOTE")
	for _, m := range ms {
		pid, pending, cache := "-", "?", "?"
		if m.PID > 0 {
			pid = strconv.Itoa(m.PID)
		}
		if m.Pending >= 0 {
			pending = strconv.Itoa(m.Pending)
		}
		if m.CacheBytes >= 0 {
			cache = humanBytes(m.CacheBytes)
		}
		note := m.Note
		if note == "" {
			note = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Mountpoint, pid, m.Remote, pending, cache, note)
	}
	tw.Flush()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n), []string{"KiB", "MiB", "GiB", "TiB"}
	i := -1
	for v >= unit && i < len(suffix)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, suffix[i])
}

// pithosfsMounts maps each mountpoint of type fuse.pithosfs in a mountinfo file to its source.
func pithosfsMounts(mountinfo string) (map[string]string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 2 || tail[0] != "fuse.pithosfs" {
			continue
		}
		out[unescapeMountinfo(fields[4])] = unescapeMountinfo(tail[1])
	}
	return out, sc.Err()
}

// pidFiles reads the pid files in dir whose daemon still runs, by mountpoint.
func pidFiles(dir string) map[string]pidInfo {
	out := map[string]pidInfo{}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, p := range paths {
		info, err := readPidFile(p)
		if err == nil && isPithosfs(info.PID) {
			out[info.Mountpoint] = info
		}
	}
	return out
}

// readControlFiles reads the mount's .pithosfs/uploads.json and stats.json, giving up after timeout (a
// mount whose daemon hangs must not hang status).
func readControlFiles(mp string, timeout time.Duration) (pending int, cacheBytes int64, note string) {
	type result struct {
		pending    int
		cacheBytes int64
		err        error
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan result, 1)
	go func() {
		var r result
		r.pending, r.cacheBytes = -1, -1
		var ups []json.RawMessage
		b, err := os.ReadFile(filepath.Join(mp, ".pithosfs", "uploads.json"))
		if err == nil {
			err = json.Unmarshal(b, &ups)
		}
		if err != nil {
			r.err = err
			ch <- r
			return
		}
		r.pending = len(ups)
		var st struct {
			Cache *struct {
				MemBytes  int64 `json:"mem_bytes"`
				DiskBytes int64 `json:"disk_bytes"`
			} `json:"cache"`
		}
		b, err = os.ReadFile(filepath.Join(mp, ".pithosfs", "stats.json"))
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err == nil && st.Cache != nil {
			r.cacheBytes = st.Cache.MemBytes + st.Cache.DiskBytes
		}
		r.err = err
		ch <- r
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.pending, r.cacheBytes, "cannot read .pithosfs/: " + oneLine(r.err)
		}
		return r.pending, r.cacheBytes, ""
	case <-ctx.Done():
		return -1, -1, fmt.Sprintf(".pithosfs/ did not answer in %s", timeout)
	}
}

// oneLine is err's text on one line (fusermount3's messages end in a newline, some wrap it in parentheses).
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	s = strings.ReplaceAll(s, "\n)", ")")
	return strings.Join(strings.Fields(s), " ")
}

// busyReason says in one line why an unmount failed: for EBUSY, what to do about it.
func busyReason(mp string, err error) string {
	if errors.Is(err, syscall.EBUSY) || strings.Contains(err.Error(), "busy") {
		return "a process has a file open or its working directory there; see: fuser -vm " + mp
	}
	return oneLine(err)
}

// cleanStaleResults removes the *.pid.result files in dir that no pid file goes with and that are older
// than maxAge: a mount that ended without `pithosfs unmount` waiting for it leaves its result behind.
func cleanStaleResults(dir string, maxAge time.Duration) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.pid.result"))
	for _, p := range paths {
		if _, err := os.Stat(strings.TrimSuffix(p, ".result")); err == nil {
			continue
		}
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > maxAge {
			_ = os.Remove(p)
		}
	}
}
