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

func TestModelMessageLimit(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 80, Height: 24, MaxMessage: 10})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("0123456789abc"), Paste: true})
	wantInput(t, m, "input", "0123456789")
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "at most 10 characters") {
		t.Fatalf("cut not shown:\n%s", v)
	}
	// Control characters never enter the line.
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a\x1b[2Jb"), Paste: true})
	wantInput(t, m, "input", "a[2Jb")
}

func TestModelEditing(t *testing.T) {
	m := newTestModel(80, 24, nil)
	typeText(m, "hello world")
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlW})
	wantInput(t, m, "Ctrl+W", "hello ")
	m.Update(tea.KeyMsg{Type: tea.KeyHome})
	typeText(m, ">")
	m.Update(tea.KeyMsg{Type: tea.KeyEnd})
	m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	m.Update(tea.KeyMsg{Type: tea.KeyLeft})
	m.Update(tea.KeyMsg{Type: tea.KeyDelete})
	wantInput(t, m, "editing", ">hell")
}

// The line editor alone: each editing key on a known line and cursor.
func TestLineEditorKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		line   string
		cursor int
		key    tea.KeyMsg
		want   string
		at     int
	}{
		{"left", "abc", 3, tea.KeyMsg{Type: tea.KeyLeft}, "abc", 2},
		{"left at start", "abc", 0, tea.KeyMsg{Type: tea.KeyCtrlB}, "abc", 0},
		{"right at end", "abc", 3, tea.KeyMsg{Type: tea.KeyRight}, "abc", 3},
		{"home", "abc", 2, tea.KeyMsg{Type: tea.KeyCtrlA}, "abc", 0},
		{"end", "abc", 0, tea.KeyMsg{Type: tea.KeyCtrlE}, "abc", 3},
		{"backspace", "abc", 2, tea.KeyMsg{Type: tea.KeyBackspace}, "ac", 1},
		{"backspace at start", "abc", 0, tea.KeyMsg{Type: tea.KeyCtrlH}, "abc", 0},
		{"delete", "abc", 1, tea.KeyMsg{Type: tea.KeyDelete}, "ac", 1},
		{"ctrl+d deletes", "abc", 0, tea.KeyMsg{Type: tea.KeyCtrlD}, "bc", 0},
		{"ctrl+u", "hello world", 6, tea.KeyMsg{Type: tea.KeyCtrlU}, "world", 0},
		{"ctrl+k", "hello world", 5, tea.KeyMsg{Type: tea.KeyCtrlK}, "hello", 5},
		{"ctrl+w", "hello  world  ", 14, tea.KeyMsg{Type: tea.KeyCtrlW}, "hello  ", 7},
		{"ctrl+j", "ab", 1, tea.KeyMsg{Type: tea.KeyCtrlJ}, "a\nb", 2},
		{"space", "ab", 1, tea.KeyMsg{Type: tea.KeySpace}, "a b", 2},
		{"runes", "ab", 1, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("xy")}, "axyb", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLineEditor(100)
			e.set(tc.line)
			e.cursor = tc.cursor
			if handled, cut := e.edit(tc.key); !handled || cut {
				t.Fatalf("handled %v cut %v", handled, cut)
			}
			if string(e.input) != tc.want || e.cursor != tc.at {
				t.Fatalf("got %q at %d, want %q at %d", string(e.input), e.cursor, tc.want, tc.at)
			}
		})
	}
	e := newLineEditor(100)
	if handled, _ := e.edit(tea.KeyMsg{Type: tea.KeyF5}); handled {
		t.Fatal("F5 taken as an editing key")
	}
}

// Typing past the limit takes what fits and reports the cut; control
// characters never enter the line; a new line never exceeds the limit.
func TestLineEditorLimit(t *testing.T) {
	e := newLineEditor(5)
	if cut := e.insert([]rune("abc")); cut {
		t.Fatal("cut within the limit")
	}
	if cut := e.insert([]rune("d\x07e\x1bfg")); !cut || string(e.input) != "abcde" {
		t.Fatalf("cut %v, line %q", cut, string(e.input))
	}
	e.insertNewline()
	if string(e.input) != "abcde" {
		t.Fatalf("a new line past the limit: %q", string(e.input))
	}
	e.clear()
	if !e.empty() || e.cursor != 0 {
		t.Fatal("clear left something")
	}
	e.restore("kept")
	e.restore("lost")
	if e.line() != "kept" {
		t.Fatalf("restore overwrote the line: %q", e.line())
	}
}

// Up and Down walk what was typed, without repeats in a row, and end on
// an empty line; the history is bounded.
func TestLineEditorRecall(t *testing.T) {
	e := newLineEditor(100)
	for _, s := range []string{"one", "two", "two", "three"} {
		e.remember(s)
	}
	var got []string
	for range 4 {
		e.recall(-1)
		got = append(got, e.line())
	}
	if want := []string{"three", "two", "one", "one"}; !slices.Equal(got, want) {
		t.Fatalf("up: %q, want %q", got, want)
	}
	e.recall(1)
	e.recall(1)
	e.recall(1)
	if e.line() != "" || e.cursor != 0 {
		t.Fatalf("down past the newest: %q", e.line())
	}
	for i := range 150 {
		e.remember(fmt.Sprint(i))
	}
	if len(e.history) != 100 || e.history[0] != "50" {
		t.Fatalf("history of %d from %q, want the last 100", len(e.history), e.history[0])
	}
}

// Tab completes commands after a leading "/", rooms after "#" and names
// otherwise; an ambiguous word is completed to the common prefix and its
// candidates listed once while the word stays the same.
func TestLineEditorComplete(t *testing.T) {
	roomsAsked := 0
	c := completions{
		commands: []string{"/help", "/join", "/whois", "/who"},
		rooms:    func() []string { roomsAsked++; return []string{"#go", "#golang", "#lobby"} },
		members:  []string{"alice", "albert", "bob"},
	}
	for _, tc := range []struct {
		line, want, list string
	}{
		{"/he", "/help ", ""},
		{"/who", "/who", "/whois  /who"},
		{"/jo", "/join ", ""},
		{"hi b", "hi bob ", ""},
		{"hi @b", "hi @bob ", ""},
		{"@al", "@al", "alice  albert"},
		{"#gol", "#golang ", ""},
		{"#g", "#go", "#go  #golang"},
		{"x /he", "x /he", ""}, // not at the start: no command
		{"zz", "zz", ""},
	} {
		e := newLineEditor(100)
		e.set(tc.line)
		if list := e.complete(c); list != tc.list || string(e.input) != tc.want {
			t.Errorf("%q: got %q listing %q, want %q listing %q", tc.line, string(e.input), list, tc.want, tc.list)
		}
		if tc.want != tc.line {
			continue
		}
		if list := e.complete(c); list != "" {
			t.Errorf("%q: a second Tab listed %q again", tc.line, list)
		}
	}
	if roomsAsked != 2 {
		t.Errorf("rooms asked for %d times, want only when completing one (2)", roomsAsked)
	}
}

// The drawn line keeps the cursor in view however long the line, fits the
// width, and is drawn again only when something it shows changed.
func TestLineEditorView(t *testing.T) {
	st := testStyles(termenv.Ascii)
	e := newLineEditor(2000)
	e.set(strings.Repeat("a", 100) + "END")
	s, w := e.view(st, 40)
	if w != 40 || ansi.StringWidth(s) != 40 || !strings.Contains(s, "END") || !strings.HasSuffix(s, sendButton) {
		t.Fatalf("width %d: %q", w, s)
	}
	e.cursor = 0
	if s, _ := e.view(st, 40); strings.Contains(s, "END") || !strings.HasPrefix(s, "> a") {
		t.Fatalf("cursor at the start: %q", s)
	}
	before, _ := e.view(st, 40)
	e.cache = "stale" // a cached line is not drawn again...
	if s, _ := e.view(st, 40); s != "stale" {
		t.Fatalf("drawn again with nothing changed: %q (was %q)", s, before)
	}
	e.input[0] = 'b' // ...but a changed rune is
	if s, _ := e.view(st, 40); !strings.HasPrefix(s, "> b") {
		t.Fatalf("not drawn again after an edit: %q", s)
	}
	e.set("x\ny")
	if s, _ := e.view(st, 40); !strings.HasPrefix(s, "> x↵y") {
		t.Fatalf("a line break: %q", s)
	}
}

func TestModelTabAndHistory(t *testing.T) {
	m := newTestModel(80, 24, &recordingChat{})
	m.rooms.cur.members = []string{"alice", "albert", "bob"}
	typeText(m, "hi b")
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	wantInput(t, m, "tab", "hi bob ")
	retype(m, "@al", tea.KeyTab)
	wantInput(t, m, "ambiguous tab changed the line", "@al")
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "alice  albert") {
		t.Fatalf("candidates not listed:\n%s", v)
	}
	typeText(m, "b")
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	wantInput(t, m, "tab", "@albert ")
	retype(m, "/whoi", tea.KeyTab)
	wantInput(t, m, "command tab", "/whois ")
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	for _, s := range []string{"first", "second"} {
		typeText(m, s)
		enter(m)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	wantInput(t, m, "up", "second")
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	wantInput(t, m, "up up", "first")
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	m.Update(tea.KeyMsg{Type: tea.KeyDown})
	wantInput(t, m, "down past the newest", "")
}

func TestModelMultiline(t *testing.T) {
	chat := &recordingChat{}
	m := newTestModel(80, 24, chat)
	typeText(m, "line one")
	m.Update(tea.KeyMsg{Type: tea.KeyEnter, Alt: true})
	typeText(m, "line two")
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlJ})
	typeText(m, "three")
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "line one↵line two↵three") {
		t.Fatalf("input:\n%s", v)
	}
	enter(m)
	wantSent(t, chat, "line one\nline two\nthree")
	m.Update(incomingMsg{msgs: ptrs(room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "alice", Text: "line one\nline two"})})
	v := checkView(t, m, 80, 24)
	if !strings.Contains(v, "09:30 alice: line one\n             line two\n") {
		t.Fatalf("multi-line message not shown as an indented block:\n%s", v)
	}
}
