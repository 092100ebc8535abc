package sshapp

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"securechat/room"
)

// TestScrolledStatusOnANarrowTerminal: with a real fingerprint the status
// line does not fit 80 columns; the way back from scrolling stays whole,
// and the left end gives way.
func TestScrolledStatusOnANarrowTerminal(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Fingerprint: "SHA256:xXHgema2Bpjgh8Pl2Ys7L0S82LvS04Sr8UdAQB9hg9k",
		Styles: testStyles(termenv.Ascii), Members: []string{"alice", "bob"}, Width: 80, Height: 12})
	var msgs []room.Message
	for i := range 30 {
		msgs = append(msgs, room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, From: "bob", Text: fmt.Sprintf("message %02d", i)})
	}
	m.Update(incomingMsg{msgs: ptrs(msgs...)})
	status := func() string {
		rows := strings.Split(checkView(t, m, 80, 12), "\n")
		return rows[len(rows)-2]
	}
	if s := status(); strings.Contains(s, "scrolled") || !strings.HasPrefix(s, " alice · #lobby") {
		t.Fatalf("status at the bottom: %q", s)
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	s := status()
	if !strings.HasSuffix(s, "↑ scrolled: 3 rows below · Ctrl+End ") || !strings.HasPrefix(s, " alice · #lobby") || ansi.StringWidth(s) != 80 {
		t.Fatalf("status scrolled back: %q", s)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlEnd})
	if s := status(); strings.Contains(s, "scrolled") {
		t.Fatalf("status back at the bottom: %q", s)
	}
}

// Without the side panel the status line names the other rooms with what
// waits there; with it, the panel lists them and who is online, cut to its
// height, and neither is drawn again until something it shows changed.
func TestChromeStatusAndPanel(t *testing.T) {
	st := testStyles(termenv.Ascii)
	rv, c := newTestViews(t)
	rv.open(RoomState{Name: "rust"})
	rv.show(rv.views["lobby"])
	rv.deliver(msgIn(1, "go", "bob", "hi"))
	rv.deliver(msgIn(2, "rust", "bob", "alice: here"))
	s := c.status(st, 120, rv)
	if !strings.Contains(s, " alice · #lobby · 2 here · #go (1) #rust @ · host key SHA256:x") || c.statusWidth != 120 {
		t.Fatalf("status %q (%d cells)", s, c.statusWidth)
	}
	c.statusCache = "cached"
	if s := c.status(st, 120, rv); s != "cached" {
		t.Fatalf("drawn again with nothing changed: %q", s)
	}
	c.panel = true
	if got := c.paneWidth(120); got != 120-whoWidth {
		t.Fatalf("pane beside the panel: %d", got)
	}
	if got := c.paneWidth(minWhoScreen - 1); got != minWhoScreen-1 {
		t.Fatalf("panel on a narrow terminal: pane %d", got)
	}
	c.sideChanged()
	if s := c.status(st, 120, rv); strings.Contains(s, "#go") {
		t.Fatalf("the status line repeats the panel's rooms: %q", s)
	}
	rv.setMembers("lobby", []string{"alice", "bob", "carol", "dave", "erin", "frank"})
	side := c.side(st, 8, rv)
	var cells []string
	for _, l := range side {
		if l.width != ansi.StringWidth(l.text) || l.width > whoWidth {
			t.Fatalf("row %q measured %d", l.text, l.width)
		}
		cells = append(cells, strings.TrimPrefix(l.text, "│ "))
	}
	want := []string{"Rooms", "▸ #lobby", "  #go (1)", "  #rust @", "│", "Online (6)", "alice", "+5 more"}
	if !slices.Equal(cells, want) {
		t.Fatalf("panel %q, want %q", cells, want)
	}
	if again := c.side(st, 8, rv); &again[0] != &side[0] {
		t.Fatal("panel drawn again with nothing changed")
	}
}
