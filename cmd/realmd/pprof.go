package main

import (
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/hashicorp/go-hclog"
)

// servePprof serves Go's profiler on REALMD_PPROF_ADDR (e.g. 127.0.0.1:6060)
// when it is set: a debugging aid, off by default, never on the front door.
func servePprof(logger hclog.Logger) {
	addr := os.Getenv("REALMD_PPROF_ADDR")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		logger.Info("profiler listening", "address", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			logger.Error("profiler stopped", "error", err)
		}
	}()
}
