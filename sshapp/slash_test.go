package sshapp

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
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
		m.Update(tea.KeyMsg{Type: tea.KeyCtrlU}) // a refused command stays in the line
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
	for _, h := range chatHelp(false) {
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.TrimRight(r, " ") == h }) {
			t.Errorf("help line not on one row at 80 columns: %q", h)
		}
	}
}

// FuzzSlashCommand: whatever line a user enters, the UI's command dispatch
// neither panics nor lets the input line grow past the message limit, and
// the frame keeps its size.
func FuzzSlashCommand(f *testing.F) {
	for _, s := range []string{"/help", "/join #go", "/join", "/msg bob hi", "/who #go", "/theme neon", "/panel",
		"/reply x", "/bell all", "/KICK bob", "/?", "/part", "/\x1b[2J", "/keys add \u202e", "//x", "/ "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Chat: &recordingChat{}, Width: 60, Height: 12, MaxMessage: 100})
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(line), Paste: true})
		enter(m)
		if len(m.ed.input) > 100 {
			t.Fatalf("input of %d runes", len(m.ed.input))
		}
		checkView(t, m, 60, 12)
	})
}
