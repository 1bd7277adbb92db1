package fs

import (
	"log"
	"strings"

	"go.uber.org/zap"
)

// fuseLogger is go-fuse's log sink: its lines go to zap. A failed splice
// attempt (go-fuse falls back to a plain write, so nothing is lost) is a
// debug line; so are the request traces of --debug-fuse, which are shown at
// info level when that option asks for them. Everything else (a failed
// write to /dev/fuse, a bad request) is a warning.
func fuseLogger(l *zap.Logger, debug bool) *log.Logger {
	return log.New(fuseLogWriter{log: l, debug: debug}, "", 0)
}

type fuseLogWriter struct {
	log   *zap.Logger
	debug bool
}

func (w fuseLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	switch {
	case strings.HasPrefix(msg, "trySplice:"):
		w.log.Debug(msg)
	case w.debug:
		w.log.Info(msg)
	default:
		w.log.Warn(msg)
	}
	return len(p), nil
}
