package sshapp

import (
	"errors"
	"fmt"
	"io"
	"securechat/textsafe"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
		msgs    []*room.Message // shared with every session: read-only
		members []string        // the lobby's members, when they changed
		// roomMembers holds the members of rooms whose membership changed.
		roomMembers map[string][]string
	}
	// roomJoinedMsg opens a room's view after /join.
	roomJoinedMsg struct {
		state RoomState
		err   error
		input string
	}
	// roomLeftMsg closes a room's view after /leave.
	roomLeftMsg struct {
		name string
		err  error
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
	// Send posts text to a room.
	Send(room, text string) error
	// Command runs a command that needs the server (/msg, /keys), from the
	// room the user is looking at, and returns the lines to show.
	Command(room, name, args string) ([]string, error)
	// JoinRoom enters a room and returns what its view starts with;
	// LeaveRoom leaves one.
	JoinRoom(name string) (RoomState, error)
	LeaveRoom(name string) error
	// Bell rings the user's terminal bell.
	Bell()
}

// RoomState is what a room's view starts with.
type RoomState struct {
	Name     string
	Topic    string
	Members  []string
	Backlog  []room.Message
	LastRead uint64
}

// ModelConfig is everything a session's model starts from.
type ModelConfig struct {
	User        string
	RoomName    string
	Fingerprint string // the server's host key, shown in the status line
	Styles      *Styles
	Chat        Chat
	Members     []string
	Backlog     []room.Message
	// Rooms are further rooms the user is in at login (the lobby comes
	// from RoomName, Members and Backlog).
	Rooms []RoomState
	// Topic is the lobby's topic.
	Topic  string
	Width  int
	Height int
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
	// Prefs: the user's saved theme, timestamps ("time", "datetime",
	// "off") and bell ("mentions", "all", "off") settings.
	Theme, Timestamps, Bell string
	// MakeStyles builds the styles of a theme on this session's renderer
	// (nil: themes cannot change).
	MakeStyles func(theme string) *Styles
	// LastRead is the last message this user saw in an earlier visit; the
	// backlog marks where newer ones start.
	LastRead uint64
	// Notices are shown after the welcome (message of the day, messages
	// that waited while the user was away).
	Notices []string
	// Panel shows the side panel (rooms and who is online) beside the pane.
	Panel bool
	// Output, when set, is the terminal the model draws itself onto, at
	// most FPS frames a second (default 30), sending only what changed;
	// View then returns nothing. The program runs without its renderer.
	Output io.Writer
	FPS    int
	// FrameBurst is how many frames may go out back to back, faster than
	// FPS, before frames are held back to the FPS rate (default 1).
	FrameBurst int
}

// paintMsg asks for the frame a model that draws itself held back.
type paintMsg struct{}

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
	cfg    ModelConfig
	st     *Styles
	width  int
	height int

	// One view per room the user is in; v is the one on screen.
	views map[string]*view
	order []string
	v     *view

	input   []rune
	cursor  int
	sending int

	quitting bool
	exitErr  error

	statusCache string
	statusWidth int
	statusDirty bool

	ignore map[string]bool

	// history of this user's own inputs for Up/Down; histAt indexes it
	// while recalling (len(history) when not recalling).
	history []string
	histAt  int
	// lastPrivate is who last sent this user a private message (/reply).
	lastPrivate string
	// completion state: candidates shown for the last Tab.
	lastTab string

	// inputCache is the drawn input line; it changes only when the line,
	// the cursor or the width does.
	inputCache string
	inputWidth int
	inputKey   inputState
	inputRunes []rune

	// whoCache is the drawn online list; nil when it must be rebuilt.
	whoCache  []line
	whoHeight int
	lastView  int

	// panel: the side panel is shown (when the terminal is wide enough).
	panel bool
	// scr draws frames when the model draws itself (cfg.Output); frame is
	// the reused frame, and a frame held back waits for a paintMsg.
	scr        *screen
	frame      []row
	frameEvery time.Duration
	paintTimer *time.Timer // paints a held-back frame
	// heldTimer, when set, fires for the session's pump to paint a held
	// frame instead (see HandHeldFrames).
	heldTimer *time.Timer
	// heldArmed is set while heldTimer will wake the pump; read without
	// m.mu by the room's waker (FrameHeld).
	heldArmed atomic.Bool
	// mu guards a model that draws itself: the program's event loop, the
	// session's pump (Deliver) and the frame timer all reach it.
	mu sync.Mutex
	// Frames are paced as a budget (GCRA): a frame may be painted once
	// now >= frameTAT - frameSlack, and each paint moves frameTAT on by
	// frameEvery. frameSlack 0 holds every frame until frameEvery after the
	// last one; more lets a few frames out at once, so a quiet room's
	// messages are never held back.
	frameTAT     time.Time
	frameSlack   time.Duration
	paintPending bool
	// nextFrame is when the next frame may be painted, in nanoseconds
	// after born; read without m.mu by the room's waker (UntilNextFrame).
	born      time.Time
	nextFrame atomic.Int64
}

// inputState is what the drawn input line depends on besides the line's
// runes, which inputRunes keeps: comparing them needs no string built per
// frame.
type inputState struct {
	cursor int
	width  int
	theme  string
}

// view is one room as this session shows it.
type view struct {
	name    string
	topic   string
	members []string
	// msgs keeps recent messages (bounded) so rows can be rebuilt on resize.
	msgs   []entry
	rows   ring
	width  int // the pane width rows were formatted for
	shift  int // rows scrolled up from the bottom
	lastID uint64
	// unread counts messages that arrived while another room was on
	// screen; mentioned is set when one of them named this user.
	unread    int
	mentioned bool
	// burst is the run of join (or leave) notices the last entry shows,
	// if it is one.
	burst *burst
}

// burst is a run of join or leave notices shown as one line ("alice, bob
// and 3 others joined"), so that a crowd reconnecting fills neither the
// screen nor every session's scrollback.
type burst struct {
	kind  room.Kind
	first *room.Message
	names []string // the first burstNames
	n     int
	rows  int // rows its line takes
}

const (
	burstNames  = 3
	burstWindow = time.Minute // a burst takes notices this long after its first
)

func (b *burst) text() string {
	verb := " joined"
	if b.kind == room.KindLeave {
		verb = " left"
	}
	switch {
	case b.n == 1:
		return b.names[0] + verb
	case b.n == 2:
		return b.names[0] + " and " + b.names[1] + verb
	case b.n == 3:
		return b.names[0] + ", " + b.names[1] + " and " + b.names[2] + verb
	case b.n == 4:
		return strings.Join(b.names, ", ") + " and 1 other" + verb
	}
	return fmt.Sprintf("%s and %d others%s", strings.Join(b.names, ", "), b.n-len(b.names), verb)
}

// merge folds a join or leave notice into the burst the view ends with,
// rewriting that line; it reports false when e starts no burst or cannot
// join the one there.
func (m *Model) merge(v *view, e entry) bool {
	kind := room.Kind("")
	if e.msg != nil && e.msg.To == "" && (e.msg.Kind == room.KindJoin || e.msg.Kind == room.KindLeave) {
		kind = e.msg.Kind
	}
	b := v.burst
	if kind == "" || b == nil || b.kind != kind || e.msg.Time.Sub(b.first.Time) >= burstWindow || len(v.msgs) == 0 {
		v.burst = nil
		if kind != "" {
			v.burst = &burst{kind: kind, first: e.msg, names: []string{e.msg.From}, n: 1}
		}
		return false
	}
	b.n++
	if len(b.names) < burstNames {
		b.names = append(b.names, e.msg.From)
	}
	line := &room.Message{Time: b.first.Time, Kind: kind, Room: b.first.Room, From: b.first.From, Text: b.text()}
	v.msgs[len(v.msgs)-1] = entry{msg: line}
	v.rows.pop(b.rows)
	rows := m.formatAt(entry{msg: line}, v.width)
	v.rows.push(rows...)
	if v == m.v && v.shift > 0 {
		v.shift = min(max(v.shift+len(rows)-b.rows, 0), max(v.rows.len()-m.paneHeight(), 0))
	}
	b.rows = len(rows)
	return true
}

// entry is a message or a local notice as kept for re-wrapping.
type entry struct {
	msg   *room.Message // shared with other sessions: read-only; nil for local notices
	local string        // set for local notices
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
	if cfg.Timestamps == "" {
		cfg.Timestamps = "time"
	}
	if cfg.Bell == "" {
		cfg.Bell = "mentions"
	}
	m := &Model{
		cfg:         cfg,
		st:          cfg.Styles,
		width:       drawCols(cfg.Width),
		height:      drawRows(cfg.Height),
		views:       map[string]*view{},
		statusDirty: true,
		ignore:      map[string]bool{},
		panel:       cfg.Panel,
	}
	if cfg.Output != nil {
		m.scr = newScreen(cfg.Output)
		m.born = time.Now()
		fps := cfg.FPS
		if fps <= 0 {
			fps = 30
		}
		m.frameEvery = time.Second / time.Duration(fps)
		m.frameSlack = time.Duration(max(cfg.FrameBurst, 1)-1) * m.frameEvery
	}
	for _, n := range cfg.Ignore {
		m.ignore[n] = true
	}
	lobby := m.openView(RoomState{Name: cfg.RoomName, Topic: cfg.Topic, Members: cfg.Members, Backlog: cfg.Backlog, LastRead: cfg.LastRead})
	m.v = lobby
	m.addLocal(m.notice, m.welcome())
	for _, n := range cfg.Notices {
		m.addLocal(m.notice, n)
	}
	for _, r := range cfg.Rooms {
		m.openView(r)
	}
	return m
}

// openView adds a room's view with its backlog, marking where messages new
// since the user's last visit start.
func (m *Model) openView(r RoomState) *view {
	v := &view{name: r.Name, topic: r.Topic, members: r.Members, rows: newRing(m.cfg.Scrollback), width: m.paneWidth()}
	m.views[r.Name] = v
	m.order = append(m.order, r.Name)
	marked := r.LastRead == 0
	for i, b := range r.Backlog {
		if !marked && b.ID > r.LastRead {
			m.addTo(v, entry{local: "— new since your last visit —", style: m.notice})
			marked = true
		}
		if b.ID > v.lastID {
			v.lastID = b.ID
		}
		if !m.hidden(&r.Backlog[i]) {
			m.addTo(v, entry{msg: &r.Backlog[i]})
		}
	}
	if len(r.Backlog) > 0 {
		m.addTo(v, entry{local: "— " + plural(len(r.Backlog), "earlier message", "earlier messages") + " above —", style: m.notice})
	}
	if r.Name != m.cfg.RoomName {
		note := fmt.Sprintf("You are in #%s. Here (%d): %s.", r.Name, len(r.Members), someNames(r.Members))
		if r.Topic != "" {
			note += " Topic: " + r.Topic
		}
		m.addTo(v, entry{local: note, style: m.notice})
	}
	v.unread, v.mentioned = 0, false
	m.sideChanged()
	return v
}

// closeView drops a room's view and shows the lobby.
func (m *Model) closeView(name string) {
	delete(m.views, name)
	m.order = slices.DeleteFunc(m.order, func(n string) bool { return n == name })
	if m.v.name == name {
		m.show(m.views[m.cfg.RoomName])
	}
	m.sideChanged()
}

// show puts a view on screen, re-wrapping it if the width changed since.
func (m *Model) show(v *view) {
	if v == nil {
		return
	}
	m.v = v
	v.unread, v.mentioned = 0, false
	if v.width != m.paneWidth() {
		m.reflow()
	}
	m.sideChanged()
}

// cycle shows the next (+1) or previous (-1) room.
func (m *Model) cycle(dir int) {
	if len(m.order) < 2 {
		return
	}
	i := slices.Index(m.order, m.v.name)
	i = (i + dir + len(m.order)) % len(m.order)
	m.show(m.views[m.order[i]])
}

func (m *Model) welcome() string {
	return fmt.Sprintf("Welcome to #%s, %s. Online (%d): %s. Type /help for help.",
		m.cfg.RoomName, m.cfg.User, len(m.v.members), someNames(m.v.members))
}

// welcomeNames is how many names a welcome lists: in a big room the whole
// list would fill the screen (and every session's scrollback).
const welcomeNames = 20

// someNames lists the first welcomeNames names and counts the rest.
func someNames(names []string) string {
	if len(names) <= welcomeNames {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more (/who lists everyone)", strings.Join(names[:welcomeNames], ", "), len(names)-welcomeNames)
}

func (m *Model) notice(s string) string { return m.st.Notice.Render(s) }
func (m *Model) errorStyle(s string) string {
	return m.st.Error.Render(s)
}

// Err is why the session ended, if the room ended it.
func (m *Model) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.exitErr
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	if m.scr != nil {
		return func() tea.Msg { return paintMsg{} } // the first frame
	}
	return nil
}

func (m *Model) paneWidth() int {
	if m.panel && m.width >= minWhoScreen {
		return m.width - whoWidth
	}
	return m.width
}

func (m *Model) paneHeight() int { return max(m.height-2, 0) }

// add appends an entry to the view on screen.
func (m *Model) add(e entry) { m.addTo(m.v, e) }

// addTo formats an entry at the view's width and appends its rows.
func (m *Model) addTo(v *view, e entry) {
	if len(v.msgs) >= m.cfg.Scrollback {
		// Drop the oldest half at once so trimming is amortised O(1).
		n := copy(v.msgs, v.msgs[len(v.msgs)/2:])
		clear(v.msgs[n:])
		v.msgs = v.msgs[:n]
	}
	if m.merge(v, e) {
		return
	}
	v.msgs = append(v.msgs, e)
	rows := m.formatAt(e, v.width)
	v.rows.push(rows...)
	if v.burst != nil {
		v.burst.rows = len(rows)
	}
	if v != m.v {
		if e.local == "" {
			v.unread++
			v.mentioned = v.mentioned || mentions(e.msg.Text, m.cfg.User) && e.msg.From != m.cfg.User
			m.sideChanged()
		}
		return
	}
	if v.shift > 0 {
		// Keep what the reader is looking at still while they read back.
		v.shift = min(v.shift+len(rows), max(v.rows.len()-m.paneHeight(), 0))
		m.statusDirty = true
	}
}

func (m *Model) addLocal(style func(string) string, text string) {
	m.add(entry{local: text, style: style})
}

func (m *Model) formatAt(e entry, w int) []line {
	if e.local != "" {
		return localLines(e.style, e.local, w)
	}
	// Private and sealed lines read differently for each viewer; everything
	// else with an ID looks the same to every session of this width and
	// profile, so it is formatted once for all of them.
	// A line that mentions this user is highlighted for this user only.
	shared := m.cfg.Cache != nil && e.msg.ID != 0 && e.msg.To == "" && m.cfg.Location == time.UTC &&
		!mentions(e.msg.Text, m.cfg.User)
	if !shared {
		return formatMessage(m.st, m.cfg.User, m.cfg.InboxHint, *e.msg, w, m.cfg.Location, m.cfg.Timestamps)
	}
	k := formatKey{id: e.msg.ID, width: w, profile: m.cfg.Profile, theme: m.st.Theme(), stamps: m.cfg.Timestamps}
	if l, ok := m.cfg.Cache.get(k); ok {
		return l
	}
	l := formatMessage(m.st, m.cfg.User, m.cfg.InboxHint, *e.msg, w, m.cfg.Location, m.cfg.Timestamps)
	m.cfg.Cache.put(k, l)
	return l
}

// reflow rebuilds every row after a width change: the one O(n) operation,
// and it happens only on resize.
func (m *Model) reflow() {
	v := m.v
	v.burst = nil // its rows change: the next notice starts a new line
	v.width = m.paneWidth()
	v.rows = newRing(m.cfg.Scrollback)
	for _, e := range v.msgs {
		v.rows.push(m.formatAt(e, v.width)...)
	}
	v.shift = 0
}

// Update implements tea.Model. A model that draws itself paints at once
// when its last frame is older than a frame interval, and otherwise holds
// the frame back until then, so a burst of messages costs one frame.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.scr != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	if _, ok := msg.(paintMsg); ok {
		m.paintPending = false
		m.paint()
		return m, nil
	}
	_, cmd := m.update(msg)
	m.frameDue()
	return m, cmd
}

// Deliver hands a model that draws itself what the room queued for it,
// straight from the session's pump: no trip through the program's event
// loop, and the frame is painted (or held back) as Update would.
func (m *Model) Deliver(msg incomingMsg) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cmd := m.incoming(&msg) // not through update: no boxing per delivery
	m.frameDue()
	if cmd != nil {
		cmd() // the bell: a byte for the terminal, nothing for the model
	}
}

// frameDue paints now, or holds the frame back until a frame interval has
// passed since the last one, on one timer per session (no goroutine per
// held frame). A frame held back that is due by now is painted at once,
// before its timer calls. The caller holds m.mu.
func (m *Model) frameDue() {
	if m.scr == nil || m.quitting {
		return
	}
	wait := m.UntilNextFrame()
	if wait <= 0 {
		m.paintPending = false
		m.paint()
		return
	}
	if m.paintPending {
		return // its timer is set
	}
	m.paintPending = true
	if m.heldTimer != nil {
		m.heldArmed.Store(true)
		m.heldTimer.Reset(wait)
		return
	}
	if m.paintTimer == nil {
		m.paintTimer = time.AfterFunc(wait, m.PaintHeld)
		return
	}
	m.paintTimer.Reset(wait)
}

// UntilNextFrame is how long until the next frame may be painted (<= 0:
// now). Unlike the rest of the model it may be called from any goroutine.
func (m *Model) UntilNextFrame() time.Duration {
	return time.Duration(m.nextFrame.Load()) - time.Since(m.born)
}

// FrameHeld reports that the next frame may not be painted yet and the
// timer handed over by HandHeldFrames will wake the caller when it may: a
// message that arrives meanwhile needs to wake nobody. It may be called
// from any goroutine.
func (m *Model) FrameHeld() bool {
	return m.heldArmed.Load() && m.UntilNextFrame() > 0
}

// HoldForNextFrame arms the handed-over timer when the next frame may not
// be painted yet, and reports whether it did (or it already was): the
// caller then leaves what waits for the frame until the timer wakes it.
func (m *Model) HoldForNextFrame() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	wait := m.UntilNextFrame()
	if m.scr == nil || m.quitting || m.heldTimer == nil || wait <= 0 {
		return false
	}
	if !m.heldArmed.Swap(true) {
		m.heldTimer.Reset(wait)
	}
	return true
}

// HandHeldFrames hands the painting of held-back frames to the caller:
// from now on, when a held frame is due, wake is called (on a timer's
// goroutine; it must not block), and the caller then calls PaintHeld, until
// ReleaseHeld. The session's pump does this, so frames are drawn on a
// goroutine whose stack already fits the SSH write path; a timer's function
// runs on a new goroutine every time, which grew its stack for every held
// frame.
func (m *Model) HandHeldFrames(wake func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.heldTimer == nil {
		m.heldTimer = time.AfterFunc(time.Hour, func() {
			m.heldArmed.Store(false)
			wake()
		})
		m.heldTimer.Stop()
	}
}

// PaintHeld paints the frame held back, if there is one and it is due;
// when it is not due yet, the timer still calls for it.
func (m *Model) PaintHeld() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.paintPending || m.UntilNextFrame() > 0 {
		return
	}
	m.paintPending = false
	m.paint()
}

// ReleaseHeld takes back what HandHeldFrames handed over: a frame held back
// now, or later, is painted by the model's own timer.
func (m *Model) ReleaseHeld() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.heldTimer == nil {
		return
	}
	m.heldTimer.Stop()
	m.heldTimer = nil
	m.heldArmed.Store(false)
	if m.paintPending {
		m.paintPending = false
		m.frameDue()
	}
}

// paint draws the frame onto the terminal.
func (m *Model) paint() {
	if m.scr == nil || m.quitting {
		return
	}
	if now := time.Now(); m.frameTAT.Before(now) {
		m.frameTAT = now
	}
	m.frameTAT = m.frameTAT.Add(m.frameEvery)
	m.nextFrame.Store(int64(m.frameTAT.Sub(m.born) - m.frameSlack))
	rows := m.frameRows()
	_ = m.scr.draw(rows, m.width, m.height, m.paneHeight(), m.paneWidth())
}

// CloseScreen gives the terminal back as the session found it (a model
// that draws itself; nothing otherwise).
func (m *Model) CloseScreen() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.quitting = true // nothing more is drawn
	if m.paintTimer != nil {
		m.paintTimer.Stop()
	}
	if m.heldTimer != nil {
		m.heldTimer.Stop()
	}
	if m.scr != nil {
		m.scr.close()
	}
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case incomingMsg:
		return m, m.incoming(&msg)
	case roomJoinedMsg:
		if msg.err != nil {
			m.addLocal(m.errorStyle, userError(msg.err))
			if len(m.input) == 0 {
				m.setInput(msg.input)
			}
			return m, nil
		}
		if v := m.views[msg.state.Name]; v != nil {
			m.show(v)
			return m, nil
		}
		m.show(m.openView(msg.state))
	case roomLeftMsg:
		if msg.err != nil {
			m.addLocal(m.errorStyle, userError(msg.err))
			return m, nil
		}
		m.closeView(msg.name)
		m.addLocal(m.notice, "You left #"+msg.name+".")
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
		if msg.err == nil {
			m.applySetting(msg.cmd, msg.arg)
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
		m.width, m.height = drawCols(msg.Width), drawRows(msg.Height)
		if m.scr != nil {
			m.scr.invalidate() // the terminal may have moved or dropped rows
		}
		m.sideChanged()
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

// incoming shows what the room queued for this session; the returned
// command rings the bell, when one of the messages asks for it.
func (m *Model) incoming(msg *incomingMsg) tea.Cmd {
	ring := false
	for _, rm := range msg.msgs {
		v := m.v
		if rm.To == "" && rm.Room != "" && rm.Room != v.name {
			v = m.views[rm.Room]
		}
		if v == nil || m.hidden(rm) {
			continue
		}
		if rm.ID != 0 && rm.To == "" {
			if rm.ID <= v.lastID {
				continue // already shown in the backlog
			}
			v.lastID = rm.ID
		}
		if rm.Kind == room.KindTopic {
			v.topic = textsafe.Sanitize(rm.Text, false)
			m.statusDirty = true
		}
		m.addTo(v, entry{msg: rm})
		ring = ring || m.rings(rm)
		if (rm.Kind == room.KindPrivate || rm.Kind == room.KindSealed) && rm.To == m.cfg.User && rm.From != m.cfg.User {
			m.lastPrivate = rm.From
		}
	}
	var bell tea.Cmd
	if ring && m.cfg.Chat != nil {
		chat := m.cfg.Chat
		bell = func() tea.Msg { chat.Bell(); return nil }
	}
	if msg.members != nil {
		if v := m.views[m.cfg.RoomName]; v != nil {
			v.members = msg.members
		}
		m.sideChanged()
	}
	for name, members := range msg.roomMembers {
		if v := m.views[name]; v != nil {
			v.members = members
			m.sideChanged()
		}
	}
	return bell
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
	maxShift := max(m.v.rows.len()-m.paneHeight(), 0)
	m.v.shift = min(max(m.v.shift+n, 0), maxShift)
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
		if k.Alt {
			m.insertNewline()
			return nil
		}
		return m.submit()
	case tea.KeyCtrlJ:
		m.insertNewline()
	case tea.KeyTab:
		m.complete()
	case tea.KeyF2:
		return m.togglePanel()
	case tea.KeyCtrlN:
		m.cycle(1)
	case tea.KeyCtrlP:
		m.cycle(-1)
	case tea.KeyUp:
		m.recall(-1)
	case tea.KeyDown:
		m.recall(1)
	case tea.KeyPgUp:
		m.scroll(max(m.paneHeight()-1, 1))
	case tea.KeyPgDown:
		m.scroll(-max(m.paneHeight()-1, 1))
	case tea.KeyCtrlEnd:
		m.v.shift = 0
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
		m.remember(text)
		return m.command(text)
	}
	m.remember(text)
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	if m.cfg.Chat == nil {
		return nil
	}
	m.sending++
	chat, room := m.cfg.Chat, m.v.name
	return func() tea.Msg { return sentMsg{text: text, err: chat.Send(room, text)} }
}

// helpText is what /help shows: every line fits an 80-column terminal, so
// none wraps where the columns would break.
var helpText = []string{
	"Commands:",
	"  /help           this help",
	"  /join #room     enter a room (made on first join); Ctrl+N/Ctrl+P switch",
	"  /leave          leave this room for the lobby; /rooms lists the rooms",
	"  /topic TEXT     set this room's topic",
	"  /who            who is online (and who is away)",
	"  /whois USER     who someone is: since when, keys, away, last seen",
	"  /me ACTION      say what you do: * alice waves",
	"  /msg USER TEXT  a private message; sealed with age when USER has keys",
	"  /reply TEXT     answer the last private message",
	"  /away [REASON]  tell others you are away; /back when you return",
	"  /keys           your public keys; /keys add LINE, /keys rm FINGERPRINT",
	"  /ignore USER    hide USER's messages (remembered); /unignore USER",
	"  /theme NAME     dark, light, contrast or mono",
	"  /timestamps X   off, time or datetime",
	"  /panel on|off   the side panel: rooms and who is online (F2 toggles it)",
	"  /bell WHEN      off, mentions or all (default: mentions and private ones)",
	"  /quit           leave (or Ctrl+C)",
	"  //text          send a line that starts with /",
	"Admins: /kick USER, /mute USER [30m], /unmute USER, /unban USER, /bans,",
	"  /ban USER [7d] [--addr] [REASON], /motd TEXT (/motd - clears it)",
	"Keys: Enter or a click on [ Send ] sends; Alt+Enter or Ctrl+J: a new line;",
	"  Tab completes names and commands; Up/Down recall what you typed;",
	"  PgUp/PgDn or the mouse wheel scroll; Ctrl+End jumps to the newest;",
	"  Ctrl+A/E/U/K/W edit the line.",
}

func (m *Model) command(text string) tea.Cmd {
	name, args, _ := strings.Cut(text, " ")
	switch strings.ToLower(name) {
	case "/join":
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(args), "#"))
		if name == "" {
			m.addLocal(m.errorStyle, "usage: /join #room")
			return nil
		}
		if v := m.views[name]; v != nil {
			m.show(v)
			return nil
		}
		if m.cfg.Chat == nil {
			return nil
		}
		chat := m.cfg.Chat
		return func() tea.Msg {
			st, err := chat.JoinRoom(name)
			return roomJoinedMsg{state: st, err: err, input: text}
		}
	case "/leave", "/part":
		name := m.v.name
		if name == m.cfg.RoomName {
			m.addLocal(m.errorStyle, "you are in the lobby: /quit leaves the server")
			return nil
		}
		if m.cfg.Chat == nil {
			return nil
		}
		chat := m.cfg.Chat
		return func() tea.Msg { return roomLeftMsg{name: name, err: chat.LeaveRoom(name)} }
	case "/rooms", "/topic":
		return m.serverCommand(strings.ToLower(name[1:]), args, text)
	case "/reply":
		if m.lastPrivate == "" {
			m.addLocal(m.errorStyle, "nobody has sent you a private message yet")
			return nil
		}
		if strings.TrimSpace(args) == "" {
			m.addLocal(m.errorStyle, "usage: /reply TEXT")
			return nil
		}
		return m.serverCommand("msg", m.lastPrivate+" "+args, text)
	case "/theme":
		arg := strings.ToLower(strings.TrimSpace(args))
		if arg == "" {
			m.addLocal(m.notice, "Theme: "+m.st.Theme()+". Choose one: /theme "+strings.Join(Themes, "|"))
			return nil
		}
		if !slices.Contains(Themes, arg) || m.cfg.MakeStyles == nil {
			m.addLocal(m.errorStyle, "themes: "+strings.Join(Themes, ", "))
			return nil
		}
		return m.serverCommand("theme", arg, text)
	case "/timestamps":
		arg := strings.ToLower(strings.TrimSpace(args))
		if arg != "off" && arg != "time" && arg != "datetime" {
			m.addLocal(m.errorStyle, "usage: /timestamps off|time|datetime")
			return nil
		}
		return m.serverCommand("timestamps", arg, text)
	case "/bell":
		arg := strings.ToLower(strings.TrimSpace(args))
		if arg != "off" && arg != "mentions" && arg != "all" {
			m.addLocal(m.errorStyle, "usage: /bell off|mentions|all (now: "+m.cfg.Bell+")")
			return nil
		}
		return m.serverCommand("bell", arg, text)
	case "/panel":
		arg := strings.ToLower(strings.TrimSpace(args))
		switch arg {
		case "":
			return m.togglePanel()
		case "on", "off":
			return m.setPanel(arg, text)
		}
		m.addLocal(m.errorStyle, "usage: /panel on|off (F2 toggles it)")
		return nil
	case "/msg", "/keys", "/kick", "/mute", "/unmute", "/ban", "/unban", "/bans", "/ignore", "/unignore",
		"/me", "/away", "/back", "/whois", "/motd":
		return m.serverCommand(strings.ToLower(name[1:]), args, text)
	case "/help", "/?":
		for _, h := range helpText {
			m.addLocal(m.notice, h)
		}
	case "/who":
		if m.cfg.Chat != nil {
			return m.serverCommand("who", "", text)
		}
		m.addLocal(m.notice, fmt.Sprintf("Online (%d): %s", len(m.v.members), strings.Join(m.v.members, ", ")))
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

// View implements tea.Model: the frame as one string, for the renderer of
// Bubble Tea. A model that draws itself returns nothing.
func (m *Model) View() string {
	if m.scr != nil || m.quitting {
		return ""
	}
	rows := m.frameRows()
	var b strings.Builder
	b.Grow(m.lastView + 256) // one allocation per frame
	pw := m.paneWidth()
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.text)
		if r.side != "" {
			if r.width < pw {
				b.WriteString(gap(pw - r.width))
			}
			b.WriteString(r.side)
		}
	}
	m.lastView = b.Len()
	return b.String()
}

// frameRows lays out a frame: the pane's rows (with the side panel beside
// them when it is shown), the status line and the input line. The rows
// are shared strings from the format cache and the cached lines; the slice
// is reused from frame to frame.
func (m *Model) frameRows() []row {
	pw, ph := m.paneWidth(), m.paneHeight()
	var who []line
	if pw != m.width {
		who = m.whoColumn(ph)
	}
	rows := m.frame[:0]
	total := m.v.rows.len()
	end := total - m.v.shift
	start := end - ph
	for y := 0; y < ph; y++ {
		var r row
		if i := start + y; i >= 0 && i < total {
			l := m.v.rows.at(i)
			r.text, r.width = l.text, l.width
		}
		if who != nil {
			r.side, r.sideWidth = who[y].text, who[y].width
		}
		rows = append(rows, r)
	}
	if m.height >= 2 {
		rows = append(rows, row{text: m.status(), width: m.statusWidth})
	}
	in, inw := m.cachedInput()
	rows = append(rows, row{text: in, width: inw})
	m.frame = rows
	return rows
}

// whoColumn returns the drawn rows of the online list, rebuilt only when
// the members or the size change: idle frames cost no styling.
func (m *Model) whoColumn(ph int) []line {
	if m.whoCache != nil && m.whoHeight == ph {
		return m.whoCache
	}
	border := m.st.Border.Render("│")
	inner := whoWidth - 2
	var cells []string // the column's rows without the border
	if len(m.order) > 1 {
		cells = append(cells, m.st.WhoTitle.Render("Rooms"))
		for _, name := range m.order {
			v := m.views[name]
			label := "#" + name
			switch {
			case v.mentioned:
				label += " @" // unread mention
			case v.unread > 0:
				label += fmt.Sprintf(" (%d)", v.unread)
			}
			label = ansi.Truncate(label, inner-2, "…")
			if v == m.v {
				cells = append(cells, m.st.Me.Render("▸ "+label))
			} else {
				cells = append(cells, "  "+label)
			}
		}
		cells = append(cells, "")
	}
	cells = append(cells, m.st.WhoTitle.Render(fmt.Sprintf("Online (%d)", len(m.v.members))))
	room := ph - len(cells)
	for i, name := range m.v.members {
		if i == room-1 && len(m.v.members) > room {
			cells = append(cells, m.st.Notice.Render(fmt.Sprintf("+%d more", len(m.v.members)-i)))
			break
		}
		s := ansi.Truncate(textsafe.Sanitize(name, false), inner, "…")
		if name == m.cfg.User {
			cells = append(cells, m.st.Me.Render(s))
		} else {
			cells = append(cells, m.st.Name(name).Render(s))
		}
	}
	col := make([]line, ph)
	for row := range col {
		if row < len(cells) && cells[row] != "" {
			s := border + " " + cells[row]
			col[row] = line{text: s, width: ansi.StringWidth(s)}
		} else {
			col[row] = line{text: border, width: 1}
		}
	}
	m.whoCache, m.whoHeight = col, ph
	return col
}

// minStatusLeft is the least of the status line's left end (name, room,
// ...) worth showing beside the way back from scrolling; below it the
// line is cut as one.
const minStatusLeft = 12

// plural counts n of a thing: "1 row", "2 rows".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (m *Model) status() string {
	if !m.statusDirty {
		return m.statusCache
	}
	left := fmt.Sprintf(" %s · #%s · %d here", m.cfg.User, m.v.name, len(m.v.members))
	if m.paneWidth() == m.width && len(m.order) > 1 {
		// No side panel: the other rooms, with what waits there.
		left += " ·"
		for _, name := range m.order {
			if v := m.views[name]; v != m.v {
				left += " #" + name
				switch {
				case v.mentioned:
					left += " @"
				case v.unread > 0:
					left += fmt.Sprintf(" (%d)", v.unread)
				}
			}
		}
	}
	if m.v.topic != "" {
		left += " · " + m.v.topic
	}
	left += " · host key " + m.cfg.Fingerprint
	right := "/help "
	if m.v.shift > 0 {
		right = fmt.Sprintf("↑ scrolled: %s below · Ctrl+End ", plural(m.v.shift, "row", "rows"))
	}
	rw := ansi.StringWidth(right)
	gap := m.width - ansi.StringWidth(left) - rw
	var s string
	switch {
	case gap >= 1:
		s = left + strings.Repeat(" ", gap) + right
	case m.v.shift > 0 && m.width-rw > minStatusLeft:
		// Scrolled back: the right end says how to return, so it stays
		// whole and the left end gives way.
		l := ansi.Truncate(left, m.width-rw-1, "…")
		s = l + strings.Repeat(" ", m.width-rw-ansi.StringWidth(l)) + right
	default:
		s = ansi.Truncate(left+" "+right, m.width, "…")
		if w := ansi.StringWidth(s); w < m.width {
			s += strings.Repeat(" ", m.width-w)
		}
	}
	m.statusCache = m.st.Status.Render(s)
	m.statusWidth = ansi.StringWidth(s)
	m.statusDirty = false
	return m.statusCache
}

func (m *Model) cachedInput() (string, int) {
	k := inputState{cursor: m.cursor, width: m.width, theme: m.st.Theme()}
	if k != m.inputKey || m.inputCache == "" || !slices.Equal(m.input, m.inputRunes) {
		m.inputCache, m.inputKey = m.inputView(), k
		m.inputRunes = append(m.inputRunes[:0], m.input...)
		m.inputWidth = ansi.StringWidth(m.inputCache)
	}
	return m.inputCache, m.inputWidth
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
		rw := cellWidth(m.input[i])
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
		rw := cellWidth(r)
		if used+rw > field {
			break
		}
		shown := string(r)
		if r == '\n' {
			shown = "↵" // a line break inside a multi-line message
		}
		if i == m.cursor {
			b.WriteString(m.st.Cursor.Render(shown))
		} else {
			b.WriteString(shown)
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

// pop drops the n newest rows.
func (r *ring) pop(n int) {
	for ; n > 0 && r.n > 0; n-- {
		r.n--
		r.buf[(r.start+r.n)%len(r.buf)] = line{}
	}
}

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
func (m *Model) hidden(rm *room.Message) bool {
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

// commandNames are what Tab completes after a leading "/".
var commandNames = []string{"/help", "/join", "/leave", "/rooms", "/topic", "/who", "/msg", "/reply", "/me", "/away", "/back", "/whois", "/keys",
	"/ignore", "/unignore", "/theme", "/timestamps", "/bell", "/panel", "/quit",
	"/kick", "/mute", "/unmute", "/ban", "/unban", "/bans", "/motd"}

// serverCommand runs a command that needs the server in a tea.Cmd (it may
// wait for the disk) and reports back with a commandMsg.
func (m *Model) serverCommand(cmd, args, input string) tea.Cmd {
	if m.cfg.Chat == nil {
		return nil
	}
	chat, room := m.cfg.Chat, m.v.name
	args = strings.TrimSpace(args)
	first, _, _ := strings.Cut(args, " ")
	arg := strings.ToLower(strings.TrimPrefix(first, "@"))
	return func() tea.Msg {
		lines, err := chat.Command(room, cmd, args)
		return commandMsg{cmd: cmd, arg: arg, input: input, lines: lines, err: err}
	}
}

// applySetting takes a preference the server has stored into this session.
func (m *Model) applySetting(cmd, arg string) {
	switch cmd {
	case "theme":
		if m.cfg.MakeStyles != nil {
			m.st = m.cfg.MakeStyles(arg)
			m.cfg.Theme = arg
			m.restyle()
		}
	case "timestamps":
		m.cfg.Timestamps = arg
		m.restyle()
	case "bell":
		m.cfg.Bell = arg
	case "panel":
		if on := arg == "on"; on != m.panel {
			old := m.paneWidth()
			m.panel = on
			m.sideChanged()
			if m.paneWidth() != old {
				m.reflow()
			}
		}
	}
}

// togglePanel shows or hides the side panel, and remembers the choice.
func (m *Model) togglePanel() tea.Cmd {
	if m.panel {
		return m.setPanel("off", "")
	}
	return m.setPanel("on", "")
}

// setPanel applies the panel setting at once and has the server remember it.
func (m *Model) setPanel(arg, input string) tea.Cmd {
	m.applySetting("panel", arg)
	if arg == "on" && m.width < minWhoScreen {
		m.addLocal(m.notice, fmt.Sprintf("The side panel shows on terminals at least %d columns wide.", minWhoScreen))
	}
	return m.serverCommand("panel", arg, input)
}

// sideChanged marks what lists the rooms and who is here for redrawing:
// the side panel and the status line.
func (m *Model) sideChanged() {
	m.whoCache = nil
	m.statusDirty = true
}

// restyle redraws everything after a change of looks.
func (m *Model) restyle() {
	m.sideChanged()
	m.inputCache = ""
	m.reflow()
}

// rings reports whether a message should ring this user's bell.
func (m *Model) rings(rm *room.Message) bool {
	if rm.From == m.cfg.User || m.cfg.Bell == "off" {
		return false
	}
	switch rm.Kind {
	case room.KindPrivate, room.KindSealed:
		return rm.To == m.cfg.User
	case room.KindMessage, room.KindEmote:
		return m.cfg.Bell == "all" || mentions(rm.Text, m.cfg.User)
	}
	return false
}

func (m *Model) insertNewline() {
	if len(m.input) >= m.cfg.MaxMessage {
		return
	}
	m.input = append(m.input[:m.cursor], append([]rune{'\n'}, m.input[m.cursor:]...)...)
	m.cursor++
}

// remember keeps what the user typed for Up/Down, without repeats in a row.
func (m *Model) remember(text string) {
	if n := len(m.history); n == 0 || m.history[n-1] != text {
		m.history = append(m.history, text)
		if len(m.history) > 100 {
			m.history = slices.Delete(m.history, 0, len(m.history)-100)
		}
	}
	m.histAt = len(m.history)
}

// recall moves through earlier inputs: -1 older, +1 newer; past the newest
// the line is empty again.
func (m *Model) recall(dir int) {
	if len(m.history) == 0 {
		return
	}
	at := min(max(m.histAt+dir, 0), len(m.history))
	m.histAt = at
	if at == len(m.history) {
		m.setInput("")
		return
	}
	m.setInput(m.history[at])
}

// complete finishes the word before the cursor: a command after a leading
// "/", otherwise a username (with or without "@"). One match is completed;
// several are completed to their common prefix and listed.
func (m *Model) complete() {
	start := m.cursor
	for start > 0 && m.input[start-1] != ' ' && m.input[start-1] != '\n' {
		start--
	}
	word := strings.ToLower(string(m.input[start:m.cursor]))
	var pool []string
	prefix := word
	switch {
	case start == 0 && strings.HasPrefix(word, "/"):
		pool = commandNames
	case strings.HasPrefix(word, "#"):
		for name := range m.views {
			pool = append(pool, "#"+name)
		}
		slices.Sort(pool)
	case strings.HasPrefix(word, "@"):
		prefix = word[1:]
		pool = m.v.members
	default:
		pool = m.v.members
	}
	var matches []string
	for _, c := range pool {
		if strings.HasPrefix(c, prefix) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return
	}
	common := matches[0]
	for _, c := range matches[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	fill := common[len(prefix):]
	if len(matches) == 1 {
		fill += " "
	} else if m.lastTab != word {
		m.addLocal(m.notice, strings.Join(matches, "  "))
	}
	m.lastTab = word
	rs := []rune(fill)
	m.input = append(m.input[:m.cursor], append(rs, m.input[m.cursor:]...)...)
	m.cursor += len(rs)
}

// LastIDs are the newest stored messages this session showed in each
// room, so the next visit can mark what is new.
func (m *Model) LastIDs() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]uint64{}
	for name, v := range m.views {
		if v.lastID > 0 {
			out[name] = v.lastID
		}
	}
	return out
}

// RoomNames are the rooms this session is in, lobby first.
func (m *Model) RoomNames() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.order)
}

// cellWidth is how many cells a rune of the input line takes; a line break
// shows as one "↵".
func cellWidth(r rune) int {
	if r == '\n' {
		return 1
	}
	return runewidth.RuneWidth(r)
}

// gap moves the cursor n cells right, blanking them: for wide gaps an erase
// (ECH) and a cursor move (CUF) are a dozen bytes where spaces would be up
// to a screen's width, and every repainted row of the pane has one.
func gap(n int) string {
	if n <= 12 {
		return spaces(n)
	}
	if n < len(gapSeqs) {
		return gapSeqs[n]
	}
	return fmt.Sprintf("\x1b[%dX\x1b[%dC", n, n)
}

var gapSeqs = func() []string {
	seqs := make([]string, 320)
	for n := range seqs {
		seqs[n] = fmt.Sprintf("\x1b[%dX\x1b[%dC", n, n)
	}
	return seqs
}()
