package sshapp

import (
	"strings"
	"testing"
)

// /reply answers private messages that arrived while the user was away:
// the login says who wrote, so /reply must know it too.
func TestReplyToMessagesFromWhileAway(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	run(t, alice, "keys add", newEd25519(t, "").line)
	bob := ts.login("bob", "secret-obo")
	if r := run(t, bob, "msg alice are you there?", ""); r.code != 0 {
		t.Fatalf("msg: %+v", r)
	}
	ub := openUI(t, bob, 100, 30)
	ub.waitFor("Welcome")

	ua := openUI(t, alice, 100, 30)
	ua.waitFor("Welcome")
	ua.send("/reply thanks, back now\r")
	if scr := ub.waitFor("thanks, back now"); !strings.Contains(scr, "alice") {
		t.Fatalf("bob's screen:\n%s", scr)
	}
	if scr := ua.screen(); strings.Contains(scr, "nobody has sent you") {
		t.Fatalf("/reply forgot the message from before the login:\n%s", scr)
	}
}
