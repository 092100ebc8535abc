package sshapp

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// Up then Down gives back the line being typed: a recall must not throw
// away an unsent draft.
func TestModelRecallKeepsDraft(t *testing.T) {
	m := newTestModel(80, 24, &recordingChat{})
	enterLine(t, m, "first", 80, 24)
	typeText(m, "half a thought")
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	wantInput(t, m, "Up", "first")
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	wantInput(t, m, "Up then Down", "half a thought")
	// Down with nothing recalled changes nothing.
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	wantInput(t, m, "Down again", "half a thought")
	// Two steps up and back down end on the draft too.
	enterLine(t, m, "", 80, 24) // sends the draft
	typeText(m, "draft two")
	for _, k := range []tea.KeyType{tea.KeyUp, tea.KeyUp, tea.KeyDown, tea.KeyDown} {
		m.Update(tea.KeyMsg{Type: k})
	}
	wantInput(t, m, "Up Up Down Down", "draft two")
}

// A private message's text is not kept for Up: recall gives the command
// and the name, ready for the next message, never the words (a sealed
// message's plaintext must not stay in the session).
func TestModelRecallForgetsPrivateText(t *testing.T) {
	for _, tc := range []struct{ line, recalled string }{
		{"/msg bob the launch code is 1234", "/msg bob "},
		{"/MSG @bob the launch code is 1234", "/MSG @bob "},
		{"/reply the launch code is 1234", "/reply "},
		{"/msg bob", "/msg bob"}, // a usage error holds no secret
	} {
		t.Run(tc.line, func(t *testing.T) {
			m := newTestModel(80, 24, &recordingChat{})
			enterLine(t, m, tc.line, 80, 24)
			m.Update(tea.KeyMsg{Type: tea.KeyUp})
			wantInput(t, m, "Up after "+tc.line, tc.recalled)
			for _, h := range m.ed.history {
				if strings.Contains(h, "launch") {
					t.Fatalf("history keeps the text: %q", m.ed.history)
				}
			}
			if strings.Contains(string(m.ed.input[:cap(m.ed.input)]), "launch") {
				t.Fatal("the editor's storage still holds the text")
			}
		})
	}
}

// A paste longer than one message is sent but not kept for Up: a hundred
// of them would be a lot of memory per session.
func TestModelRecallSkipsLongPastes(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(0), Chat: &recordingChat{}, Width: 80, Height: 24, MaxMessage: 10})
	enterLine(t, m, "short", 80, 24)
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a long paste\nof two lines"), Paste: true})
	settle(m, pressEnter(m))
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	wantInput(t, m, "Up after a long paste", "short")
}
