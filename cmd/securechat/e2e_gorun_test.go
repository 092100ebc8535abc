package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EGoRunStopsWithCtrlC backs README's first command: the server run
// with `go run` in a real terminal stops with Ctrl+C (the terminal signals
// the go tool and the server together), exits cleanly, and leaves no
// process holding the data folder.
func TestE2EGoRunStopsWithCtrlC(t *testing.T) {
	t.Parallel()
	pkg, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// The go tool needs its caches, which the terminal's empty HOME lacks;
	// GOPROXY=off: a missing module fails at once instead of downloading.
	var goEnv []string
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOTOOLCHAIN"} {
		v, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		goEnv = append(goEnv, k+"="+shellQuote(strings.TrimSpace(string(v))))
	}
	data := filepath.Join(t.TempDir(), "data")
	tm := newTmux(t)
	tm.newSession("srv", []string{"sh", "-c", "cd " + shellQuote(pkg) + " && env " + strings.Join(goEnv, " ") +
		" GOPROXY=off go run . --data " + shellQuote(data) + " --listen 127.0.0.1:0"})
	tm.waitScreen("srv", "securechat listening")
	tm.run("send-keys", "-t", "srv", "C-c")
	// The pane's own shell dies of the same Ctrl+C, so there is no exit
	// status to read: the server's log says it shut down, and then nothing
	// holds the folder (the offline command refuses a locked one).
	tm.waitScreen("srv", "stopped")
	if scr := tm.screen("srv"); !strings.Contains(scr, "shutting down signal=interrupt") {
		t.Errorf("the server did not shut down on Ctrl+C; screen:\n%s", scr)
	}
	waitFor(t, "the data folder to be free after Ctrl+C", func() (bool, string) {
		code, out, errOut := runUser(t, data, "", "list")
		return code == 0, out + errOut
	})
	if _, err := os.Stat(filepath.Join(data, "ssh_host_ed25519_key")); err != nil {
		t.Errorf("the server never made its key: %v", err)
	}
}
