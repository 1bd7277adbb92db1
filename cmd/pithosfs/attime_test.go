package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseAt(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{in: "2026-12-01T14:00:00Z", want: now.Add(-time.Hour)},
		{in: "2026-12-01T16:00:00+02:00", want: now.Add(-time.Hour)},
		{in: "2026-12-01T14:59:59.5Z", want: now.Add(-500 * time.Millisecond)},
		{in: "1796133600", want: now.Add(-time.Hour)},
		{in: "-2h", want: now.Add(-2 * time.Hour)},
		{in: "-90m", want: now.Add(-90 * time.Minute)},
		{in: "-3d", want: now.Add(-72 * time.Hour)},
		{in: "-1d12h", want: now.Add(-36 * time.Hour)},
		{in: " -1s ", want: now.Add(-time.Second)},
		{in: "", err: "empty"},
		{in: "2h", err: "not RFC 3339"},
		{in: "--2h", err: "one minus sign"},
		{in: "-xd", err: "bad days"},
		{in: "-2 hours", err: "not a duration"},
		{in: "yesterday", err: "not RFC 3339"},
		{in: "2026-12-01 14:00", err: "not RFC 3339"},
		{in: "2027-01-01T00:00:00Z", err: "in the future"},
		{in: "0", err: "before 1970"},
	} {
		got, err := parseAt(tc.in, now)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseAt(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseAt(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
