// Package zapslog hands a zap logger to packages that log through log/slog.
// The block cache and the write-back journal must not import zap (zap's
// package pulls in net/http, and they know nothing of HTTP), so they take a
// *slog.Logger; the mount passes New(its zap logger) and their lines come out
// of zap's encoder like every other line. It knows nothing of what is
// logged.
package zapslog

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a slog logger writing to l's core under l's name.
func New(l *zap.Logger) *slog.Logger {
	return slog.New(&handler{core: l.Core(), name: l.Name()})
}

type handler struct {
	core   zapcore.Core
	name   string
	prefix string // open groups, "a.b."
	fields []zapcore.Field
}

func level(l slog.Level) zapcore.Level {
	switch {
	case l >= slog.LevelError:
		return zapcore.ErrorLevel
	case l >= slog.LevelWarn:
		return zapcore.WarnLevel
	case l >= slog.LevelInfo:
		return zapcore.InfoLevel
	default:
		return zapcore.DebugLevel
	}
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return h.core.Enabled(level(l)) }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	ent := zapcore.Entry{Level: level(r.Level), Time: r.Time, LoggerName: h.name, Message: r.Message}
	if r.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		ent.Caller = zapcore.NewEntryCaller(r.PC, f.File, f.Line, true)
	}
	ce := h.core.Check(ent, nil)
	if ce == nil {
		return nil
	}
	fields := make([]zapcore.Field, 0, len(h.fields)+r.NumAttrs())
	fields = append(fields, h.fields...)
	r.Attrs(func(a slog.Attr) bool {
		fields = appendAttr(fields, h.prefix, a)
		return true
	})
	ce.Write(fields...)
	return nil
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.fields = append([]zapcore.Field(nil), h.fields...)
	for _, a := range as {
		n.fields = appendAttr(n.fields, h.prefix, a)
	}
	return &n
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

// appendAttr converts one attribute as zap's own constructors would: an
// error value is zap.Error's field, a group flattens to dotted keys.
func appendAttr(fields []zapcore.Field, prefix string, a slog.Attr) []zapcore.Field {
	v := a.Value.Resolve()
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindGroup:
		p := prefix
		if a.Key != "" {
			p = key + "."
		}
		for _, g := range v.Group() {
			fields = appendAttr(fields, p, g)
		}
		return fields
	case slog.KindString:
		return append(fields, zap.String(key, v.String()))
	case slog.KindInt64:
		return append(fields, zap.Int64(key, v.Int64()))
	case slog.KindUint64:
		return append(fields, zap.Uint64(key, v.Uint64()))
	case slog.KindFloat64:
		return append(fields, zap.Float64(key, v.Float64()))
	case slog.KindBool:
		return append(fields, zap.Bool(key, v.Bool()))
	case slog.KindDuration:
		return append(fields, zap.Duration(key, v.Duration()))
	case slog.KindTime:
		return append(fields, zap.Time(key, v.Time()))
	}
	if a.Key == "" {
		return fields
	}
	switch x := v.Any().(type) {
	case error:
		return append(fields, zap.NamedError(key, x))
	case time.Duration:
		return append(fields, zap.Duration(key, x))
	default:
		return append(fields, zap.Any(key, x))
	}
}
