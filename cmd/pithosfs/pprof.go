package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"go.uber.org/zap"
)

// pprofEnv names a loopback address (e.g. 127.0.0.1:6060) on which a mount
// serves Go's profiling endpoints under /debug/pprof/. It is for measuring
// the daemon (make bench-mount), not a user-facing option.
const pprofEnv = "PITHOSFS_PPROF"

// startPprof serves /debug/pprof/ on the address in $PITHOSFS_PPROF, if
// set; only loopback addresses are accepted.
func startPprof(log *zap.Logger) {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Warn("pprof: "+pprofEnv+" must be a loopback host:port; not serving", zap.String("addr", addr))
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("pprof: listen", zap.String("addr", addr), zap.Error(err))
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { _ = http.Serve(ln, mux) }()
}
