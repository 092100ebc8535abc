package sshapp

import (
	"strings"
	"testing"
)

// A kick, a mute and a ban are shown to the rooms the user was in, with
// the admin's reason, and the kicked user is told the reason; a kick does
// not read as an ordinary leave.
func TestModerationIsShownWithItsReason(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	makeAdmin(t, ts, "alice")
	admin := openUI(t, alice, 140, 30)
	admin.waitFor("Welcome")
	carol := openUI(t, ts.login("carol", "secret-pneby"), 140, 30)
	carol.waitFor("Welcome")
	carol.send("/join #go\r")
	carol.waitFor("You are in #go")

	bobc := ts.login("bob", "secret-obo")
	bob := openUI(t, bobc, 140, 30)
	bob.waitFor("Welcome")
	bob.send("/join #go\r")
	carol.waitFor("bob joined")

	admin.send("/kick bob 5m of spam\r")
	admin.waitFor("kicked bob: 5m of spam")
	bob.waitEnded()
	if raw := bob.rawString(); !strings.Contains(raw, "removed from the room by alice: 5m of spam") {
		t.Fatalf("bob was not told the reason: %q", raw[max(0, len(raw)-300):])
	}
	// carol looks at #go: the kick is there, and in the lobby too.
	carol.waitFor("bob was kicked by alice: 5m of spam")
	admin.waitFor("bob was kicked by alice: 5m of spam")

	bob = openUI(t, bobc, 140, 30)
	bob.waitFor("Welcome")
	admin.send("/mute bob 10m too loud\r")
	admin.waitFor("muted bob until")
	bob.waitFor("You were muted by alice until")
	admin.waitFor("bob was muted by alice until")
	if scr := admin.waitFor(": too loud"); !strings.Contains(scr, "bob was muted by alice") {
		t.Fatalf("mute not shown to the room:\n%s", scr)
	}
	admin.send("/unmute bob\r")
	admin.waitFor("bob was unmuted by alice")

	admin.send("/ban bob 1d spamming links\r")
	bob.waitEnded()
	scr := admin.waitFor("bob was banned by alice until")
	if !strings.Contains(scr, "spamming links") {
		t.Fatalf("ban's reason not shown to the room:\n%s", scr)
	}
	// Kept in the room's history like its other notices.
	if r := run(t, alice, "history --room go -n 50", ""); !strings.Contains(r.stdout, "* bob was kicked by alice: 5m of spam") {
		t.Fatalf("the kick is not in #go's history: %+v", r)
	}
}
