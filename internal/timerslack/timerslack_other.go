//go:build !linux

package timerslack

import "time"

// Reexec does nothing where there is no per-thread timer slack to set.
func Reexec(slack time.Duration) error { return nil }

// Current is 0 where there is no per-thread timer slack.
func Current() (time.Duration, error) { return 0, nil }
