package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2ESecondSignalExitsAtOnce: SIGTERM starts a graceful shutdown that
// waits for sessions; a second signal ends the process at once, with status
// 1 instead of the graceful 0.
func TestE2ESecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh")
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	c := newSSHClient(t)
	log := filepath.Join(c.dir, "askpass.log")
	if r := c.run(t, srv.port, "violet stapler orbit 1", log, "-T", "alice@127.0.0.1", "who"); r.code != 0 {
		t.Fatalf("register: %s", r)
	}
	// A session that holds the shutdown: `send` waiting for standard input
	// that never ends.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ssh := exec.CommandContext(ctx, "ssh", c.args(srv.port, "-T", "alice@127.0.0.1", "send")...)
	ssh.Env = append(pathEnv(), c.env("violet stapler orbit 1", log)...)
	ssh.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdin, err := ssh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ssh.Process.Kill(); _ = ssh.Wait() }()
	waitFor(t, "the send session to be logged", func() (bool, string) {
		out := srv.stderr.String()
		return strings.Contains(out, `cmd=send`), out
	})
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the shutdown to start", func() (bool, string) {
		out := srv.stderr.String()
		return strings.Contains(out, "shutting down"), out
	})
	if err := srv.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
	case <-time.After(waitTimeout):
		t.Fatal("second signal did not end the process")
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit status %d after a second signal, want 1; stderr:\n%s", code, srv.stderr.String())
	}
	if !strings.Contains(srv.stderr.String(), "second signal") {
		t.Fatalf("no log line for the second signal:\n%s", srv.stderr.String())
	}
	srv.stopOnce.Do(func() {}) // already gone: nothing for cleanup to stop
}
