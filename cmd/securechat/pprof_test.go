package main

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/log"
)

func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "localhost:0", "nonsense"} {
		if err := servePprof(addr, log.New(io.Discard)); err == nil || !strings.Contains(err.Error(), "--pprof") {
			t.Errorf("--pprof %s: err %v, want a refusal", addr, err)
		}
	}
	if err := servePprof("127.0.0.1:0", log.New(io.Discard)); err != nil {
		t.Fatalf("--pprof on loopback: %v", err)
	}
}
