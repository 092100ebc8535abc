package sshapp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// pacedChat is a Chat that takes burst lines at once and then answers
// slowDown every other time, as the server's paced flood check does to a
// sender over the rate.
type pacedChat struct {
	recordingChat
	mu    sync.Mutex
	burst int
	calls int
}

func (c *pacedChat) Send(room, text string) error {
	c.mu.Lock()
	c.calls++
	slow := c.calls > c.burst && c.calls%2 == 0
	c.mu.Unlock()
	if slow {
		return slowDown{wait: time.Millisecond}
	}
	return c.recordingChat.Send(room, text)
}

// settle runs cmd and every command the model answers with, the way
// Bubble Tea would, until nothing is left to do.
func settle(m *Model, cmd tea.Cmd) {
	for cmd != nil {
		msg := cmd()
		if msg == nil {
			return
		}
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				settle(m, c)
			}
			return
		}
		_, cmd = m.Update(msg)
	}
}

// pressEnter presses Enter and returns what the model asks to run,
// without running it (lines arriving faster than they can be sent).
func pressEnter(m *Model) tea.Cmd {
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	return cmd
}

// Twenty lines at once (a paste without bracketed paste) all go out, in
// order, and the ones over the rate wait in the outbox, counted beside the
// input, instead of being refused.
func TestOutboxKeepsLinesOverTheRate(t *testing.T) {
	chat := &pacedChat{burst: 5}
	m := newTestModel(100, 30, chat)
	var cmds []tea.Cmd
	var want []string
	for i := range 20 {
		line := fmt.Sprintf("pasted line %d", i+1)
		want = append(want, line)
		typeText(m, line)
		if c := pressEnter(m); c != nil {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) != 1 {
		t.Fatalf("%d sends under way at once, want 1 (in order, one at a time)", len(cmds))
	}
	if v := checkView(t, m, 100, 30); !strings.Contains(v, "[20 to send] >") {
		t.Fatalf("the outbox is not shown:\n%s", v)
	}
	settle(m, cmds[0])
	if !slices.Equal(chat.sent, want) {
		t.Fatalf("sent %q", chat.sent)
	}
	v := checkView(t, m, 100, 30)
	if !strings.Contains(v, "your lines wait their turn") || strings.Contains(v, "to send]") || strings.Contains(v, "not sent") {
		t.Fatalf("after the outbox drained:\n%s", v)
	}
	wantInput(t, m, "input after the paste", "")
}

// Esc takes the waiting lines back into the input, line breaks kept, and
// Enter then sends them as one multi-line message.
func TestOutboxEscTakesLinesBack(t *testing.T) {
	chat := &pacedChat{burst: 1}
	m := newTestModel(100, 30, chat)
	var first tea.Cmd
	for i := range 4 {
		typeText(m, fmt.Sprintf("l%d", i+1))
		if c := pressEnter(m); c != nil {
			first = c
		}
	}
	// The first line goes; the second is told to wait.
	_, next := m.Update(first())
	if msg := next(); msg != nil { // slowDown: a retry is scheduled
		_, _ = m.Update(msg)
	}
	typeText(m, "typing")
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	wantInput(t, m, "after Esc", "l2\nl3\nl4\ntyping")
	if v := checkView(t, m, 100, 30); !strings.Contains(v, "3 waiting lines taken back") {
		t.Fatalf("Esc not explained:\n%s", v)
	}
	chat.burst = 1000
	settle(m, pressEnter(m))
	if want := []string{"l1", "l2\nl3\nl4\ntyping"}; !slices.Equal(chat.sent, want) {
		t.Fatalf("sent %q, want %q", chat.sent, want)
	}
}

// A refusal (not a wait) gives the line and everything behind it back to
// the input and says why: nothing is dropped.
func TestOutboxRefusalGivesEverythingBack(t *testing.T) {
	chat := &recordingChat{fail: errors.New("you are muted by an admin")}
	m := newTestModel(100, 30, chat)
	var first tea.Cmd
	for _, l := range []string{"one", "two", "three"} {
		typeText(m, l)
		if c := pressEnter(m); c != nil {
			first = c
		}
	}
	settle(m, first)
	wantInput(t, m, "after the refusal", "one\ntwo\nthree")
	v := checkView(t, m, 100, 30)
	if !strings.Contains(v, "not sent: you are muted by an admin") || !strings.Contains(v, "3 lines not sent are back") {
		t.Fatalf("refusal not explained:\n%s", v)
	}
}

// A bracketed paste keeps its line breaks; one longer than a message goes
// as several, split at line breaks, and the user is told; one longer than
// the input holds is cut there, and the user is told.
func TestBracketedPaste(t *testing.T) {
	chat := &recordingChat{}
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Chat: chat, Width: 100, Height: 30, MaxMessage: 20, MaxDraft: 60})
	paste := func(s string) {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
	}
	paste("one\rtwo\r\nthree\n")
	wantInput(t, m, "pasted lines", "one\ntwo\nthree\n")
	settle(m, pressEnter(m))
	wantSent(t, chat, "one\ntwo\nthree")

	chat.sent = nil
	paste("aaaa bbbb\ncccc dddd\neeee ffff\ngggg")
	if v := checkView(t, m, 100, 30); !strings.Contains(v, "Enter sends it as 2 messages") {
		t.Fatalf("not told before sending that the paste goes as 2 messages:\n%s", v)
	}
	settle(m, pressEnter(m))
	if want := []string{"aaaa bbbb\ncccc dddd", "eeee ffff\ngggg"}; !slices.Equal(chat.sent, want) {
		t.Fatalf("sent %q, want %q", chat.sent, want)
	}
	if v := checkView(t, m, 100, 30); !strings.Contains(v, "it goes as 2 messages") {
		t.Fatalf("the split is not explained:\n%s", v)
	}

	paste(strings.Repeat("x", 70))
	wantInput(t, m, "over the input's size", strings.Repeat("x", 60))
	if v := checkView(t, m, 100, 30); !strings.Contains(v, "the input holds at most 60 characters") {
		t.Fatalf("the cut is not explained:\n%s", v)
	}
}

func TestSplitMessage(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"short", []string{"short"}},
		{"0123456789", []string{"0123456789"}},
		{"01234\n56789abc", []string{"01234", "56789abc"}},
		{"0123 5678 abcdef", []string{"0123 5678", "abcdef"}},
		{"0123456789abcdefghij", []string{"0123456789", "abcdefghij"}},
		{"a\n\n\n\n\n\n\n\n\n\n\nb", []string{"a", "b"}},
	} {
		if got := splitMessage(tc.in, 10); !slices.Equal(got, tc.want) {
			t.Errorf("splitMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSplitMessage: every part fits, none is blank, and together they
// hold every character of the text that is not a space or line break, in
// order: a split never loses words.
func FuzzSplitMessage(f *testing.F) {
	for _, s := range []string{"", "a", "0123 5678 abcdef", "a\n\n\nb", strings.Repeat("x", 25), "é日本\n語 x"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max < 1 || max > 100 || len(text) > 2000 {
			t.Skip()
		}
		parts := splitMessage(text, max)
		keep := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0xA0 || strings.TrimSpace(string(r)) == "" {
					return -1
				}
				return r
			}, s)
		}
		var joined strings.Builder
		for _, p := range parts {
			if n := len([]rune(p)); n > max || strings.TrimSpace(p) == "" {
				t.Fatalf("part %q of %d characters (max %d)", p, n, max)
			}
			joined.WriteString(p)
		}
		if keep(joined.String()) != keep(text) {
			t.Fatalf("split %q into %q", text, parts)
		}
	})
}

// Leaving while lines still wait asks first: a reflex Ctrl+C does not
// throw away a paste that is still going out.
func TestOutboxQuitAsksFirst(t *testing.T) {
	m := newTestModel(100, 30, &recordingChat{})
	typeText(m, "one")
	pressEnter(m) // on its way, not run yet
	typeText(m, "two")
	pressEnter(m)
	if _, cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); cmd != nil || m.quitting {
		t.Fatal("Ctrl+C left with lines waiting")
	}
	if v := checkView(t, m, 100, 30); !strings.Contains(v, "2 lines are still to send") {
		t.Fatalf("not warned:\n%s", v)
	}
	if _, cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); cmd == nil || !m.quitting {
		t.Fatal("a second Ctrl+C did not leave")
	}
}
