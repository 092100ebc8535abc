package sshapp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"securechat/limits"
)

// A paste without bracketed paste (lines and Enters at wire speed, far
// over the flood limit) loses no line and mutes nobody: the lines go out
// in order at the allowed rate, and the user is told they wait.
func TestPasteOverTheFloodLimitLosesNothing(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) {
		// The real burst and strikes; a quick rate keeps the test short.
		c.Limits.Flood = limits.FloodConfig{Burst: 5, PerSecond: 20, Strikes: 10, StrikeWindow: 10 * time.Second, MuteFor: time.Minute}
	})
	alice := ts.login("alice", "secret-nyvpr")
	u := openUI(t, alice, 120, 30)
	u.waitFor("Welcome")
	var paste strings.Builder
	const n = 40
	for i := range n {
		fmt.Fprintf(&paste, "pasted line %02d\r", i+1)
	}
	u.send(paste.String())
	u.waitFor("to send] >") // the outbox, counted beside the input
	u.waitFor("alice: pasted line 40")
	if raw := u.rawString(); !strings.Contains(raw, "faster than the room allows") {
		t.Fatal("the user was not told the lines wait")
	}
	r := run(t, alice, "history -n 100", "")
	var got []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if _, text, ok := strings.Cut(l, "pasted line "); ok {
			got = append(got, text)
		}
	}
	if len(got) != n {
		t.Fatalf("%d of %d pasted lines stored:\n%s", len(got), n, r.stdout)
	}
	for i, g := range got {
		if want := fmt.Sprintf("%02d", i+1); g != want {
			t.Fatalf("line %d is %q: out of order\n%s", i+1, g, r.stdout)
		}
	}
	// The bucket is empty after the paste, so this may be refused as too
	// fast, but never for a mute.
	if r := run(t, alice, "send still allowed to talk", ""); strings.Contains(r.stderr, "muted") {
		t.Fatalf("the paste got alice muted: %+v", r)
	}
	if scr := u.screen(); strings.Contains(scr, "muted") || strings.Contains(scr, "not sent") {
		t.Fatalf("the paste was refused:\n%s", scr)
	}
}
