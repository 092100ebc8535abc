package main

import (
	"io"
	"os"
	"path/filepath"
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

// TestCPUProfileFlag: --cpuprofile leaves a profile that go tool pprof reads
// (a gzipped protobuf) once the server stops.
func TestCPUProfileFlag(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	s := startServer(t, filepath.Join(dir, "data"), "--cpuprofile", prof)
	s.stop(t)
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("--cpuprofile wrote %d bytes, not a gzipped profile", len(b))
	}
}
