package timerslack

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Reexec replaces the running program with itself (same executable,
// arguments and environment, plus Env), started from a thread whose timer
// slack is slack, so that every thread of the new image has it. It returns
// nil without doing anything when slack is not positive or Env is set; it
// returns only on failure otherwise (the program then goes on with the
// default slack). Call it before the program has any side effect it would
// repeat: nothing of the old image survives but its pid, its open
// descriptors that are not close-on-exec, and its environment.
func Reexec(slack time.Duration) error {
	if slack <= 0 {
		return nil
	}
	if _, set := os.LookupEnv(Env); set {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("timerslack: %w", err)
	}
	env := append(os.Environ(), Env+"="+strconv.FormatInt(slack.Nanoseconds(), 10))
	// The slack is a property of the thread: the exec must come from the
	// thread that was given it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack.Nanoseconds()), 0, 0, 0); err != nil {
		return fmt.Errorf("timerslack: prctl: %w", err)
	}
	err = syscall.Exec(exe, os.Args, env)
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0) // back to the default
	return fmt.Errorf("timerslack: re-executing %s: %w", exe, err)
}

// Current is the calling thread's timer slack.
func Current() (time.Duration, error) {
	n, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return 0, fmt.Errorf("timerslack: prctl: %w", err)
	}
	return time.Duration(n), nil
}
