package sshapp

import (
	"context"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// The table's own rules: one entry per name and alias; every command has a
// handler except the few the chat UI runs itself and help; help fits 80
// columns; admin-only commands are listed and offered to admins only, and
// aliases are listed.
func TestCommandTable(t *testing.T) {
	seen := map[string]bool{}
	var local []string
	for _, c := range commandTable {
		for _, n := range append([]string{c.name}, c.aliases...) {
			if seen[n] {
				t.Errorf("%s is in the table twice", n)
			}
			seen[n] = true
		}
		if c.help == "" || c.where == 0 {
			t.Errorf("%s: no help or no front end", c.name)
		}
		if c.run == nil {
			local = append(local, c.name)
		}
	}
	if want := []string{"help", "join", "leave", "reply", "quit"}; !slices.Equal(local, want) {
		t.Errorf("commands without a handler: %q, want %q", local, want)
	}
	for _, admin := range []bool{false, true} {
		help := strings.Join(chatHelp(admin), "\n")
		for _, l := range chatHelp(admin) {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("help line of %d columns: %q", w, l)
			}
		}
		execText := execHelp(admin)
		completions := chatCompletions(admin)
		for _, c := range commandTable {
			if c.admin && c.where&inChat != 0 {
				if got := strings.Contains(help, "/"+c.name+" ") || strings.Contains(help, "/"+c.name+"\n"); got != admin {
					t.Errorf("admin %v: /help lists /%s: %v", admin, c.name, got)
				}
				if got := slices.Contains(completions, "/"+c.name); got != admin {
					t.Errorf("admin %v: Tab offers /%s: %v", admin, c.name, got)
				}
			}
			if c.admin && c.where&inExec != 0 {
				if got := strings.Contains(execText, "\n  "+c.name+" "); got != admin {
					t.Errorf("admin %v: help lists %s: %v", admin, c.name, got)
				}
			}
		}
		if !strings.Contains(help, "(also /part)") || !strings.Contains(help, "(also /exit)") || !strings.Contains(help, "(also /?)") {
			t.Errorf("aliases not listed:\n%s", help)
		}
	}
}

// Tab and /help offer admin commands to admins only (issue 16, item 19).
func TestAdminCommandsOfferedToAdminsOnly(t *testing.T) {
	for _, admin := range []bool{false, true} {
		m := NewModel(ModelConfig{User: "alice", Admin: admin, Styles: testStyles(termenv.Ascii), Width: 100, Height: 60})
		typeText(m, "/ba")
		m.Update(tea.KeyMsg{Type: tea.KeyTab})
		v := checkView(t, m, 100, 60)
		if admin {
			wantInput(t, m, "admin Tab", "/ba")
			if !strings.Contains(v, "/back  /ban  /bans") {
				t.Fatalf("admin: Tab does not list /ban, /bans:\n%s", v)
			}
		} else {
			wantInput(t, m, "non-admin Tab", "/back ")
		}
		m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
		v = enterLine(t, m, "/help", 100, 60)
		if got := strings.Contains(v, "/ban USER"); got != admin {
			t.Fatalf("admin %v: /help lists /ban: %v\n%s", admin, got, v)
		}
	}
}

// The input line's rule (issue 16, item 14): a command that fails, in the
// UI or on the server, stays in the line to be fixed; one that works
// leaves the line empty; a failure that arrives after the user typed
// something new does not overwrite it.
func TestFailedCommandStaysInTheLine(t *testing.T) {
	for _, tc := range []struct {
		input  string
		fail   bool // the server refuses
		failed bool
	}{
		{"/bogus x", false, true},
		{"/join", false, true},
		{"/leave", false, true},
		{"/reply hi", false, true},
		{"/theme neon", false, true},
		{"/bell loud", false, true},
		{"/panel maybe", false, true},
		{"/keys add nonsense", true, true},
		{"/who", false, false},
		{"/msg bob hi", false, false},
		{"/timestamps off", false, false},
	} {
		chat := &recordingChat{}
		if tc.fail {
			chat.fail = errUsage
		}
		m := newTestModel(100, 30, chat)
		typeText(m, tc.input)
		enter(m)
		want := ""
		if tc.failed {
			want = tc.input
		}
		wantInput(t, m, tc.input, want)
	}
	chat := &recordingChat{fail: errNotAdmin}
	m := newTestModel(100, 30, chat)
	typeText(m, "/kick bob")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	typeText(m, "meanwhile")
	runCmd(m, cmd)
	wantInput(t, m, "a late failure", "meanwhile")
}

// One handler, two front ends: the same command answers and fails alike in
// the chat UI and over exec; /who is everyone online, and in another room
// also who is there (issue 16, item 19).
func TestCommandsAgreeInBothFrontEnds(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")
	makeAdmin(t, ts, "alice")
	openUI(t, alice, 120, 30).waitFor("Welcome")
	ui := openWelcomed(t, bob, 120, 30)
	ui.send("/join #go\r")
	ui.waitFor("You are in #go")
	chat := func(user, where, name, args string) ([]string, error) {
		return sessionChat{s: ts.srv, user: user, ctx: context.Background()}.Command(where, name, args)
	}
	for _, tc := range []struct {
		user, line string
		ok         bool
	}{
		{"alice", "whois bob", true},
		{"alice", "whois nobody", false},
		{"alice", "whois", false},
		{"alice", "keys rm SHA256:nope", false},
		{"alice", "keys frob", false},
		{"alice", "rooms", true},
		{"alice", "bans", true},
		{"bob", "bans", false},
		{"bob", "kick alice", false},
		{"alice", "msg", false},
		{"alice", "mute", false},
	} {
		name, args, _ := strings.Cut(tc.line, " ")
		lines, err := chat(tc.user, "lobby", name, args)
		var c = alice
		if tc.user == "bob" {
			c = bob
		}
		r := run(t, c, tc.line, "")
		if (err == nil) != tc.ok || (r.code == 0) != tc.ok {
			t.Errorf("%s %q: UI err %v, exec exit %d (%s)", tc.user, tc.line, err, r.code, r.stderr)
			continue
		}
		if err != nil {
			// Exec says the same, after "securechat: NAME: ", with the
			// usage in its own form.
			uiSays := strings.ReplaceAll(err.Error(), "/"+name, name)
			if !strings.Contains(r.stderr, uiSays) && !strings.Contains(r.stderr, err.Error()) {
				t.Errorf("%q: UI says %q, exec %q", tc.line, err, r.stderr)
			}
			continue
		}
		if got := strings.Join(lines, "\n") + "\n"; got != r.stdout {
			t.Errorf("%q: UI %q, exec %q", tc.line, got, r.stdout)
		}
	}
	// /who: everyone online; from #go also who is in #go. Over exec, one
	// name a line.
	if lines, err := chat("alice", "go", "who", ""); err != nil || len(lines) != 2 ||
		lines[0] != "Online (2): alice, bob" || lines[1] != "In #go (1): bob" {
		t.Fatalf("/who from #go: %q %v", lines, err)
	}
	if lines, err := chat("alice", "lobby", "who", "#go"); err != nil || len(lines) != 1 || lines[0] != "In #go (1): bob" {
		t.Fatalf("/who #go: %q %v", lines, err)
	}
	if r := run(t, alice, "who", ""); r.stdout != "alice\nbob\n" {
		t.Fatalf("who over exec: %q", r.stdout)
	}
}
