package sshapp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
	"securechat/room"
)

func TestModelScrolling(t *testing.T) {
	m := newTestModel(80, 12, nil)
	var msgs []room.Message
	for i := range 50 {
		msgs = append(msgs, room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, From: "bob", Text: fmt.Sprintf("message %02d", i)})
	}
	m.Update(incomingMsg{msgs: ptrs(msgs...)})
	if v := checkView(t, m, 80, 12); !strings.Contains(v, "message 49") {
		t.Fatalf("not at the bottom:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyPgUp})
	v := checkView(t, m, 80, 12)
	if strings.Contains(v, "message 49") || !strings.Contains(v, "scrolled") {
		t.Fatalf("PgUp did not scroll:\n%s", v)
	}
	// New messages while reading back do not move the view.
	before := v
	m.Update(incomingMsg{msgs: ptrs(room.Message{ID: 51, Time: t0, Kind: room.KindMessage, From: "bob", Text: "newest"})})
	if after := checkView(t, m, 80, 12); !strings.Contains(after, "message 4") || strings.Contains(after, "newest") {
		t.Fatalf("view moved while scrolled back:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
	m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
	if v := checkView(t, m, 80, 12); !strings.Contains(v, "newest") {
		t.Fatalf("PgDn did not return to the bottom:\n%s", v)
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if v := checkView(t, m, 80, 12); strings.Contains(v, "newest") {
		t.Fatalf("wheel up did not scroll:\n%s", v)
	}
}

// The scrollback is bounded however many messages arrive.
func TestModelScrollbackBounded(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 80, Height: 10, Scrollback: 100})
	for i := range 1000 {
		m.Update(incomingMsg{msgs: ptrs(room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, From: "bob", Text: "x"})})
	}
	if m.rooms.cur.rows.len() > 100 || len(m.rooms.cur.msgs) > 100 {
		t.Fatalf("rows %d msgs %d, want at most 100", m.rooms.cur.rows.len(), len(m.rooms.cur.msgs))
	}
	if v := checkView(t, m, 80, 10); !strings.Contains(v, "bob: x") {
		t.Fatal(v)
	}
}

// TestJoinBurstsShareALine: joins (or leaves) in a row within a minute are
// one line naming the first three and counting the rest, so a crowd
// reconnecting fills neither the screen nor the scrollback; anything else
// in between starts a new line.
func TestJoinBurstsShareALine(t *testing.T) {
	m := newTestModel(80, 24, nil)
	notice := func(id int, kind room.Kind, who string, at time.Duration) *room.Message {
		verb := " joined"
		if kind == room.KindLeave {
			verb = " left"
		}
		return &room.Message{ID: uint64(id), Time: t0.Add(at), Kind: kind, Room: "lobby", From: who, Text: who + verb}
	}
	before := len(m.rooms.cur.msgs)
	var msgs []*room.Message
	for i := range 1000 {
		msgs = append(msgs, notice(i+1, room.KindJoin, fmt.Sprintf("user%d", i), time.Duration(i)*time.Millisecond))
	}
	m.Update(incomingMsg{msgs: msgs[:1]})
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "09:30 → user0 joined") {
		t.Fatalf("one join:\n%s", v)
	}
	m.Update(incomingMsg{msgs: msgs[1:2]})
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "09:30 → user0 and user1 joined") || strings.Contains(v, "→ user0 joined") {
		t.Fatalf("two joins:\n%s", v)
	}
	m.Update(incomingMsg{msgs: msgs[2:]})
	v := checkView(t, m, 80, 24)
	if !strings.Contains(v, "→ user0, user1, user2 and 997 others joined") || strings.Contains(v, "user3") {
		t.Fatalf("a thousand joins:\n%s", v)
	}
	if got := len(m.rooms.cur.msgs) - before; got != 1 {
		t.Fatalf("a thousand joins kept %d entries, want 1", got)
	}
	// A message, then a leave and a join: separate lines again.
	m.Update(incomingMsg{msgs: []*room.Message{
		{ID: 2001, Time: t0.Add(2 * time.Second), Kind: room.KindMessage, Room: "lobby", From: "bob", Text: "hi"},
		notice(2002, room.KindLeave, "carol", 3*time.Second),
		notice(2003, room.KindJoin, "dave", 4*time.Second),
		notice(2004, room.KindJoin, "erin", 2*time.Minute), // past the burst's minute
	}})
	v = checkView(t, m, 80, 24)
	for _, want := range []string{"bob: hi\n", "→ user0, user1, user2 and 997 others joined\n", "← carol left\n", "→ dave joined\n", "09:32 → erin joined\n"} {
		if !strings.Contains(v, want) {
			t.Fatalf("lacks %q:\n%s", want, v)
		}
	}
	// The merged line survives a resize (it is re-wrapped like any other).
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 24})
	if v := checkView(t, m, 40, 24); !strings.Contains(v, "user2 and 997\n") || !strings.Contains(v, " others joined\n") {
		t.Fatalf("after a resize:\n%s", v)
	}
}

func TestBacklogMarkerCounts(t *testing.T) {
	for n, want := range map[int]string{1: "— 1 earlier message above —", 2: "— 2 earlier messages above —"} {
		var backlog []room.Message
		for i := range n {
			backlog = append(backlog, room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, From: "bob", Text: "hi"})
		}
		if v := checkView(t, newTestModel(80, 12, nil, backlog...), 80, 12); !strings.Contains(v, want) {
			t.Errorf("backlog of %d: no %q in\n%s", n, want, v)
		}
	}
}

// newTestViews builds the room views alone, with a lobby and #go, on a pane
// 80x10.
func newTestViews(t *testing.T) (*roomViews, *chrome) {
	t.Helper()
	c := newChrome("alice", "SHA256:x", false)
	f := &formatter{st: testStyles(termenv.Ascii), user: "alice", loc: time.UTC, stamps: "time"}
	rv := newRoomViews(f, &c, "lobby", 100, 80, 10, []string{"mallory"})
	rv.open(RoomState{Name: "lobby", Members: []string{"alice", "bob"}})
	rv.open(RoomState{Name: "go", Members: []string{"alice"}})
	return &rv, &c
}

func msgIn(id uint64, roomName, from, text string) *room.Message {
	return &room.Message{ID: id, Time: t0, Kind: room.KindMessage, Room: roomName, From: from, Text: text}
}

// Messages for a room not on screen count as unread (a mention marks it),
// and showing the room clears both; the chrome is told each time.
func TestRoomViewsUnread(t *testing.T) {
	rv, c := newTestViews(t)
	if rv.cur.name != "lobby" {
		t.Fatalf("on screen: %s", rv.cur.name)
	}
	c.whoCache, c.statusDirty = []line{}, false
	rv.deliver(msgIn(1, "go", "bob", "hi"))
	g := rv.views["go"]
	if g.unread != 1 || g.mentioned || c.whoCache != nil || !c.statusDirty {
		t.Fatalf("unread %d mentioned %v, chrome told %v", g.unread, g.mentioned, c.whoCache == nil)
	}
	rv.deliver(msgIn(2, "go", "bob", "alice: look"))
	if g.unread != 2 || !g.mentioned {
		t.Fatalf("after a mention: unread %d mentioned %v", g.unread, g.mentioned)
	}
	rv.cycle(1)
	if rv.cur != g || g.unread != 0 || g.mentioned {
		t.Fatalf("shown: %s unread %d mentioned %v", rv.cur.name, g.unread, g.mentioned)
	}
	rv.close("go")
	if rv.cur.name != "lobby" || rv.views["go"] != nil || len(rv.order) != 1 {
		t.Fatalf("after close: on %s, order %v", rv.cur.name, rv.order)
	}
}

// A message is shown once (not again after the backlog), never from an
// ignored user, and never in a room this session is not in.
func TestRoomViewsDeliver(t *testing.T) {
	rv, _ := newTestViews(t)
	lobby := rv.views["lobby"]
	n := len(lobby.msgs)
	for _, tc := range []struct {
		msg   *room.Message
		shown bool
	}{
		{msgIn(5, "lobby", "bob", "first"), true},
		{msgIn(5, "lobby", "bob", "again"), false},
		{msgIn(4, "lobby", "bob", "older"), false},
		{msgIn(6, "lobby", "mallory", "spam"), false},
		{msgIn(7, "rust", "bob", "elsewhere"), false},
		{&room.Message{ID: 8, Time: t0, Kind: room.KindJoin, Room: "lobby", From: "mallory", Text: "mallory joined"}, true},
		{&room.Message{ID: 9, Time: t0, Kind: room.KindTopic, Room: "lobby", From: "bob", Text: "new\x1b[2J topic"}, true},
	} {
		if got := rv.deliver(tc.msg); got != tc.shown {
			t.Errorf("%q: shown %v, want %v", tc.msg.Text, got, tc.shown)
		}
	}
	if got := len(lobby.msgs) - n; got != 3 {
		t.Errorf("%d entries added, want 3", got)
	}
	if lobby.topic != "new[2J topic" {
		t.Errorf("topic %q", lobby.topic)
	}
}

// Reading back holds the view still while messages arrive; a change of
// width re-wraps and returns to the newest; scrolling stays in bounds.
func TestRoomViewsScrollAndResize(t *testing.T) {
	rv, c := newTestViews(t)
	for i := range 30 {
		rv.deliver(msgIn(uint64(i+1), "lobby", "bob", fmt.Sprintf("m%d", i)))
	}
	rv.scroll(5)
	if rv.cur.shift != 5 || !c.statusDirty {
		t.Fatalf("shift %d", rv.cur.shift)
	}
	rv.deliver(msgIn(100, "lobby", "bob", "new"))
	if rv.cur.shift != 6 {
		t.Fatalf("shift %d after a message while reading back, want 6", rv.cur.shift)
	}
	rv.scroll(1000)
	if want := rv.cur.rows.len() - rv.height; rv.cur.shift != want {
		t.Fatalf("shift %d, want at most %d", rv.cur.shift, want)
	}
	rv.scroll(-1000)
	if rv.cur.shift != 0 {
		t.Fatalf("shift %d past the newest", rv.cur.shift)
	}
	rv.scroll(3)
	long := strings.Repeat("word ", 30)
	rv.deliver(msgIn(101, "lobby", "bob", long))
	rows := rv.cur.rows.len()
	rv.resize(80, 20) // the height alone: nothing re-wrapped
	if rv.cur.rows.len() != rows || rv.cur.shift == 0 {
		t.Fatalf("a change of height re-wrapped: %d rows, shift %d", rv.cur.rows.len(), rv.cur.shift)
	}
	rv.resize(30, 20)
	if rv.cur.rows.len() <= rows || rv.cur.shift != 0 || rv.cur.width != 30 {
		t.Fatalf("a change of width: %d rows (was %d), shift %d, width %d", rv.cur.rows.len(), rows, rv.cur.shift, rv.cur.width)
	}
	if g := rv.views["go"]; g.width != 80 {
		t.Fatalf("a room not on screen was re-wrapped at once: %d", g.width)
	}
	rv.show(rv.views["go"])
	if rv.views["go"].width != 30 {
		t.Fatal("a room shown after a resize is not re-wrapped")
	}
}
