package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// shellSSH runs "ssh OPTIONS " + tail through /bin/sh, the way a user's
// shell reads a line of README: tail is written as the user types it.
func shellSSH(t *testing.T, c *sshClient, port, password, askpassLog, tail string) sshResult {
	t.Helper()
	var quoted []string
	for _, a := range c.args(port) {
		quoted = append(quoted, shellQuote(a))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", "ssh "+strings.Join(quoted, " ")+" "+tail)
	cmd.Env = append(pathEnv(), c.env(password, askpassLog)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("sh -c ssh ... %s did not finish; stderr:\n%s", tail, errb.String())
	}
	return sshResult{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// TestE2ERoomFlagInAShell: README's --room forms work typed into a real
// shell; the unquoted "#go" that a shell turns into a comment gets an error
// that says how to write it.
func TestE2ERoomFlagInAShell(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh")
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	c := newSSHClient(t)
	const pw = "violet stapler orbit 1"
	log := filepath.Join(c.dir, "askpass.log")
	for _, tail := range []string{
		`alice@127.0.0.1 send --room go hi from go`,
		`alice@127.0.0.1 send --room '#go' hi from quoted`,
		`alice@127.0.0.1 send --room "#go" hi from double`,
	} {
		if r := shellSSH(t, c, srv.port, pw, log, tail); r.code != 0 {
			t.Fatalf("%s: %s", tail, r)
		}
	}
	r := shellSSH(t, c, srv.port, pw, log, `alice@127.0.0.1 history --room go`)
	for _, want := range []string{"alice: hi from go", "alice: hi from quoted", "alice: hi from double"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("history --room go lacks %q: %s", want, r)
		}
	}
	if r := shellSSH(t, c, srv.port, pw, log, `alice@127.0.0.1 who --room '#go'`); r.code != 0 {
		t.Errorf("who --room '#go': %s", r)
	}
	r = shellSSH(t, c, srv.port, pw, log, `alice@127.0.0.1 send --room #go hi`)
	if r.code != 2 || !strings.Contains(r.stderr, "quote it as --room '#go' (in a shell, # starts a comment)") {
		t.Errorf("unquoted #go: %s", r)
	}
}
