package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is a running mount.
type daemon struct {
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	log  *bytes.Buffer
}

func mounted(dir string) bool {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

func startDaemon(name string, args, env []string, dir string) (*daemon, error) {
	d := &daemon{cmd: exec.Command(name, args...), dir: dir, done: make(chan struct{}), log: &bytes.Buffer{}}
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for !mounted(dir) {
		select {
		case <-d.done:
			return nil, fmt.Errorf("%s exited before mounting:\n%s", name, d.log.String())
		default:
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("%s: not mounted after 60s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d, nil
}

// peakRSS is the daemon's VmHWM, in bytes.
func (d *daemon) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(120 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	if mounted(d.dir) {
		_ = exec.Command("fusermount3", "-u", "-z", d.dir).Run()
	}
}

// cpu is the daemon's user+system CPU time so far (/proc/PID/stat).
func (d *daemon) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
