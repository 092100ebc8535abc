package sshapp

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
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
		Backlog:     backlog,
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
	if len(chat.sent) != 1 || chat.sent[0] != "hello there" {
		t.Fatalf("sent %q", chat.sent)
	}
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
	if len(chat.sent) != 1 || chat.sent[0] != "by mouse" {
		t.Fatalf("sent %q", chat.sent)
	}
}

func TestModelMessageLimit(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 80, Height: 24, MaxMessage: 10})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("0123456789abc"), Paste: true})
	if string(m.input) != "0123456789" {
		t.Fatalf("input %q", string(m.input))
	}
	if v := checkView(t, m, 80, 24); !strings.Contains(v, "at most 10 characters") {
		t.Fatalf("cut not shown:\n%s", v)
	}
	// Control characters never enter the line.
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a\x1b[2Jb"), Paste: true})
	if string(m.input) != "a[2Jb" {
		t.Fatalf("input %q", string(m.input))
	}
}

func TestModelEditing(t *testing.T) {
	m := newTestModel(80, 24, nil)
	typeText(m, "hello world")
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlW})
	if string(m.input) != "hello " {
		t.Fatalf("Ctrl+W: %q", string(m.input))
	}
	m.Update(tea.KeyMsg{Type: tea.KeyHome})
	typeText(m, ">")
	m.Update(tea.KeyMsg{Type: tea.KeyEnd})
	m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	m.Update(tea.KeyMsg{Type: tea.KeyLeft})
	m.Update(tea.KeyMsg{Type: tea.KeyDelete})
	if string(m.input) != ">hell" {
		t.Fatalf("editing: %q", string(m.input))
	}
}

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

// The scrollback is bounded however many messages arrive.
func TestModelScrollbackBounded(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.Ascii), Width: 80, Height: 10, Scrollback: 100})
	for i := range 1000 {
		m.Update(incomingMsg{msgs: ptrs(room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, From: "bob", Text: "x"})})
	}
	if m.v.rows.len() > 100 || len(m.v.msgs) > 100 {
		t.Fatalf("rows %d msgs %d, want at most 100", m.v.rows.len(), len(m.v.msgs))
	}
	if v := checkView(t, m, 80, 10); !strings.Contains(v, "bob: x") {
		t.Fatal(v)
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
	if !strings.Contains(v, "user019 and 280 more (/who\nlists everyone)") || strings.Contains(v, "user020") {
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
	before := len(m.v.msgs)
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
	if got := len(m.v.msgs) - before; got != 1 {
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

// TestHelpFitsEightyColumns: on the most common terminal width, /help shows
// every line whole, none wrapped where its columns would break.
func TestHelpFitsEightyColumns(t *testing.T) {
	m := newTestModel(80, 40, nil)
	typeText(m, "/help")
	enter(m)
	rows := strings.Split(checkView(t, m, 80, 40), "\n")
	for _, h := range helpText {
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.TrimRight(r, " ") == h }) {
			t.Errorf("help line not on one row at 80 columns: %q", h)
		}
	}
}

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

// writeCounter counts the writes made to it: one per frame sent.
type writeCounter struct {
	mu sync.Mutex
	n  int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	return len(p), nil
}

func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Frames are paced as a budget: FrameBurst frames go out back to back, and
// only the next one is held to the FPS rate; with a burst of 1 every frame
// after the first waits a frame interval.
func TestFrameBurst(t *testing.T) {
	for _, tc := range []struct {
		burst, immediate int
	}{{1, 1}, {2, 2}, {3, 3}} {
		t.Run(fmt.Sprintf("burst=%d", tc.burst), func(t *testing.T) {
			var out writeCounter
			// One frame a minute: nothing held back is painted during the test.
			m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30,
				Output: &out, FPS: 1, FrameBurst: tc.burst})
			m.frameEvery = time.Minute
			m.frameSlack = time.Duration(tc.burst-1) * time.Minute
			t.Cleanup(m.CloseScreen)
			m.Update(paintMsg{}) // the first frame, as Init asks for it
			for i := 1; i <= 4; i++ {
				m.Deliver(incomingMsg{msgs: ptrs(room.Message{ID: uint64(i), Time: t0, Kind: room.KindMessage, Room: "lobby",
					From: "bob", Text: fmt.Sprintf("message %d", i)})})
				want := min(i+1, tc.immediate)
				if got := out.count(); got != want {
					t.Fatalf("after message %d: %d frames sent, want %d", i, got, want)
				}
			}
			m.mu.Lock()
			pending := m.paintPending
			m.mu.Unlock()
			if !pending {
				t.Fatal("the frame past the burst is not held back for later")
			}
		})
	}
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

// While the next frame may not go out, the pump can hold what waits for it:
// HoldForNextFrame arms the handed-over timer, FrameHeld tells the room's
// waker that nobody needs waking, and when the frame may go out the timer
// wakes the pump and the hold is over. Without a handed-over timer, or once
// the frame is due, nothing is held.
func TestHoldForNextFrame(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30,
		Output: io.Discard, FPS: 1})
	m.frameEvery = 50 * time.Millisecond
	t.Cleanup(m.CloseScreen)
	m.Update(paintMsg{}) // a frame now: the next may wait 50 ms
	if m.HoldForNextFrame() || m.FrameHeld() {
		t.Fatal("held with no timer handed over")
	}
	woken := make(chan struct{}, 1)
	m.HandHeldFrames(func() { woken <- struct{}{} })
	t.Cleanup(m.ReleaseHeld)
	if !m.HoldForNextFrame() || !m.FrameHeld() {
		t.Fatal("not held although the next frame may not go out yet")
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("the held-frame timer did not wake the pump")
	}
	if m.UntilNextFrame() > 0 {
		t.Fatalf("woken %s before the frame may go out", m.UntilNextFrame())
	}
	if m.FrameHeld() || m.HoldForNextFrame() {
		t.Fatal("still held once the frame may go out")
	}
}
