package sshapp

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// scrollbackHas reports whether the room on screen keeps a local notice
// containing s.
func scrollbackHas(m *Model, s string) bool {
	for _, e := range m.rooms.cur.msgs {
		if e.local != "" && strings.Contains(e.local, s) {
			return true
		}
	}
	return false
}

// Local feedback (a setting's confirmation, a usage error, Tab's
// candidates) shows in the notice line between the status line and the
// input, never in the room's scrollback, once however often Tab is
// pressed, and the next key takes it away.
func TestNoticesStayOutOfTheScrollback(t *testing.T) {
	const w, h = 80, 12
	chat := &recordingChat{}
	m := newTestModel(w, h, chat)
	noticeRow := func() string {
		rows := strings.Split(checkView(t, m, w, h), "\n")
		if !strings.HasPrefix(rows[h-1], "> ") {
			t.Fatalf("the input is not the last row:\n%s", strings.Join(rows, "\n"))
		}
		if strings.HasPrefix(rows[h-2], " alice · #lobby") {
			return "" // the row above the input is the status line: no notice
		}
		if !strings.HasPrefix(rows[h-3], " alice · #lobby") {
			t.Fatalf("the notice is not between the status line and the input:\n%s", strings.Join(rows, "\n"))
		}
		return rows[h-2]
	}
	for _, tc := range []struct{ typed, want string }{
		{"/panel on", "ran panel"},                      // the server's confirmation
		{"/timestamps sometimes", "usage: /timestamps"}, // a usage error
		{"/frobnicate", "unknown command /frobnicate"},
	} {
		typeText(m, tc.typed)
		enter(m)
		if got := noticeRow(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: notice row %q, want %q", tc.typed, got, tc.want)
		}
		if scrollbackHas(m, tc.want) {
			t.Errorf("%s: %q went into the room's scrollback", tc.typed, tc.want)
		}
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'x'}})
		if got := noticeRow(); got != "" {
			t.Errorf("%s: the next key left the notice %q", tc.typed, got)
		}
		m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
		// A failed command comes back into the line (slash.go's rule):
		// clear it before the next one.
		m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	}
	// Tab's candidates: shown once, however many times Tab is pressed.
	typeText(m, "/t")
	for range 3 {
		m.Update(tea.KeyMsg{Type: tea.KeyTab})
	}
	v := checkView(t, m, w, h)
	if strings.Count(v, "/timestamps") != 1 || !strings.Contains(noticeRow(), "/timestamps") || scrollbackHas(m, "/timestamps") {
		t.Errorf("Tab's candidates:\n%s", v)
	}
}

// In a real session the notice line comes and goes without disturbing the
// screen: the pane gives it a row, the status line moves up over it, and
// the next key gives the row back.
func TestNoticeLineOnARealTerminal(t *testing.T) {
	const w, h = 80, 24
	ts := startServer(t, t.TempDir(), nil)
	u := openUI(t, ts.login("alice", "secret-nyvpr"), w, h)
	u.waitFor("Welcome to #lobby, alice")
	rows := func() []string { return strings.Split(u.screen(), "\n") }
	u.send("/bogus\r")
	u.waitFor("unknown command /bogus")
	r := rows()
	if !strings.HasPrefix(r[h-3], " alice · #lobby") || !strings.HasPrefix(r[h-2], "unknown command /bogus") || !strings.HasPrefix(r[h-1], ">") {
		t.Fatalf("status, notice, input rows:\n%s", strings.Join(r, "\n"))
	}
	u.send("x") // the failed command is back in the line; x goes after it
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = rows()
		if !strings.Contains(strings.Join(r, "\n"), "unknown command") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the next key left the notice:\n%s", strings.Join(r, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(r[h-2], " alice · #lobby") || !strings.HasPrefix(r[h-1], "> /bogusx") || !strings.Contains(strings.Join(r, "\n"), "Welcome to #lobby, alice") {
		t.Fatalf("after the notice:\n%s", strings.Join(r, "\n"))
	}
}
