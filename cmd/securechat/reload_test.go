package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// SIGHUP to the real process re-reads the config file: a live key changes
// behaviour at once, a restart-only key is named in a warning and kept, a
// bad file is rejected whole, and a session open across all of it goes on.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "securechat.toml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("max-message = 2000\n")
	srv := startServerEnv(t, filepath.Join(dir, "data"), nil, "--config", cfg)
	c := newSSHClient(t)
	askLog := filepath.Join(c.dir, "askpass.log")
	const pw = "violet stapler orbit 1"
	if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "send", "a-message-of-thirty-characters"); r.code != 0 {
		t.Fatalf("send before the reload: %s", r)
	}

	// A session that stays open across the reloads: send waiting on stdin.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout*2)
	defer cancel()
	held := exec.CommandContext(ctx, "ssh", c.args(srv.port, "-T", "alice@127.0.0.1", "send")...)
	held.Env = append(pathEnv(), c.env(pw, askLog)...)
	held.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdin, err := held.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var heldErr syncBuffer
	held.Stderr = &heldErr
	if err := held.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Process.Kill(); _ = held.Wait() }()
	waitFor(t, "the held send session", func() (bool, string) {
		out := srv.stderr.String()
		return strings.Count(out, "cmd=send") >= 2, out
	})

	hup := func(wantLog string, nth int) {
		t.Helper()
		if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "reload log "+wantLog, func() (bool, string) {
			out := srv.stderr.String()
			return strings.Count(out, wantLog) >= nth, out
		})
	}

	// Live: the message limit drops to 10 and registration closes.
	write("max-message = 10\nno-register = true\nhostname = \"chat.example\"\n")
	hup("reloaded", 1)
	out := srv.stderr.String()
	if !strings.Contains(out, "changed=no-register,max-message") {
		t.Fatalf("reload does not name the changed keys:\n%s", out)
	}
	if !strings.Contains(out, "need a restart") || !strings.Contains(out, "keys=hostname") {
		t.Fatalf("no warning naming hostname as restart-only:\n%s", out)
	}
	if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "send", "a-message-of-thirty-characters"); r.code == 0 || !strings.Contains(r.stderr, "too long") {
		t.Fatalf("a 30-character message after max-message = 10: %s", r)
	}
	bob := newSSHClient(t)
	if r := bob.run(t, srv.port, "copper lantern drift 7", filepath.Join(bob.dir, "askpass.log"), "-T", "bob@127.0.0.1", "who"); r.code == 0 {
		t.Fatalf("bob registered after no-register = true: %s", r)
	}

	// A bad file is rejected whole: max-message stays 10 though the file
	// says 2000.
	write("max-message = 2000\nfps = 0\n")
	hup("reload rejected", 1)
	if !strings.Contains(srv.stderr.String(), cfg+":2: fps") {
		t.Fatalf("rejection does not name file, line and key:\n%s", srv.stderr.String())
	}
	if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "send", "a-message-of-thirty-characters"); r.code == 0 {
		t.Fatalf("part of a rejected file was applied: %s", r)
	}

	// The held session lived through it all and still posts.
	if _, err := stdin.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	if err := held.Wait(); err != nil {
		t.Fatalf("the session held across reloads failed: %v\n%s", err, heldErr.String())
	}
	if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "history", "-n", "5"); !strings.Contains(r.stdout, "still here") {
		t.Fatalf("the held session's message is not in the history: %s", r)
	}

	// The log format changes live: the next lines are JSON.
	write("max-message = 10\nno-register = true\nlog-format = \"json\"\n")
	hup("changed=log-format", 1)
	if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "who"); r.code != 0 {
		t.Fatalf("who: %s", r)
	}
	waitFor(t, "a JSON login line after the reload", func() (bool, string) {
		out := srv.stderr.String()
		return strings.Contains(out, `"msg":"login"`), out
	})
}
