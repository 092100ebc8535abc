package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EPaste pastes into the chat screen through tmux and the real ssh
// client, the two ways terminals paste. Without bracketed paste, 40 lines
// arrive as 40 Enters at wire speed, far over the flood limit: every line
// is sent, in order, nobody is muted, and the screen says the lines wait.
// With bracketed paste the line breaks are kept in one message, and a
// paste longer than a message goes as several (the notice that says so
// is checked in sshapp's TestBracketedPaste).
func TestE2EPaste(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "tmux")
	// The real burst (5) and strikes (10); a quicker rate keeps it short.
	srv, c, tm, pw := twoInTmux(t, "--limit-flood-rate", "10")

	paste := func(name string, bracketed bool, text string) {
		t.Helper()
		f := filepath.Join(c.dir, name+".paste")
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		tm.run("load-buffer", "-b", name, f)
		args := []string{"paste-buffer", "-d", "-b", name, "-t", "alice"}
		if bracketed {
			args = append(args, "-p") // bracketed, as the screen asked for
		}
		tm.run(args...)
	}

	// Without bracketed paste: tmux sends each line ending as Enter.
	var lines strings.Builder
	for i := range 40 {
		fmt.Fprintf(&lines, "plain paste %02d\n", i+1)
	}
	paste("plain", false, lines.String())
	tm.waitScreen("alice", "to send] >")
	tm.waitScreen("bob", "alice: plain paste 40")
	hist := c.run(t, srv.port, pw["bob"], filepath.Join(c.dir, "bob.log"), "-T", "bob@127.0.0.1", "history", "-n", "100")
	var got []string
	for _, l := range strings.Split(hist.stdout, "\n") {
		if _, n, ok := strings.Cut(l, "plain paste "); ok {
			got = append(got, n)
		}
	}
	if len(got) != 40 {
		t.Fatalf("%d of 40 pasted lines were sent:\n%s", len(got), hist)
	}
	for i, n := range got {
		if n != fmt.Sprintf("%02d", i+1) {
			t.Fatalf("pasted line %d arrived as %q: out of order\n%s", i+1, n, hist)
		}
	}
	if scr := tm.screen("alice"); strings.Contains(scr, "muted") || strings.Contains(scr, "not sent") {
		t.Fatalf("the paste was refused:\n%s", scr)
	}

	// Bracketed: one message, line breaks kept (each line its own row).
	paste("brk", true, "bracketed one\nbracketed two\nbracketed three\n")
	tm.waitScreen("alice", "bracketed one↵bracketed two")
	tm.run("send-keys", "-t", "alice", "Enter")
	tm.waitScreen("bob", "bracketed three")
	scr := tm.screen("bob")
	if !strings.Contains(scr, "alice: bracketed one\n") || strings.Contains(scr, "bracketed one bracketed two") {
		t.Fatalf("the paste's line breaks were not kept:\n%s", scr)
	}

	// Longer than a message (2,000 characters): sent as two, told so.
	var long strings.Builder
	for i := range 50 {
		fmt.Fprintf(&long, "long paste line %02d %s\n", i+1, strings.Repeat("x", 40))
	}
	paste("long", true, long.String())
	tm.run("send-keys", "-t", "alice", "Enter")
	tm.waitScreen("bob", "long paste line 50")
	// Split at a line break: the second message starts with line 34.
	tm.waitScreen("bob", "alice: long paste line 34")
}

// twoInTmux starts a server with extra flags and opens alice's and bob's
// chat screens in tmux through the real ssh client, each past its welcome.
// pw holds their passwords.
func twoInTmux(t *testing.T, extra ...string) (srv *server, c *sshClient, tm *tmuxServer, pw map[string]string) {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, data, extra...)
	c = newSSHClient(t)
	tm = newTmux(t)
	pw = map[string]string{"alice": "violet stapler orbit 1", "bob": "copper lantern meadow 22"}
	for _, name := range []string{"alice", "bob"} {
		tm.chat(c, name, pw[name], srv.port, filepath.Join(c.dir, name+".log"))
		tm.waitScreen(name, "Welcome to #lobby, "+name+".")
	}
	return srv, c, tm, pw
}
