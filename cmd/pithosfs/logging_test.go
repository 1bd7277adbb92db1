package main

import (
	stdlog "log"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStdLogRedirected: what package log prints (net/http's "Unsolicited
// response…") reaches the daemon's log at debug level, redacted, and not
// at all at the default levels.
func TestStdLogRedirected(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	secrets := &secretSet{}
	secrets.add(token)
	for _, tc := range []struct {
		level string
		want  bool
	}{{"debug", true}, {"info", false}, {"warn", false}} {
		file := filepath.Join(t.TempDir(), "log")
		log, err := newLogger(tc.level, "console", file, secrets)
		if err != nil {
			t.Fatal(err)
		}
		undo := redirectStdLog(log)
		stdlog.Printf("Unsolicited response received on idle HTTP channel; token %s", token)
		undo()
		_ = log.Sync()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(string(data), "Unsolicited response")
		if got != tc.want || strings.Contains(string(data), token) || (tc.want && !strings.Contains(string(data), "stdlib")) {
			t.Errorf("level %s: log %q, want the line: %v", tc.level, data, tc.want)
		}
	}
}
