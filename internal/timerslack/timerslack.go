// Package timerslack gives every thread of the process a larger kernel
// timer slack (prctl PR_SET_TIMERSLACK) by re-executing the program once
// from a thread that has it: a thread inherits its creator's slack, and the
// Go runtime starts its threads (sysmon first) before any code of ours
// runs, so setting it in-process would reach only the calling thread.
//
// Why (docs/design.md, "Session 9"): go-fuse's readers block in read(2) on
// /dev/fuse, so the runtime's sysmon keeps taking their Ps back and polls
// every 20 µs. Under the kernel's default 50 µs slack each of those sleeps
// is a wake-up and two task switches; on the VMs the benchmarks run on that
// was 14–22 % of the daemon's CPU during a large write. With 1 ms of slack
// the kernel may defer such wake-ups by up to that much: half the task
// switches, and 15–30 % less daemon CPU per GiB written. Timers of the
// daemon fire up to the slack late, which none of its timeouts (seconds)
// notices.
//
// It knows nothing of FUSE or of the mount; it is Linux-only (elsewhere
// Reexec does nothing).
package timerslack

// Env is the environment variable that marks a process (and its children)
// as already run with the slack: Reexec sets it to the slack it applied and
// does nothing when it is set, so setting it to anything (say "off") before
// starting the program keeps the kernel's default slack.
const Env = "PITHOSFS_TIMER_SLACK"
