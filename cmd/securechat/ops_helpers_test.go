package main

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// anyListenRE finds the listening line's address in text, JSON and logfmt
// logs alike.
var anyListenRE = regexp.MustCompile(`securechat listening.*?addr"?[=:]"?(127\.0\.0\.1:(\d+))`)

// launchEnv starts securechat on data with --listen 127.0.0.1:0 and extra
// environment variables, without waiting for it to listen, and stops it
// (SIGTERM, exit 0 within 10 s) when the test ends.
func launchEnv(t *testing.T, data string, env []string, extra ...string) *server {
	t.Helper()
	// Tests open connections faster than any person would; a test of the
	// rate passes its own --limit-conn-* (the last value of a flag wins).
	args := append([]string{"--data", data, "--listen", "127.0.0.1:0", "--bcrypt-cost", "10",
		"--limit-conn-burst", "100000", "--limit-conn-rate", "100000"}, extra...)
	s := &server{data: data, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Stderr = s.stderr
	s.cmd.Env = append(append(os.Environ(), "SECURECHAT_LISTEN=", "SECURECHAT_DATA=", "NOTIFY_SOCKET=", "WATCHDOG_USEC="), env...)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start securechat: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("securechat (data %s) stderr:\n%s", s.data, s.stderr.String())
		}
	})
	return s
}

// startServerEnv is startServer with extra environment variables and a
// listening line in any log format.
func startServerEnv(t *testing.T, data string, env []string, extra ...string) *server {
	t.Helper()
	s := launchEnv(t, data, env, extra...)
	waitFor(t, "securechat to log that it is listening", func() (bool, string) {
		select {
		case <-s.done:
			t.Fatalf("securechat exited before listening (%v); stderr:\n%s", s.waitErr, s.stderr.String())
		default:
		}
		out := s.stderr.String()
		m := anyListenRE.FindStringSubmatch(out)
		if m == nil {
			return false, out
		}
		s.addr, s.port = m[1], m[2]
		if hk := hostkeyRE.FindStringSubmatch(out); hk != nil {
			s.hostkey = hk[1]
		}
		return true, out
	})
	return s
}
