package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// newLogger builds the daemon's logger: level and format as named, to
// stderr or appended to file, with every occurrence of each secret (the
// token) replaced by "REDACTED" in the encoded output — messages, fields
// and error texts alike — so a server that echoes a token in an error
// reply cannot put it in the log.
func newLogger(level, format, file string, secrets *secretSet) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	var enc zapcore.Encoder
	switch format {
	case "console":
		cfg := zap.NewDevelopmentEncoderConfig()
		enc = zapcore.NewConsoleEncoder(cfg)
	case "json":
		enc = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	default:
		return nil, fmt.Errorf("--log-format must be console or json, not %q", format)
	}
	var out zapcore.WriteSyncer = zapcore.Lock(os.Stderr)
	if file != "" {
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--log-file: %w", err)
		}
		out = zapcore.Lock(f)
	}
	return zap.New(zapcore.NewCore(newRedactingEncoder(enc, secrets), out, lvl), zap.ErrorOutput(out)), nil
}

// secretSet is the strings the log must never show; more can be added
// after the logger is built (the embedded cloud's token).
type secretSet struct {
	mu sync.Mutex
	s  []string
}

func (s *secretSet) add(secret string) {
	if len(secret) < 4 { // shorter strings would redact ordinary words
		return
	}
	s.mu.Lock()
	s.s = append(s.s, secret)
	s.mu.Unlock()
}

func (s *secretSet) list() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.s...)
}

// redactingEncoder post-processes each encoded entry.
type redactingEncoder struct {
	zapcore.Encoder
	secrets *secretSet
}

func newRedactingEncoder(enc zapcore.Encoder, secrets *secretSet) zapcore.Encoder {
	return &redactingEncoder{Encoder: enc, secrets: secrets}
}

func (r *redactingEncoder) Clone() zapcore.Encoder {
	return &redactingEncoder{Encoder: r.Encoder.Clone(), secrets: r.secrets}
}

func (r *redactingEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	buf, err := r.Encoder.EncodeEntry(ent, fields)
	secrets := r.secrets.list()
	if err != nil || len(secrets) == 0 {
		return buf, err
	}
	b := buf.Bytes()
	changed := false
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte("REDACTED"))
			changed = true
		}
	}
	if changed {
		buf.Reset() // b is a copy (ReplaceAll allocates)
		_, _ = buf.Write(b)
	}
	return buf, nil
}

// redact replaces each secret in s.
func redact(s string, secrets ...string) string {
	for _, x := range secrets {
		if len(x) >= 4 {
			s = strings.ReplaceAll(s, x, "REDACTED")
		}
	}
	return s
}

// redirectStdLog sends what the standard library logs through package log
// to the daemon's log at debug level (redacted, in its format, to
// --log-file) instead of raw to stderr, and returns the undo: net/http's
// client says "Unsolicited response received on idle HTTP channel" whenever
// Swift ends a HEAD's 204 with a chunk terminator it should not send (once
// per container HEAD), and the embedded cloud's http.Server logs handshake
// errors.
func redirectStdLog(log *zap.Logger) func() {
	undo, err := zap.RedirectStdLogAt(log.Named("stdlib"), zapcore.DebugLevel)
	if err != nil {
		return func() {}
	}
	return undo
}
