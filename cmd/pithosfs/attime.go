package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseAt reads the --at TIME of a time-travel mount: RFC 3339
// ("2026-12-01T15:00:00Z", fractions allowed), a Unix time in seconds
// ("1764601200"), or a time ago: a minus sign and a Go duration, with "d"
// for days ("-2h", "-90m", "-1d12h"). A time in the future is refused: the
// mount would show the present and then change under its readers.
func parseAt(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	var t time.Time
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("--at: empty time")
	case strings.HasPrefix(s, "-"):
		d, err := parseAgo(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("--at %q: %w", s, err)
		}
		t = now.Add(-d)
	case isDigits(s):
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("--at %q: %w", s, err)
		}
		t = time.Unix(sec, 0)
	default:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fmt.Errorf("--at %q: not RFC 3339 (2026-12-01T15:00:00Z), a Unix time or a time ago (-2h)", s)
		}
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("--at %q: %s is in the future", s, t.UTC().Format(time.RFC3339))
	}
	if t.Unix() <= 0 {
		return time.Time{}, fmt.Errorf("--at %q: before 1970", s)
	}
	return t, nil
}

// parseAgo is time.ParseDuration with "d" (24h) units in front.
func parseAgo(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("bad days %q", s[:i])
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a duration like 2h, 90m or 3d: %w", err)
	}
	if d < 0 {
		return 0, fmt.Errorf("a time ago is one minus sign and a duration")
	}
	return days + d, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
