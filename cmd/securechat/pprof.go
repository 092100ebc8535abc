package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/charmbracelet/log"
)

// servePprof serves Go's runtime profiles on a loopback address, for
// benchmarks: they show what a session costs in memory and goroutines.
// Anything but loopback is refused, since profiles reveal the server's
// internals.
func servePprof(addr string, logger *log.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof %s: only a loopback address (127.0.0.1, ::1) is allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	logger.Info("profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}
