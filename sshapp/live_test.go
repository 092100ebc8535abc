package sshapp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"securechat/limits"
)

// SetLive changes the running server for the sessions it already has: the
// flood limit, the message size, registration and the message of the day.
func TestSetLive(t *testing.T) {
	dir := t.TempDir()
	motdPath := filepath.Join(dir, "motd.txt")
	ts := startServer(t, dir, func(c *Config) { c.MOTDPath = motdPath })
	alice := ts.login("alice", "secret-nyvpr")
	for i := range 5 {
		if r := run(t, alice, "send loose "+strings.Repeat("x", i), ""); r.code != 0 {
			t.Fatalf("send %d under loose limits: %+v", i, r)
		}
	}
	if err := os.WriteFile(motdPath, []byte("fresh motd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lim := looseLimits()
	lim.Flood = limits.FloodConfig{Burst: 1, PerSecond: 0.01}
	ts.srv.SetLive(Live{AllowRegister: false, MaxMessage: 10, Limits: lim})

	if r := run(t, alice, "send 12345678901", ""); r.code == 0 || !strings.Contains(r.stderr, "too long") {
		t.Fatalf("11 characters after MaxMessage 10: %+v", r)
	}
	if r := run(t, alice, "send one", ""); r.code != 0 {
		t.Fatalf("first send after the reload: %+v", r)
	}
	if r := run(t, alice, "send two", ""); r.code == 0 || !strings.Contains(r.stderr, "too fast") {
		t.Fatalf("second send at a burst of 1: %+v", r)
	}
	if _, err := dial(ts.addr, "newbie", nil, kiAnswer(nil, samePassword("violet stapler orbit 1"))); err == nil {
		t.Fatal("registered after AllowRegister was turned off")
	}
	if got := ts.srv.motd(); got != "fresh motd" {
		t.Fatalf("motd after SetLive: %q", got)
	}
}
