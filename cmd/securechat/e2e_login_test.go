package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// slowAskpass answers the registration prompts like a person who takes
// SC_DELAY seconds to choose a password.
const slowAskpass = `#!/bin/sh
printf '%s\n' "$1" >> "$SC_ASKPASS_LOG"
sleep "$SC_DELAY"
printf '%s\n' "$SC_PASSWORD"
`

// Issue 16 item 2, with the real OpenSSH client: a person registering gets
// --register-timeout, not the idle --auth-timeout, and one who takes longer
// still is told why the connection ended. The registration is logged once
// (issue 16 item 25).
func TestRegistrationTimeWithOpenSSH(t *testing.T) {
	srv := startServer(t, filepath.Join(t.TempDir(), "data"), "--auth-timeout", "1s", "--register-timeout", "4s", "--min-password-score", "1")
	c := newSSHClient(t)
	if err := os.WriteFile(c.askpass, []byte(slowAskpass), 0o700); err != nil {
		t.Fatal(err)
	}
	askLog := filepath.Join(c.dir, "askpass.log")

	// 1 s per prompt: past the idle timeout, within the registration's.
	r := c.runEnv(t, srv.port, "violet stapler orbit 1", askLog, []string{"SC_DELAY=1"}, "-T", "carol@127.0.0.1", "who")
	if r.code != 0 {
		t.Fatalf("a registration taking 2 s was cut off:\n%s\nserver:\n%s", r, srv.stderr.String())
	}
	if n := strings.Count(srv.stderr.String(), "registered"); n != 1 {
		t.Fatalf("the registration was logged %d times:\n%s", n, srv.stderr.String())
	}

	// 3 s per prompt: past the 4 s limit. The client is told.
	r = c.runEnv(t, srv.port, "violet stapler orbit 1", askLog, []string{"SC_DELAY=3"}, "-T", "dave@127.0.0.1", "who")
	if r.code == 0 {
		t.Fatal("registered after the time ran out")
	}
	if !strings.Contains(r.stderr, "the login took too long") {
		t.Fatalf("not told why:\n%s", r)
	}
}
