package sshapp

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
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
	for _, h := range helpText {
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
