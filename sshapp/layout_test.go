package sshapp

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"securechat/room"
	"securechat/textsafe"
)

// At 80x24 with the side panel, /help's lines that wrap hang under their
// text instead of starting at column 0, and no row of the pane touches the
// panel's border.
func TestHelpBesideThePanel(t *testing.T) {
	m := newTestModel(80, 24, nil)
	m.chrome.panel = true
	m.chrome.sideChanged()
	m.rooms.resize(m.paneWidth(), m.paneHeight())
	typeText(m, "/help")
	enter(m)
	v := checkView(t, m, 80, 24)
	rows := strings.Split(v, "\n")
	starts := map[string]bool{}
	for _, h := range chatHelp(false) {
		if !strings.HasPrefix(h, " ") {
			starts[strings.Fields(h)[0]] = true
		}
	}
	wrapped := false
	for _, r := range rows[:m.paneHeight()] {
		pane, _, ok := strings.Cut(r, "│")
		if !ok {
			t.Fatalf("no panel beside %q:\n%s", r, v)
		}
		if ansi.StringWidth(pane) > 0 && !strings.HasSuffix(pane, " ") {
			t.Errorf("text touches the border: %q", r)
		}
		if text := strings.TrimRight(pane, " "); text != "" && !strings.HasPrefix(text, " ") && !starts[strings.Fields(text)[0]] {
			t.Errorf("a help line wraps to column 0: %q", r)
		}
		if text := strings.TrimLeft(pane, " "); text != "" && len(pane)-len(text) >= 8 {
			wrapped = true // a row hanging under a description
		}
	}
	if !wrapped {
		t.Errorf("no wrapped help line hangs under its description:\n%s", v)
	}
}

func TestHangingWrap(t *testing.T) {
	for _, tc := range []struct {
		text  string
		width int
		want  []string
	}{
		{"short", 40, []string{"short"}},
		{"  /join #room     enter a room, made on first join", 40, []string{"  /join #room     enter a room, made on", "                  first join"}},
		{"Keys: Enter sends; Alt+Enter adds a line to the message", 30, []string{"Keys: Enter sends; Alt+Enter", "  adds a line to the message"}},
		{"narrow terminals wrap at column zero instead", 16, []string{"narrow terminals", "wrap at column", "zero instead"}},
	} {
		got := hangingWrap(tc.text, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("hangingWrap(%q, %d) = %q, want %q", tc.text, tc.width, got, tc.want)
		}
		for _, r := range got {
			if ansi.StringWidth(r) > tc.width {
				t.Errorf("row %q wider than %d", r, tc.width)
			}
		}
	}
}

// FuzzHangingWrap: whatever the text and width, no row is wider than the
// width and no character is lost or added (but the spaces wrapping takes).
func FuzzHangingWrap(f *testing.F) {
	f.Add("  /join #room     enter a room (made on first join); Ctrl+N/Ctrl+P switch", 60)
	f.Add("Keys: Enter or a click on [ Send ] sends; Alt+Enter or Ctrl+J: a new line;", 30)
	f.Add("你好 👍 a very long word: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 12)
	f.Add("   ", 8)
	f.Fuzz(func(t *testing.T, text string, width int) {
		text = strings.ReplaceAll(textsafe.Sanitize(text, false), "\t", " ")
		width = 8 + abs(width)%200
		rows := hangingWrap(text, width)
		for _, r := range rows {
			if ansi.StringWidth(r) > width {
				t.Fatalf("row %q wider than %d", r, width)
			}
		}
		squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if got, want := squeeze(strings.Join(rows, " ")), squeeze(text); got != want {
			t.Fatalf("hangingWrap(%q, %d) = %q: text changed", text, width, rows)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// A message whose long word holds a U+FFFD, which ansi.Wrap leaves too
// wide, is still cut to the pane's width.
func TestMessageRowsFitThePane(t *testing.T) {
	for w := 20; w <= 60; w++ {
		m := newTestModel(w, 12, nil)
		m.Update(incomingMsg{msgs: ptrs(room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bob",
			Text: "000000000000000000ӫ\x8300"})})
		checkView(t, m, w, 12)
	}
}
