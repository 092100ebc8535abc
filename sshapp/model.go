package sshapp

import (
	"errors"
	"fmt"
	"securechat/textsafe"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"
	"github.com/muesli/termenv"
	"securechat/room"
)

// Messages the session's pump and commands send into the model.
type (
	// incomingMsg carries everything the room queued for this session since
	// the last batch: one Send, one render, however many messages.
	incomingMsg struct {
		msgs    []room.Message
		members []string
	}
	// endedMsg: the room ended this session (shutdown, fell behind, kicked).
	endedMsg struct{ err error }
	// sentMsg reports the outcome of sending one line.
	sentMsg struct {
		text string
		err  error
	}
	// commandMsg reports what a server command said.
	commandMsg struct {
		cmd   string
		arg   string // the first argument, normalised as a username
		input string
		lines []string
		err   error
	}
)

// Chat is what the model needs from the server: a way to post a line. It is
// called from a tea.Cmd, never from Update, since storing waits for the disk.
type Chat interface {
	Send(text string) error
	// Command runs a command that needs the server (/msg, /keys) and
	// returns the lines to show.
	Command(name, args string) ([]string, error)
}

// ModelConfig is everything a session's model starts from.
type ModelConfig struct {
	User        string
	RoomName    string
	Fingerprint string // the server's host key, shown in the status line
	Styles      Styles
	Chat        Chat
	Members     []string
	Backlog     []room.Message
	Width       int
	Height      int
	// Scrollback bounds the rows kept for scrolling back (default 2000).
	Scrollback int
	// MaxMessage is the longest message in characters (default 2000).
	MaxMessage int
	Location   *time.Location
	// Cache shares formatted messages between sessions (nil: no sharing);
	// Profile is this session's colour profile, part of the cache key.
	Cache   *formatCache
	Profile termenv.Profile
	// Ignore lists users whose messages this user does not want to see.
	Ignore []string
	// InboxHint is the command that lists this user's sealed messages,
	// e.g. "ssh -p 8080 alice@host inbox".
	InboxHint string
}

const (
	whoWidth     = 20 // the online list, including its separator
	minWhoScreen = 64 // narrower terminals hide the online list
	sendButton   = "[ Send ]"
)

// Model is one session's chat UI. It holds no SSH session, so it can be built
// and tested alone. Per incoming message it does O(1) work: the message is
// formatted once into rows appended to a bounded ring, and drawing touches
// only the visible rows.
type Model struct {
	cfg     ModelConfig
	st      *Styles
	width   int
	height  int
	members []string

	// msgs keeps recent messages (bounded) so rows can be rebuilt on resize.
	msgs  []entry
	rows  ring
	shift int // rows scrolled up from the bottom

	input   []rune
	cursor  int
	sending int

	quitting bool
	exitErr  error

	statusCache string
	statusDirty bool

	ignore map[string]bool

	// inputCache is the drawn input line; it changes only when the line,
	// the cursor or the width does.
	inputCache string
	inputKey   inputState

	// whoCache is the drawn online list; nil when it must be rebuilt.
	whoCache  []string
	whoHeight int
	lastView  int
}

type inputState struct {
	text   string
	cursor int
	width  int
}

// entry is a message or a local notice as kept for re-wrapping.
type entry struct {
	msg   room.Message
	local string // set for local notices
	style func(string) string
}

// NewModel builds a model ready to show the backlog and the welcome.
func NewModel(cfg ModelConfig) *Model {
	if cfg.Scrollback <= 0 {
		cfg.Scrollback = 2000
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 2000
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.RoomName == "" {
		cfg.RoomName = "lobby"
	}
	m := &Model{
		cfg:         cfg,
		st:          &cfg.Styles,
		width:       max(cfg.Width, 1),
		height:      max(cfg.Height, 1),
		members:     cfg.Members,
		rows:        newRing(cfg.Scrollback),
		statusDirty: true,
		ignore:      map[string]bool{},
	}
	for _, n := range cfg.Ignore {
		m.ignore[n] = true
	}
	for _, b := range cfg.Backlog {
		if !m.hidden(b) {
			m.add(entry{msg: b})
		}
	}
	if len(cfg.Backlog) > 0 {
		m.addLocal(m.notice, fmt.Sprintf("— %d earlier messages above —", len(cfg.Backlog)))
	}
	m.addLocal(m.notice, m.welcome())
	return m
}

func (m *Model) welcome() string {
	return fmt.Sprintf("Welcome to #%s, %s. Online (%d): %s. Type /help for help.",
		m.cfg.RoomName, m.cfg.User, len(m.members), strings.Join(m.members, ", "))
}

func (m *Model) notice(s string) string { return m.st.Notice.Render(s) }
func (m *Model) errorStyle(s string) string {
	return m.st.Error.Render(s)
}

// Err is why the session ended, if the room ended it.
func (m *Model) Err() error { return m.exitErr }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) paneWidth() int {
	if m.width >= minWhoScreen {
		return m.width - whoWidth
	}
	return m.width
}

func (m *Model) paneHeight() int { return max(m.height-2, 0) }

// add formats an entry at the current width and appends its rows.
func (m *Model) add(e entry) {
	if len(m.msgs) >= m.cfg.Scrollback {
		// Drop the oldest half at once so trimming is amortised O(1).
		n := copy(m.msgs, m.msgs[len(m.msgs)/2:])
		clear(m.msgs[n:])
		m.msgs = m.msgs[:n]
	}
	m.msgs = append(m.msgs, e)
	rows := m.format(e)
	m.rows.push(rows...)
	if m.shift > 0 {
		// Keep what the reader is looking at still while they read back.
		m.shift = min(m.shift+len(rows), max(m.rows.len()-m.paneHeight(), 0))
		m.statusDirty = true
	}
}

func (m *Model) addLocal(style func(string) string, text string) {
	m.add(entry{local: text, style: style})
}

func (m *Model) format(e entry) []line {
	w := m.paneWidth()
	if e.local != "" {
		return localLines(e.style, e.local, w)
	}
	// Private and sealed lines read differently for each viewer; everything
	// else with an ID looks the same to every session of this width and
	// profile, so it is formatted once for all of them.
	shared := m.cfg.Cache != nil && e.msg.ID != 0 && e.msg.To == "" && m.cfg.Location == time.UTC
	if !shared {
		return formatMessage(m.st, m.cfg.User, m.cfg.InboxHint, e.msg, w, m.cfg.Location)
	}
	k := formatKey{id: e.msg.ID, width: w, profile: m.cfg.Profile}
	if l, ok := m.cfg.Cache.get(k); ok {
		return l
	}
	l := formatMessage(m.st, m.cfg.User, m.cfg.InboxHint, e.msg, w, m.cfg.Location)
	m.cfg.Cache.put(k, l)
	return l
}

// reflow rebuilds every row after a width change: the one O(n) operation,
// and it happens only on resize.
func (m *Model) reflow() {
	m.rows = newRing(m.cfg.Scrollback)
	for _, e := range m.msgs {
		m.rows.push(m.format(e)...)
	}
	m.shift = 0
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case incomingMsg:
		for _, rm := range msg.msgs {
			if m.hidden(rm) {
				continue
			}
			m.add(entry{msg: rm})
		}
		if msg.members != nil {
			m.members = msg.members
			m.statusDirty = true
			m.whoCache = nil
		}
	case endedMsg:
		m.exitErr = msg.err
		m.quitting = true
		return m, tea.Quit
	case sentMsg:
		m.sending--
		if msg.err != nil {
			m.addLocal(m.errorStyle, "not sent: "+userError(msg.err))
			// Lose nothing: give the text back if the line is free.
			if len(m.input) == 0 {
				m.setInput(msg.text)
			}
		}
	case commandMsg:
		if msg.err == nil && (msg.cmd == "ignore" || msg.cmd == "unignore") && msg.arg != "" {
			m.ignore[msg.arg] = msg.cmd == "ignore"
		}
		for _, l := range msg.lines {
			m.addLocal(m.notice, l)
		}
		if msg.err != nil {
			m.addLocal(m.errorStyle, userError(msg.err))
			if len(m.input) == 0 {
				m.setInput(msg.input)
			}
		}
	case tea.WindowSizeMsg:
		oldPane := m.paneWidth()
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
		m.whoCache = nil
		if m.paneWidth() != oldPane {
			m.reflow()
		}
		m.statusDirty = true
	case tea.MouseMsg:
		return m, m.mouse(msg)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.scroll(3)
	case tea.MouseButtonWheelDown:
		m.scroll(-3)
	case tea.MouseButtonLeft:
		if msg.Action == tea.MouseActionPress && msg.Y == m.height-1 && msg.X >= m.buttonX() {
			return m.submit()
		}
	}
	return nil
}

func (m *Model) buttonX() int { return m.width - len(sendButton) }

func (m *Model) scroll(n int) {
	maxShift := max(m.rows.len()-m.paneHeight(), 0)
	m.shift = min(max(m.shift+n, 0), maxShift)
	m.statusDirty = true
}

func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyCtrlC, tea.KeyCtrlD:
		if k.Type == tea.KeyCtrlD && len(m.input) > 0 {
			m.deleteAt(m.cursor)
			return nil
		}
		m.quitting = true
		return tea.Quit
	case tea.KeyEnter:
		return m.submit()
	case tea.KeyPgUp:
		m.scroll(max(m.paneHeight()-1, 1))
	case tea.KeyPgDown:
		m.scroll(-max(m.paneHeight()-1, 1))
	case tea.KeyCtrlEnd:
		m.shift = 0
		m.statusDirty = true
	case tea.KeyLeft, tea.KeyCtrlB:
		m.cursor = max(m.cursor-1, 0)
	case tea.KeyRight, tea.KeyCtrlF:
		m.cursor = min(m.cursor+1, len(m.input))
	case tea.KeyHome, tea.KeyCtrlA:
		m.cursor = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		m.cursor = len(m.input)
	case tea.KeyBackspace, tea.KeyCtrlH:
		if m.cursor > 0 {
			m.cursor--
			m.deleteAt(m.cursor)
		}
	case tea.KeyDelete:
		m.deleteAt(m.cursor)
	case tea.KeyCtrlU:
		m.input = append(m.input[:0], m.input[m.cursor:]...)
		m.cursor = 0
	case tea.KeyCtrlK:
		m.input = m.input[:m.cursor]
	case tea.KeyCtrlW:
		i := m.cursor
		for i > 0 && m.input[i-1] == ' ' {
			i--
		}
		for i > 0 && m.input[i-1] != ' ' {
			i--
		}
		m.input = append(m.input[:i], m.input[m.cursor:]...)
		m.cursor = i
	case tea.KeySpace:
		m.insert([]rune{' '})
	case tea.KeyRunes:
		m.insert(k.Runes)
	}
	return nil
}

func (m *Model) deleteAt(i int) {
	if i >= 0 && i < len(m.input) {
		m.input = append(m.input[:i], m.input[i+1:]...)
	}
}

// insert types runes at the cursor. Control characters never enter the line,
// and the line never grows past the message limit: what does not fit is
// refused with a notice, so the user sees that it was cut.
func (m *Model) insert(rs []rune) {
	clean := []rune(textsafe.Sanitize(string(rs), false))
	room := m.cfg.MaxMessage - len(m.input)
	if len(clean) > room {
		clean = clean[:max(room, 0)]
		m.addLocal(m.errorStyle, fmt.Sprintf("a message is at most %d characters: the rest was not typed", m.cfg.MaxMessage))
	}
	if len(clean) == 0 {
		return
	}
	m.input = append(m.input[:m.cursor], append(clean, m.input[m.cursor:]...)...)
	m.cursor += len(clean)
}

func (m *Model) setInput(s string) {
	m.input = []rune(s)
	m.cursor = len(m.input)
}

// submit handles Enter and the Send button.
func (m *Model) submit() tea.Cmd {
	text := strings.TrimSpace(string(m.input))
	if text == "" {
		return nil
	}
	m.input, m.cursor = m.input[:0], 0
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return m.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	if m.cfg.Chat == nil {
		return nil
	}
	m.sending++
	chat := m.cfg.Chat
	return func() tea.Msg { return sentMsg{text: text, err: chat.Send(text)} }
}

var helpText = []string{
	"Commands:",
	"  /help          this help",
	"  /who           who is online",
	"  /msg USER TEXT private message; sealed with age when USER has keys",
	"  /keys          your public keys; /keys add LINE, /keys rm FINGERPRINT",
	"  /ignore USER   hide USER's messages (remembered); /unignore USER",
	"  admins: /kick USER, /mute USER [30m], /unmute USER, /ban USER [7d] [--addr] [REASON], /unban USER, /bans",
	"  /quit          leave (or Ctrl+C)",
	"  //text         send a line that starts with /",
	"Keys: Enter or a click on [ Send ] sends; PgUp/PgDn or the mouse wheel scroll;",
	"  Ctrl+End jumps to the newest; Ctrl+A/E/U/K/W edit the line.",
}

func (m *Model) command(text string) tea.Cmd {
	name, args, _ := strings.Cut(text, " ")
	switch strings.ToLower(name) {
	case "/msg", "/keys", "/kick", "/mute", "/unmute", "/ban", "/unban", "/bans", "/ignore", "/unignore":
		if m.cfg.Chat == nil {
			return nil
		}
		chat, cmd := m.cfg.Chat, strings.ToLower(name[1:])
		first, _, _ := strings.Cut(strings.TrimSpace(args), " ")
		arg := strings.ToLower(strings.TrimPrefix(first, "@"))
		return func() tea.Msg {
			lines, err := chat.Command(cmd, strings.TrimSpace(args))
			return commandMsg{cmd: cmd, arg: arg, input: text, lines: lines, err: err}
		}
	case "/help", "/?":
		for _, h := range helpText {
			m.addLocal(m.notice, h)
		}
	case "/who":
		m.addLocal(m.notice, fmt.Sprintf("Online (%d): %s", len(m.members), strings.Join(m.members, ", ")))
	case "/quit", "/exit":
		m.quitting = true
		return tea.Quit
	default:
		m.addLocal(m.errorStyle, fmt.Sprintf("unknown command %s: type /help for the list", textsafe.Sanitize(name, false)))
	}
	return nil
}

// userError turns an error into the one line a user sees.
func userError(err error) string {
	switch {
	case errors.Is(err, room.ErrClosed):
		return "the server is shutting down"
	}
	// Errors that reach the model are written for the user (see notSaved).
	return err.Error()
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	var b strings.Builder
	b.Grow(m.lastView + 256) // one allocation per frame
	pw, ph := m.paneWidth(), m.paneHeight()
	showWho := pw != m.width
	var who []string
	if showWho {
		who = m.whoColumn(ph)
	}
	total := m.rows.len()
	end := total - m.shift
	start := end - ph
	for row := 0; row < ph; row++ {
		i := start + row
		w := 0
		if i >= 0 && i < total {
			l := m.rows.at(i)
			b.WriteString(l.text)
			w = l.width
		}
		if showWho {
			if w < pw {
				b.WriteString(spaces(pw - w))
			}
			b.WriteString(who[row])
		}
		b.WriteByte('\n')
	}
	if m.height >= 2 {
		b.WriteString(m.status())
		b.WriteByte('\n')
	}
	b.WriteString(m.cachedInput())
	m.lastView = b.Len()
	return b.String()
}

// whoColumn returns the drawn rows of the online list, rebuilt only when
// the members or the size change: idle frames cost no styling.
func (m *Model) whoColumn(ph int) []string {
	if m.whoCache != nil && m.whoHeight == ph {
		return m.whoCache
	}
	border := m.st.Border.Render("│")
	inner := whoWidth - 2
	col := make([]string, ph)
	for row := range col {
		var b strings.Builder
		b.WriteString(border)
		switch {
		case row == 0:
			b.WriteByte(' ')
			b.WriteString(m.st.WhoTitle.Render(fmt.Sprintf("Online (%d)", len(m.members))))
		case row == ph-1 && len(m.members) > ph-1:
			b.WriteByte(' ')
			b.WriteString(m.st.Notice.Render(fmt.Sprintf("+%d more", len(m.members)-(ph-2))))
		case row-1 < len(m.members):
			name := m.members[row-1]
			s := ansi.Truncate(textsafe.Sanitize(name, false), inner, "…")
			b.WriteByte(' ')
			if name == m.cfg.User {
				b.WriteString(m.st.Me.Render(s))
			} else {
				b.WriteString(m.st.Name(name).Render(s))
			}
		}
		col[row] = b.String()
	}
	m.whoCache, m.whoHeight = col, ph
	return col
}

func (m *Model) status() string {
	if !m.statusDirty {
		return m.statusCache
	}
	left := fmt.Sprintf(" %s · #%s · %d online · host key %s", m.cfg.User, m.cfg.RoomName, len(m.members), m.cfg.Fingerprint)
	right := "/help "
	if m.shift > 0 {
		right = fmt.Sprintf("↑ scrolled: %d rows below · Ctrl+End ", m.shift)
	}
	gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(right)
	var s string
	if gap >= 1 {
		s = left + strings.Repeat(" ", gap) + right
	} else {
		s = ansi.Truncate(left+" "+right, m.width, "…")
		if w := ansi.StringWidth(s); w < m.width {
			s += strings.Repeat(" ", m.width-w)
		}
	}
	m.statusCache = m.st.Status.Render(s)
	m.statusDirty = false
	return m.statusCache
}

func (m *Model) cachedInput() string {
	k := inputState{text: string(m.input), cursor: m.cursor, width: m.width}
	if k != m.inputKey || m.inputCache == "" {
		m.inputCache, m.inputKey = m.inputView(), k
	}
	return m.inputCache
}

// inputView draws "> text" with a block cursor, scrolled horizontally so the
// cursor is always visible, and the Send button at the right edge.
func (m *Model) inputView() string {
	prompt := "> "
	field := m.width - len(prompt) - len(sendButton) - 1
	if field < 4 {
		return m.st.Prompt.Render(prompt)
	}
	// Find the first rune to show so the cursor fits in the field.
	start := 0
	w := 1 // room for the cursor cell
	for i := m.cursor - 1; i >= 0; i-- {
		rw := runewidth.RuneWidth(m.input[i])
		if w+rw > field {
			start = i + 1
			break
		}
		w += rw
	}
	var b strings.Builder
	b.WriteString(m.st.Prompt.Render(prompt))
	used := 0
	for i := start; i < len(m.input); i++ {
		r := m.input[i]
		rw := runewidth.RuneWidth(r)
		if used+rw > field {
			break
		}
		if i == m.cursor {
			b.WriteString(m.st.Cursor.Render(string(r)))
		} else {
			b.WriteRune(r)
		}
		used += rw
	}
	if m.cursor == len(m.input) && used < field {
		b.WriteString(m.st.Cursor.Render(" "))
		used++
	}
	b.WriteString(strings.Repeat(" ", field-used+1))
	b.WriteString(m.st.Button.Render(sendButton))
	return b.String()
}

// ring is a bounded buffer of rows; pushing past its limit drops the oldest.
// It grows on demand, so a quiet session costs little memory.
type ring struct {
	buf   []line
	start int
	n     int
	limit int
}

func newRing(limit int) ring { return ring{buf: make([]line, min(limit, 64)), limit: limit} }

func (r *ring) len() int { return r.n }

func (r *ring) at(i int) line { return r.buf[(r.start+i)%len(r.buf)] }

func (r *ring) push(ls ...line) {
	for _, l := range ls {
		if r.n == len(r.buf) && len(r.buf) < r.limit {
			grown := make([]line, min(len(r.buf)*2, r.limit))
			for i := 0; i < r.n; i++ {
				grown[i] = r.at(i)
			}
			r.buf, r.start = grown, 0
		}
		if r.n < len(r.buf) {
			r.buf[(r.start+r.n)%len(r.buf)] = l
			r.n++
			continue
		}
		r.buf[r.start] = l
		r.start = (r.start + 1) % len(r.buf)
	}
}

// hidden reports messages from users this user ignores. Notices stay: who
// joins and leaves is still worth knowing.
func (m *Model) hidden(rm room.Message) bool {
	switch rm.Kind {
	case room.KindMessage, room.KindPrivate, room.KindSealed:
		return m.ignore[rm.From] && rm.From != m.cfg.User
	}
	return false
}

// blank is a run of spaces that padding slices from, so drawing a frame
// allocates no padding.
var blank = strings.Repeat(" ", 512)

func spaces(n int) string {
	if n <= len(blank) {
		return blank[:n]
	}
	return strings.Repeat(" ", n)
}
