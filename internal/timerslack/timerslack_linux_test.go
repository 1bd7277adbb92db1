package timerslack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helperEnv runs the test binary as the program Reexec re-executes.
const helperEnv = "TIMERSLACK_TEST_HELPER"

// TestMain is the helper's entry when helperEnv is set: it calls Reexec
// (which, the first time, replaces the process) and prints the timer slack
// of every thread of the process, the runtime's own (sysmon) included.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "" {
		os.Exit(m.Run())
	}
	if err := Reexec(time.Millisecond); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	tids, _ := os.ReadDir("/proc/self/task")
	var out []string
	for _, t := range tids {
		b, err := os.ReadFile(filepath.Join("/proc", t.Name(), "timerslack_ns"))
		if err != nil {
			out = append(out, "unreadable:"+err.Error())
			continue
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	os.Stdout.WriteString(os.Getenv(Env) + " " + strings.Join(out, " ") + "\n")
	os.Exit(0)
}

func runHelper(t *testing.T, env ...string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=1"}, env...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	return strings.Fields(string(out))
}

// Every thread of the re-executed process has the slack, not only the one
// that asked for it: without the re-exec, the runtime's threads keep the
// kernel's default (50 µs).
func TestReexecAllThreads(t *testing.T) {
	got := runHelper(t)
	if len(got) < 3 {
		t.Fatalf("helper printed %q, want the marker and at least two threads", got)
	}
	if got[0] != strconv.Itoa(int(time.Millisecond)) {
		t.Errorf("%s = %q, want %d", Env, got[0], time.Millisecond)
	}
	for i, s := range got[1:] {
		if s != "1000000" {
			t.Errorf("thread %d of %d has timer slack %s ns, want 1000000", i+1, len(got)-1, s)
		}
	}
}

// With Env already set nothing is re-executed and the slack stays the
// kernel's: the way to keep the default, and what stops a loop.
func TestReexecSkippedWhenMarked(t *testing.T) {
	got := runHelper(t, Env+"=off")
	if len(got) < 2 || got[0] != "off" {
		t.Fatalf("helper printed %q, want the marker off and the threads", got)
	}
	for _, s := range got[1:] {
		if s == "1000000" {
			t.Errorf("a thread has the 1 ms slack although %s was set: %q", Env, got)
		}
	}
}
