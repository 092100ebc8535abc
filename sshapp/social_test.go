package sshapp

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"securechat/room"
)

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"hi alice", true},
		{"@alice look", true},
		{"Alice: look", true},
		{"ALICE!", true},
		{"alice.", true},
		{"malice here", false},
		{"alice_b is here", false},
		{"alices", false},
		{"", false},
	} {
		if got := mentions(tc.text, "alice"); got != tc.want {
			t.Errorf("mentions(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestModelBell(t *testing.T) {
	for _, tc := range []struct {
		bell string
		msg  room.Message
		want bool
	}{
		{"mentions", room.Message{ID: 1, Kind: room.KindMessage, From: "bob", Text: "hey alice"}, true},
		{"mentions", room.Message{ID: 1, Kind: room.KindMessage, From: "bob", Text: "hey all"}, false},
		{"mentions", room.Message{Kind: room.KindPrivate, From: "bob", To: "alice", Text: "psst"}, true},
		{"mentions", room.Message{ID: 1, Kind: room.KindSealed, From: "bob", To: "alice", Text: "x"}, true},
		{"all", room.Message{ID: 1, Kind: room.KindMessage, From: "bob", Text: "hey all"}, true},
		{"off", room.Message{ID: 1, Kind: room.KindMessage, From: "bob", Text: "hey alice"}, false},
		{"all", room.Message{ID: 1, Kind: room.KindMessage, From: "alice", Text: "my own alice"}, false},
	} {
		chat := &recordingChat{}
		m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 80, Height: 24, Chat: chat, Bell: tc.bell})
		_, cmd := m.Update(incomingMsg{msgs: ptrs(tc.msg)})
		runCmd(m, cmd)
		if got := chat.bells > 0; got != tc.want {
			t.Errorf("bell %s, %+v: rang %v, want %v", tc.bell, tc.msg, got, tc.want)
		}
	}
}

func TestModelMentionHighlightIsPersonal(t *testing.T) {
	cache := newFormatCache(100)
	mk := func(user string) *Model {
		return NewModel(ModelConfig{User: user, Styles: NewStyles(lipglossRenderer(termenv.ANSI256)), Width: 80, Height: 10, Cache: cache, Profile: termenv.ANSI256})
	}
	a, b := mk("alice"), mk("bob")
	msg := room.Message{ID: 9, Time: t0, Kind: room.KindMessage, From: "carol", Text: "alice, look"}
	a.Update(incomingMsg{msgs: ptrs(msg)})
	b.Update(incomingMsg{msgs: ptrs(msg)})
	highlighted := "\x1b[1;7malice, look"
	if !strings.Contains(a.View(), highlighted) {
		t.Fatalf("alice's mention not highlighted: %q", a.View())
	}
	if strings.Contains(b.View(), highlighted) || !strings.Contains(b.View(), "alice, look") {
		t.Fatalf("bob sees alice's highlight: %q", b.View())
	}
}

func TestModelThemesAndTimestamps(t *testing.T) {
	chat := &recordingChat{}
	var made []string
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 80, Height: 24, Chat: chat,
		MakeStyles: func(theme string) *Styles {
			made = append(made, theme)
			return NewThemeStyles(lipglossRenderer(termenv.ANSI256), theme)
		}})
	m.Update(incomingMsg{msgs: ptrs(room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bob", Text: "hello"})})
	for _, th := range Themes {
		typeText(m, "/theme "+th)
		enter(m)
		if m.format.st.Theme() != th {
			t.Fatalf("theme %s not applied", th)
		}
		checkView(t, m, 80, 24)
	}
	if v := enterLine(t, m, "/theme neon", 80, 24); !strings.Contains(v, "themes: dark, light, contrast, mono") {
		t.Fatalf("bad theme not refused:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU}) // a refused command stays in the line
	if v := enterLine(t, m, "/timestamps datetime", 80, 24); !strings.Contains(v, "2026-11-22 09:30 bob: hello") {
		t.Fatalf("datetime stamps:\n%s", v)
	}
	if v := enterLine(t, m, "/timestamps off", 80, 24); !strings.Contains(v, "\nbob: hello") {
		t.Fatalf("no stamps:\n%s", v)
	}
	typeText(m, "/bell all")
	enter(m)
	if m.cfg.Bell != "all" {
		t.Fatal("bell not applied")
	}
	if strings.Join(chat.commands, "|") != "theme dark|theme light|theme contrast|theme mono|timestamps datetime|timestamps off|bell all" {
		t.Fatalf("commands %q", chat.commands)
	}
}

func TestModelReplyAndMarker(t *testing.T) {
	chat := &recordingChat{}
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 80, Height: 24, Chat: chat, LastRead: 2,
		Backlog: ptrs(
			room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bob", Text: "old"},
			room.Message{ID: 2, Time: t0, Kind: room.KindMessage, From: "bob", Text: "seen"},
			room.Message{ID: 3, Time: t0, Kind: room.KindMessage, From: "bob", Text: "new"},
		)})
	v := checkView(t, m, 80, 24)
	if i, j := strings.Index(v, "new since your last visit"), strings.Index(v, "bob: new"); i < 0 || j < i || strings.Index(v, "bob: seen") > i {
		t.Fatalf("marker misplaced:\n%s", v)
	}
	typeText(m, "/reply hi")
	enter(m)
	if !strings.Contains(checkView(t, m, 80, 24), "nobody has sent you a private message") {
		t.Fatal("reply without a private message")
	}
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU}) // a refused command stays in the line
	m.Update(incomingMsg{msgs: ptrs(room.Message{Time: t0, Kind: room.KindPrivate, From: "carol", To: "alice", Text: "psst"})})
	typeText(m, "/reply back at you")
	enter(m)
	if len(chat.commands) != 1 || chat.commands[0] != "msg carol back at you" {
		t.Fatalf("reply sent %q", chat.commands)
	}
}

func TestSocialCommandsOnTheServer(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, func(c *Config) { c.MOTDPath = filepath.Join(dir, "motd.txt") })
	alice := ts.login("alice", "secret-nyvpr")
	makeAdmin(t, ts, "alice")
	a := openWelcomed(t, alice, 140, 30)
	a.send("/me waves\r")
	a.waitFor("* alice waves")
	a.send("/away lunch\r")
	a.waitFor("marked away (lunch)")
	a.send("/who\r")
	a.waitFor("alice (away: lunch)")
	bob := ts.login("bob", "secret-obo")
	if r := run(t, bob, "msg alice are you there", ""); !strings.Contains(r.stdout, "alice is away: lunch") {
		t.Fatalf("sender not told alice is away: %+v", r)
	}
	a.send("/back\r")
	a.waitFor("no longer marked away")
	a.send("/whois bob\r")
	a.waitFor("bob: user, registered")
	a.waitFor("last address 127.0.0.1/32") // alice is an admin
	a.send("/motd Be kind.\r")
	a.waitFor("message of the day set")
	b, err := os.ReadFile(filepath.Join(dir, "motd.txt"))
	if err != nil || strings.TrimSpace(string(b)) != "Be kind." {
		t.Fatalf("motd file: %q %v", b, err)
	}
	if r := run(t, alice, "history -n 5", ""); !strings.Contains(r.stdout, "* alice waves") {
		t.Fatalf("emote not in history:\n%s", r.stdout)
	}
	// A restart keeps the motd; a new session shows it.
	ts.stop()
	ts = startServer(t, dir, func(c *Config) { c.MOTDPath = filepath.Join(dir, "motd.txt") })
	u := openUI(t, ts.login("bob", "secret-obo"), 140, 30)
	u.waitFor("Message of the day: Be kind.")
	u.send("/motd hacked\r")
	u.waitFor("only admins")
}

func TestPreferencesAndMissedMessagesAcrossVisits(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	k := newEd25519(t, "")
	run(t, alice, "keys add", k.line)
	u := openWelcomed(t, alice, 100, 30)
	u.send("/timestamps datetime\r")
	u.waitFor("timestamps set to datetime")
	u.send("/theme light\r")
	u.waitFor("theme set to light")
	u.send("\x1bOQ") // F2: the side panel
	u.waitFor("panel set to on")
	u.waitFor("│ Online (1)")
	run(t, alice, "send before leaving", "")
	u.waitFor("alice: before leaving")
	u.send("/quit\r")
	u.waitEnded()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p, _ := ts.acc.Prefs("alice"); p.LastRead["lobby"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("last read not saved")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bob := ts.login("bob", "secret-obo")
	run(t, bob, "send while alice was away", "")
	run(t, bob, "msg alice a sealed note", "")
	run(t, bob, "msg alice another one", "")
	u2 := openUI(t, ts.login("alice", "secret-nyvpr"), 100, 30)
	scr := u2.waitFor("2 private messages while you were away")
	for _, want := range []string{"new since your last visit", "bob: while alice was away", "-"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("screen lacks %q:\n%s", want, scr)
		}
	}
	if !strings.Contains(scr, time.Now().UTC().Format("2006-01-02")) {
		t.Fatalf("datetime stamps not restored:\n%s", scr)
	}
	u2.waitFor("│ Online (")
	p, _ := ts.acc.Prefs("alice")
	if p.Theme != "light" || p.Timestamps != "datetime" || p.Panel != "on" {
		t.Fatalf("prefs %+v", p)
	}
}

// colourSGR matches an escape sequence that sets a foreground colour.
var colourSGR = regexp.MustCompile(`\x1b\[([0-9]+;)*(3[0-8]|9[0-7])(;[0-9]+)*m`)

// TestColoursFollowTheTerminal: a colour terminal gets colours and the dark
// theme; NO_COLOR or a terminal without colour gets the mono theme and not
// one colour sequence.
func TestColoursFollowTheTerminal(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	for _, tc := range []struct {
		name, term, noColor string
		colour              bool
		theme               string
	}{
		{"256 colours", "xterm-256color", "", true, "dark"},
		{"16 colours", "xterm", "", true, "dark"},
		{"NO_COLOR", "xterm-256color", "1", false, "mono"},
		{"dumb terminal", "dumb", "", false, "mono"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess, err := ts.login("alice", "secret-nyvpr").NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if tc.noColor != "" {
				if err := sess.Setenv("NO_COLOR", tc.noColor); err != nil {
					t.Fatal(err)
				}
			}
			var out syncBuffer
			sess.Stdout = &out
			if err := sess.RequestPty(tc.term, 24, 80, nil); err != nil {
				t.Fatal(err)
			}
			in, _ := sess.StdinPipe()
			if err := sess.Shell(); err != nil {
				t.Fatal(err)
			}
			text := "colourful bob " + tc.term
			run(t, ts.login("bob", "secret-obo"), "send "+text, "")
			waitOut(t, &out, text)
			in.Write([]byte("/theme\r"))
			waitOut(t, &out, "Theme: "+tc.theme)
			if got := colourSGR.MatchString(out.String()); got != tc.colour {
				t.Fatalf("colour sequences sent: %v, want %v: %q", got, tc.colour, out.String())
			}
		})
	}
}

// waitOut waits until out holds want, or fails after a deadline.
func waitOut(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on screen: %q", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
