package sshapp

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"securechat/room"
)

// recordingChat is a Chat that remembers what the model asked of it.
type recordingChat struct {
	mu       sync.Mutex
	sent     []string
	commands []string
	bells    int
	fail     error
}

func (c *recordingChat) Bell() {
	c.mu.Lock()
	c.bells++
	c.mu.Unlock()
}

func (c *recordingChat) Send(_, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, text)
	return c.fail
}

func (c *recordingChat) JoinRoom(name string) (RoomState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, "join "+name)
	return RoomState{Name: name, Members: []string{"alice"}}, c.fail
}

func (c *recordingChat) LeaveRoom(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, "leave "+name)
	return c.fail
}

func (c *recordingChat) Command(_, name, args string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, name+" "+args)
	return []string{"ran " + name}, c.fail
}

func testStyles(profile termenv.Profile) *Styles {
	return NewStyles(lipglossRenderer(profile))
}

var t0 = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func newTestModel(w, h int, chat Chat, backlog ...room.Message) *Model {
	return NewModel(ModelConfig{
		User:        "alice",
		Fingerprint: "SHA256:testfingerprint",
		Styles:      testStyles(termenv.Ascii),
		Chat:        chat,
		Members:     []string{"alice", "bob"},
		Backlog:     ptrs(backlog...),
		Width:       w,
		Height:      h,
	})
}

func typeText(m *Model, s string) {
	for _, r := range s {
		if r == ' ' {
			m.Update(tea.KeyMsg{Type: tea.KeySpace})
			continue
		}
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// runCmd executes a command the way Bubble Tea would and feeds its message
// back into the model.
func runCmd(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if msg := cmd(); msg != nil {
		m.Update(msg)
	}
}

func enter(m *Model) {
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	runCmd(m, cmd)
}

// checkView asserts the frame has exactly h rows, none wider than w.
// gapSeq is how a frame skips blank cells (see gap): shown as the spaces
// it leaves on a terminal.
var gapSeq = regexp.MustCompile("\x1b\\[(\\d+)X\x1b\\[\\d+C")

// terminalText is a frame with its gaps written as the spaces they leave.
func terminalText(frame string) string {
	return gapSeq.ReplaceAllStringFunc(frame, func(s string) string {
		n, _ := strconv.Atoi(gapSeq.FindStringSubmatch(s)[1])
		return strings.Repeat(" ", n)
	})
}

func checkView(t *testing.T, m *Model, w, h int) string {
	t.Helper()
	v := terminalText(m.View())
	rows := strings.Split(v, "\n")
	if len(rows) != h {
		t.Fatalf("%d rows at height %d:\n%s", len(rows), h, v)
	}
	for i, r := range rows {
		if got := ansi.StringWidth(r); got > w {
			t.Fatalf("row %d is %d cells wide at width %d: %q", i, got, w, ansi.Strip(r))
		}
	}
	return ansi.Strip(v)
}

func TestModelSendsOnEnter(t *testing.T) {
	chat := &recordingChat{}
	m := newTestModel(80, 24, chat)
	typeText(m, "hello there")
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "> hello there") {
		t.Fatalf("input not shown:\n%s", v)
	}
	enter(m)
	wantSent(t, chat, "hello there")
	if v := checkView(t, m, 80, 24); strings.Contains(v, "> hello there") {
		t.Fatal("input not cleared after sending")
	}
	// "//x" sends "/x"; blank lines send nothing.
	typeText(m, "//slash")
	enter(m)
	typeText(m, "   ")
	enter(m)
	if len(chat.sent) != 2 || chat.sent[1] != "/slash" {
		t.Fatalf("sent %q", chat.sent)
	}
}

func TestModelFailedSendKeepsText(t *testing.T) {
	chat := &recordingChat{fail: errors.New("disk full")}
	m := newTestModel(80, 24, chat)
	typeText(m, "precious words")
	enter(m)
	v := checkView(t, m, 80, 24)
	if !strings.Contains(v, "not sent: disk full") || !strings.Contains(v, "> precious words") {
		t.Fatalf("failure not shown or text lost:\n%s", v)
	}
}

func TestModelIncomingAndLayout(t *testing.T) {
	m := newTestModel(80, 24, nil, room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bob", Text: "from the backlog"})
	m.Update(incomingMsg{msgs: ptrs(
		room.Message{ID: 2, Time: t0, Kind: room.KindJoin, From: "carol", Text: "carol joined"},
		room.Message{ID: 3, Time: t0, Kind: room.KindMessage, From: "carol", Text: "hi all"}), members: []string{"alice", "bob", "carol"}})
	v := checkView(t, m, 80, 24)
	for _, want := range []string{"09:30 bob: from the backlog", "→ carol joined", "09:30 carol: hi all", "alice · #lobby · 3 here", "SHA256:testfingerprint", "[ Send ]", "Welcome to #lobby, alice"} {
		if !strings.Contains(v, want) {
			t.Fatalf("view lacks %q:\n%s", want, v)
		}
	}
	// The side panel is off until asked for: F2 shows it, and /panel
	// remembers the choice.
	if strings.Contains(v, "Online (3)") {
		t.Fatalf("side panel shown before it was asked for:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyF2})
	v = checkView(t, m, 80, 24)
	if !strings.Contains(v, "│ Online (3)") || !strings.Contains(v, "carol: hi all") {
		t.Fatalf("F2 did not show the side panel:\n%s", v)
	}
	// Narrow terminals hide the online list but keep everything in bounds.
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
	v = checkView(t, m, 40, 10)
	if strings.Contains(v, "Online (3)") {
		t.Fatalf("online list shown at 40 columns:\n%s", v)
	}
	if !strings.Contains(v, "carol: hi all") {
		t.Fatalf("newest message not visible after resize:\n%s", v)
	}
}

func TestModelWideCharactersStayInBounds(t *testing.T) {
	for _, w := range []int{40, 80, 120, 200, 300} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m := newTestModel(w, 20, nil)
			m.Update(incomingMsg{msgs: ptrs(
				room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bob", Text: strings.Repeat("你好世界 👍🏽 ", 20)},
				room.Message{ID: 2, Time: t0, Kind: room.KindMessage, From: "bob", Text: strings.Repeat("x", 300)},
				room.Message{ID: 3, Time: t0, Kind: room.KindMessage, From: "bob", Text: "line one\nline two"})})
			typeText(m, strings.Repeat("日本語", 30))
			checkView(t, m, w, 20)
		})
	}
}

func TestModelSendButton(t *testing.T) {
	chat := &recordingChat{}
	m := newTestModel(80, 24, chat)
	typeText(m, "by mouse")
	// A click elsewhere on the input row does nothing.
	_, cmd := m.Update(tea.MouseMsg{X: 10, Y: 23, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	runCmd(m, cmd)
	if len(chat.sent) != 0 {
		t.Fatal("a click outside the button sent")
	}
	_, cmd = m.Update(tea.MouseMsg{X: 75, Y: 23, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	runCmd(m, cmd)
	wantSent(t, chat, "by mouse")
}

func TestModelEnded(t *testing.T) {
	m := newTestModel(80, 24, nil)
	_, cmd := m.Update(endedMsg{err: room.ErrFellBehind})
	if cmd == nil || cmd() != tea.Quit() {
		t.Fatal("ended session did not quit")
	}
	if !errors.Is(m.Err(), room.ErrFellBehind) {
		t.Fatalf("err %v", m.Err())
	}
}

func TestModelSanitisesPeerText(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 80, Height: 10})
	m.Update(incomingMsg{msgs: ptrs(room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bo\x1b[31mb", Text: "evil\x1b]0;title\x07 \u202etext\x1b[2J"})})
	v := m.View()
	for _, bad := range []string{"\x1b]0", "\x07", "\u202e", "\x1b[2J", "\x1b[31mb"} {
		if strings.Contains(v, bad) {
			t.Fatalf("view carries %q", bad)
		}
	}
}

func TestFormatCacheSharesAcrossSessions(t *testing.T) {
	cache := newFormatCache(100)
	mk := func(user string) *Model {
		return NewModel(ModelConfig{User: user, Styles: testStyles(termenv.Ascii), Width: 80, Height: 24, Cache: cache, Profile: termenv.Ascii})
	}
	a, b := mk("alice"), mk("bob")
	msg := room.Message{ID: 5, Time: t0, Kind: room.KindMessage, From: "carol", Text: "shared"}
	a.Update(incomingMsg{msgs: ptrs(msg)})
	if len(cache.cur) != 1 {
		t.Fatalf("cache holds %d entries after one message", len(cache.cur))
	}
	b.Update(incomingMsg{msgs: ptrs(msg)})
	if len(cache.cur) != 1 {
		t.Fatalf("second session formatted again: %d entries", len(cache.cur))
	}
	// Lines that read differently per viewer are never shared.
	sealed := room.Message{ID: 6, Time: t0, Kind: room.KindSealed, From: "carol", To: "alice", Text: "x"}
	a.Update(incomingMsg{msgs: ptrs(sealed)})
	b.Update(incomingMsg{msgs: ptrs(sealed)})
	if len(cache.cur) != 1 {
		t.Fatal("a per-viewer line was cached")
	}
	if !strings.Contains(checkView(t, a, 80, 24), "carol: shared") || !strings.Contains(checkView(t, b, 80, 24), "carol: shared") {
		t.Fatal("shared line not shown")
	}
	// Bounded: two generations at most.
	for i := range 1000 {
		cache.put(formatKey{id: uint64(100 + i)}, nil)
	}
	if len(cache.cur)+len(cache.prev) > 200 {
		t.Fatalf("cache grew to %d", len(cache.cur)+len(cache.prev))
	}
}

// BenchmarkIncomingMessage is the per-session cost of one new message: add
// it to the model and draw the next frame onto the terminal as a session
// does (the bytes it sends are reported too). With the shared cache another
// session of the same size has already formatted it (done with the timer
// stopped), as in a room of many sessions.
func BenchmarkIncomingMessage(b *testing.B) {
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			var cache *formatCache
			if shared {
				cache = newFormatCache(8192)
			}
			var out countingWriter
			mk := func(user string, w io.Writer) *Model {
				return NewModel(ModelConfig{User: user, Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30, Cache: cache, Profile: termenv.ANSI256,
					Members: []string{"alice", "bob", "carol"}, Output: w})
			}
			m, warm := mk("alice", &out), mk("warm", io.Discard)
			m.paint()
			out = 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				msg := incomingMsg{msgs: ptrs(room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, Room: "lobby",
					From: fmt.Sprintf("user%d", i%20), Text: "a short chat message of ordinary length " + strconv.Itoa(i)})}
				if shared {
					b.StopTimer()
					warm.Update(msg)
					b.StartTimer()
				}
				m.Update(msg)
				m.paint() // what the frame timer does when Update held it back
			}
			b.ReportMetric(float64(out)/float64(b.N), "bytes/msg")
		})
	}
}

func lipglossRenderer(p termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(nil, termenv.WithProfile(p))
	r.SetColorProfile(p)
	return r
}

// ptrs makes the shared messages an incomingMsg carries.
func ptrs(msgs ...room.Message) []*room.Message {
	out := make([]*room.Message, len(msgs))
	for i := range msgs {
		out[i] = &msgs[i]
	}
	return out
}

// TestWelcomeInABigRoom: the welcome names the first few users and counts
// the rest instead of filling the screen; /who still lists everyone.
func TestWelcomeInABigRoom(t *testing.T) {
	var members []string
	for i := range 300 {
		members = append(members, fmt.Sprintf("user%03d", i))
	}
	m := NewModel(ModelConfig{User: "user000", Styles: testStyles(termenv.Ascii), Width: 80, Height: 24, Members: members})
	v := checkView(t, m, 80, 24)
	if !strings.Contains(v, "user019 and 280\n  more (/who lists everyone)") || strings.Contains(v, "user020") {
		t.Fatalf("welcome in a room of 300:\n%s", v)
	}
	if w := m.welcome(); !strings.HasPrefix(w, "Welcome to #lobby, user000. Online (300): user000, user001,") {
		t.Fatalf("welcome %q", w)
	}
}

// countingWriter counts the bytes written to it.
type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// BenchmarkDeliverToManySessions is the per-session cost of one message in
// a room of 1,000 sessions, each delivered and drawn in turn as the pumps
// do: unlike BenchmarkIncomingMessage, each session's state is cold in the
// CPU's caches by the time its turn comes, as it is on a busy server.
func BenchmarkDeliverToManySessions(b *testing.B) {
	const n = 1000
	cache := newFormatCache(8192)
	models := make([]*Model, n)
	for i := range models {
		models[i] = NewModel(ModelConfig{User: fmt.Sprintf("user%d", i), Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30,
			Cache: cache, Profile: termenv.ANSI256, Members: []string{"alice", "bob", "carol"}, Output: io.Discard})
		models[i].paint()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msg := incomingMsg{msgs: ptrs(room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, Room: "lobby",
			From: fmt.Sprintf("user%d", i%20), Text: "a short chat message of ordinary length " + strconv.Itoa(i)})}
		for _, m := range models {
			m.mu.Lock()
			m.incoming(&msg)
			m.paint() // every delivery drawn, none held back
			m.mu.Unlock()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
}

// wantInput fails the test unless the input line holds want; what says
// what was being done.
func wantInput(t *testing.T, m *Model, what, want string) {
	t.Helper()
	if got := string(m.ed.input); got != want {
		t.Fatalf("%s: %q, want %q", what, got, want)
	}
}

// wantSent fails the test unless exactly one line, want, was sent.
func wantSent(t *testing.T, chat *recordingChat, want string) {
	t.Helper()
	if len(chat.sent) != 1 || chat.sent[0] != want {
		t.Fatalf("sent %q, want [%q]", chat.sent, want)
	}
}

// enterLine types line, presses Enter, runs what that asks for, and
// returns the screen after (checked to be w x h).
func enterLine(t *testing.T, m *Model, line string, w, h int) string {
	t.Helper()
	typeText(m, line)
	enter(m)
	return checkView(t, m, w, h)
}

// retype clears the input line, types s and presses k.
func retype(m *Model, s string, k tea.KeyType) {
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	typeText(m, s)
	m.Update(tea.KeyMsg{Type: k})
}
