package zapslog

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestFieldsAndLevels(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	log := New(zap.New(core).Named("cache"))
	log.Debug("hidden")
	boom := errors.New("boom")
	log.With("dir", "/c").WithGroup("blk").Warn("evict", "path", "/c/x", "n", 3, "in", time.Second, "error", boom)
	log.Error("bad", slog.Group("g", "ok", true))
	all := logs.AllUntimed()
	if len(all) != 2 {
		t.Fatalf("%d entries, want 2 (debug is below the core's level): %v", len(all), all)
	}
	e := all[0]
	if e.Level != zapcore.WarnLevel || e.LoggerName != "cache" || e.Message != "evict" {
		t.Fatalf("entry %+v", e.Entry)
	}
	m := e.ContextMap()
	want := map[string]any{"dir": "/c", "blk.path": "/c/x", "blk.n": int64(3), "blk.in": time.Second, "blk.error": "boom"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("field %s = %#v, want %#v (all: %v)", k, m[k], v, m)
		}
	}
	if all[1].Level != zapcore.ErrorLevel || all[1].ContextMap()["g.ok"] != true {
		t.Errorf("second entry %+v %v", all[1].Entry, all[1].ContextMap())
	}
}
