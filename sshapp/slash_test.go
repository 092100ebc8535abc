package sshapp

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestModelCommands(t *testing.T) {
	chat := &recordingChat{}
	m := newTestModel(100, 30, chat)
	for _, tc := range []struct{ input, want string }{
		{"/help", "/quit"},
		{"/who", "ran who"},
		{"/bogus", "unknown command /bogus"},
		{"/msg bob hi", "ran msg"},
		{"/keys", "ran keys"},
	} {
		typeText(m, tc.input)
		enter(m)
		if v := checkView(t, m, 100, 30); !strings.Contains(v, tc.want) {
			t.Fatalf("%s: view lacks %q:\n%s", tc.input, tc.want, v)
		}
	}
	if strings.Join(chat.commands, "|") != "who |msg bob hi|keys " {
		t.Fatalf("commands %q", chat.commands)
	}
	typeText(m, "/quit")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil || cmd() != tea.Quit() {
		t.Fatal("/quit did not quit")
	}
}

// TestHelpFitsEightyColumns: on the most common terminal width, /help shows
// every line whole, none wrapped where its columns would break.
func TestHelpFitsEightyColumns(t *testing.T) {
	m := newTestModel(80, 40, nil)
	typeText(m, "/help")
	enter(m)
	rows := strings.Split(checkView(t, m, 80, 40), "\n")
	for _, h := range helpText {
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.TrimRight(r, " ") == h }) {
			t.Errorf("help line not on one row at 80 columns: %q", h)
		}
	}
}
