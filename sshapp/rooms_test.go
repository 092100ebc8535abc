package sshapp

import (
	"context"
	"time"

	"fmt"
	"os"
	"path/filepath"
	"securechat/accounts"
	"securechat/limits"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"securechat/room"
)

func TestModelRoomsSwitchAndUnread(t *testing.T) {
	chat := &recordingChat{}
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 100, Height: 24, Chat: chat, Members: []string{"alice", "bob"},
		Rooms: []RoomState{{Name: "go", Topic: "gophers", Members: []string{"alice"}, Backlog: ptrs(room.Message{ID: 3, Time: t0, Kind: room.KindMessage, Room: "go", From: "bob", Text: "old go talk"})}}})
	v := checkView(t, m, 100, 24)
	if !strings.Contains(v, "alice · #lobby · 2 here · #go ") {
		t.Fatalf("other rooms not in the status line:\n%s", v)
	}
	// A message in #go while the lobby is on screen: unread, not shown.
	m.Update(incomingMsg{msgs: ptrs(room.Message{ID: 4, Time: t0, Kind: room.KindMessage, Room: "go", From: "bob", Text: "hey alice, in go"})})
	v = checkView(t, m, 100, 24)
	if strings.Contains(v, "hey alice, in go") || !strings.Contains(v, "#lobby · 2 here · #go (1) @ ") {
		t.Fatalf("unread mention not marked:\n%s", v)
	}
	// The side panel lists the rooms instead, with the same marks.
	typeText(m, "/panel on")
	enter(m)
	v = checkView(t, m, 100, 24)
	if !strings.Contains(v, "│ Rooms") || !strings.Contains(v, "▸ #lobby") || !strings.Contains(v, "│   #go (1) @") || strings.Contains(v, "here · #go") {
		t.Fatalf("side panel does not list the rooms:\n%s", v)
	}
	if len(chat.commands) == 0 || chat.commands[len(chat.commands)-1] != "panel on" {
		t.Fatalf("/panel on not remembered: %q", chat.commands)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlN})
	v = checkView(t, m, 100, 24)
	for _, want := range []string{"hey alice, in go", "old go talk", "alice · #go · 1 here · gophers", "▸ #go"} {
		if !strings.Contains(v, want) {
			t.Fatalf("#go view lacks %q:\n%s", want, v)
		}
	}
	// Typing goes to the room on screen.
	typeText(m, "in go now")
	enter(m)
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlP})
	if m.rooms.cur.name != "lobby" {
		t.Fatalf("Ctrl+P showed %s", m.rooms.cur.name)
	}
	// /join an open room switches; a new one asks the server.
	typeText(m, "/join #go")
	enter(m)
	if m.rooms.cur.name != "go" {
		t.Fatal("/join of an open room did not switch")
	}
	typeText(m, "/join #rust")
	enter(m)
	if m.rooms.cur.name != "rust" || !strings.Contains(checkView(t, m, 100, 24), "You are in #rust") {
		t.Fatalf("/join #rust: now in %s", m.rooms.cur.name)
	}
	typeText(m, "/leave")
	enter(m)
	if m.rooms.cur.name != "lobby" || m.rooms.views["rust"] != nil {
		t.Fatalf("/leave: in %s", m.rooms.cur.name)
	}
	typeText(m, "/leave")
	enter(m)
	if !strings.Contains(checkView(t, m, 100, 24), "you are in the lobby") {
		t.Fatal("leaving the lobby not refused")
	}
	if got := strings.Join(chat.commands, "|"); got != "panel on|join rust|leave rust" {
		t.Fatalf("commands %q", got)
	}
	// Narrow terminals keep everything in bounds with several rooms.
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 12})
	checkView(t, m, 40, 12)
}

func TestTwoUsersTwoRooms(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, func(c *Config) { c.TopicsPath = filepath.Join(dir, "topics.json") })
	aliceC := ts.login("alice", "secret-nyvpr")
	bobC := ts.login("bob", "secret-obo")
	a := openWelcomed(t, aliceC, 120, 30)
	b := openWelcomed(t, bobC, 120, 30)
	a.send("/join #go\r")
	a.waitFor("You are in #go")
	b.send("/join go\r")
	b.waitFor("You are in #go")
	a.waitFor("→ bob joined")
	a.send("/topic all things Go\r")
	b.waitFor("alice set the topic: all things Go")
	b.waitFor("· all things Go")
	a.send("gophers only\r")
	b.waitFor("alice: gophers only")
	// The lobby did not see it.
	if r := run(t, aliceC, "history", ""); strings.Contains(r.stdout, "gophers only") {
		t.Fatalf("lobby history has the #go message:\n%s", r.stdout)
	}
	if r := run(t, aliceC, "history --room #go", ""); !strings.Contains(r.stdout, "alice: gophers only") {
		t.Fatalf("history --room #go:\n%s", r.stdout)
	}
	if r := run(t, bobC, "send --room #go from a script", ""); r.code != 0 {
		t.Fatal(r)
	}
	a.waitFor("bob: from a script")
	if r := run(t, aliceC, "who --room #go", ""); r.stdout != "alice\nbob\n" {
		t.Fatalf("who --room: %q", r.stdout)
	}
	a.send("/rooms\r")
	a.waitFor("#go (2) all things Go")
	for _, bad := range []string{"bad name", strings.Repeat("x", 33)} {
		a.send("/join #" + bad + "\r")
		a.waitFor(`room "` + bad + `": a room name is 1 to 32`)
		a.send("\x15") // the refused command came back to the line
	}
	// Rooms and topics survive: alice's next login rejoins #go, and a
	// restart keeps the topic.
	a.send("/quit\r")
	a.waitEnded()
	b.send("/quit\r")
	b.waitEnded()
	ts.stop()
	ts = startServer(t, dir, func(c *Config) { c.TopicsPath = filepath.Join(dir, "topics.json") })
	a2 := openUI(t, ts.login("alice", "secret-nyvpr"), 120, 30)
	a2.waitFor("#lobby · 1 here · #go ·") // listed, not on screen yet
	a2.send("\x0e")                       // Ctrl+N
	a2.waitFor("#go · 1 here · #lobby · all things Go")
	a2.waitFor("alice: gophers only")
}

func TestPreRoomsHistoryReadsAsLobby(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`{"id":%d,"time":"2026-01-01T10:0%d:00Z","kind":"msg","from":"old","text":"before rooms %d"}`, i+1, i, i))
	}
	if err := os.WriteFile(filepath.Join(dir, "message_history.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, dir, nil)
	alice := ts.login("alice", "secret-nyvpr")
	if r := run(t, alice, "history --room #lobby", ""); !strings.Contains(r.stdout, "old: before rooms 2") {
		t.Fatalf("old lines not in the lobby:\n%s", r.stdout)
	}
	u := openUI(t, alice, 100, 30)
	u.waitFor("old: before rooms 2")
	if r := run(t, alice, "send new", ""); r.code != 0 {
		t.Fatal(r)
	}
	r := run(t, alice, "history --json -n 1", "")
	if !strings.Contains(r.stdout, `"room":"lobby"`) || !strings.Contains(r.stdout, `"id":5`) {
		t.Fatalf("new line: %s", r.stdout)
	}
}

func TestJoinLimits(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) {
		c.Limits.Flood = limits.FloodConfig{Burst: 5, PerSecond: 2, Now: clk.Now}
	})
	ts.login("alice", "secret-nyvpr").Close()
	ctx := context.Background()
	sub, err := ts.srv.Room().Join(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.srv.Room().Leave(sub)
	chat := sessionChat{s: ts.srv, user: "alice", ctx: ctx, sub: sub}
	// Joins are announced and stored, so they share the message rate.
	var refused error
	for i := range 10 {
		if _, err := chat.JoinRoom(fmt.Sprintf("r%d", i)); err != nil {
			refused = err
			break
		}
	}
	if refused == nil || !strings.Contains(refused.Error(), "too fast") {
		t.Fatalf("a burst of joins was not limited: %v", refused)
	}
	// And a session is in at most accounts.MaxRooms rooms.
	joined := len(sub.Rooms())
	for i := 0; joined < accounts.MaxRooms; i++ {
		clk.Advance(time.Second)
		if _, err := chat.JoinRoom(fmt.Sprintf("more%d", i)); err != nil {
			t.Fatalf("join %d: %v", joined, err)
		}
		joined = len(sub.Rooms())
	}
	clk.Advance(time.Minute)
	if _, err := chat.JoinRoom("onetoomany"); err == nil || !strings.Contains(err.Error(), "rooms already") {
		t.Fatalf("join past %d rooms: %v", accounts.MaxRooms, err)
	}
}
