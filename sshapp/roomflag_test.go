package sshapp

import (
	"strings"
	"testing"
)

// TestRoomFlagForms: --room takes a room's name with or without its "#";
// a --room left without a name (what a shell leaves of an unquoted
// "--room #go hi", since # starts a comment) says how to write it; and the
// usage shows a form that works in a shell.
func TestRoomFlagForms(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	for _, cmd := range []string{"send --room go plain name", "send --room #go with hash", "send --room=go equals"} {
		if r := run(t, alice, cmd, ""); r.code != 0 {
			t.Fatalf("%s: %+v", cmd, r)
		}
	}
	r := run(t, alice, "history --room go", "")
	for _, want := range []string{"alice: plain name", "alice: with hash", "alice: equals"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history --room go lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, cmd := range []string{"send --room", "who --room", "history --room", "history -n 5 --room"} {
		r := run(t, alice, cmd, "")
		if r.code != 2 || !strings.Contains(r.stderr, "--room needs a room name: write --room go, or quote it as --room '#go'") {
			t.Errorf("%s: %+v; want exit 2 and how to write a room", cmd, r)
		}
	}
	r = run(t, alice, "help", "")
	if strings.Contains(r.stdout, "--room #") || !strings.Contains(r.stdout, "send [--room ROOM] TEXT...") || !strings.Contains(r.stdout, "--room '#go'") {
		t.Errorf("usage shows a --room form a shell turns into a comment, or no working one:\n%s", r.stdout)
	}
}
