package sshapp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
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
		name  string
		err   error
		input string
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
	// inputCutMsg says the SSH layer dropped input past the line limit. It
	// goes to the scrollback, not the notice line: the bytes that keep
	// arriving would clear a notice before anyone read it.
	inputCutMsg struct{ text string }
)

// paintMsg asks for the frame a model that draws itself held back.
type paintMsg struct{}

// Model is one session's chat UI. It holds no SSH session, so it can be
// built and tested alone. It composes small parts, each owning one
// concern, and routes messages and keys to them:
//
//   - ed, the line editor: editing keys, paste, recall, completion;
//   - rooms, the views of the rooms the user is in: scrollback rings,
//     reflow, scrolling, unread counts;
//   - chrome: the status line and the side panel;
//   - pace, frame pacing for a model that draws itself (cfg.Output);
//   - the slash commands (slash.go), which ask the server through Chat.
type Model struct {
	cfg    ModelConfig
	width  int
	height int

	format *formatter // how entries become rows: styles, timestamps
	rooms  roomViews
	chrome chrome
	ed     lineEditor
	note   noticeLine // feedback of this session's own, apart from the rooms

	sending  int
	out      outbox // what was sent and not taken yet (outbox.go)
	quitting bool
	exitErr  error

	// lastPrivate is who last sent this user a private message (/reply).
	lastPrivate string
	// commands are what Tab completes after "/": what this user may run.
	commands []string
	lastView int // the size of the last View, to size the next one

	// scr draws frames when the model draws itself (cfg.Output); frame is
	// the reused frame, and pace says when the next may be painted.
	scr   *screen
	frame []row
	pace  *framePacer
	// mu guards a model that draws itself: the program's event loop, the
	// session's pump (Deliver) and the frame timer all reach it.
	mu sync.Mutex
}

// NewModel builds a model ready to show the backlog and the welcome.
func NewModel(cfg ModelConfig) *Model {
	if cfg.Scrollback <= 0 {
		cfg.Scrollback = 2000
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 2000
	}
	if cfg.MaxDraft <= 0 {
		cfg.MaxDraft = draftMessages * cfg.MaxMessage
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
		cfg:    cfg,
		width:  drawCols(cfg.Width),
		height: drawRows(cfg.Height),
		format: &formatter{st: cfg.Styles, user: cfg.User, inboxHint: cfg.InboxHint, loc: cfg.Location,
			stamps: cfg.Timestamps, cache: cfg.Cache, profile: cfg.Profile},
		chrome:      newChrome(cfg.User, cfg.Fingerprint, cfg.Panel),
		ed:          newLineEditor(cfg.MaxDraft),
		commands:    chatCompletions(cfg.Admin),
		lastPrivate: cfg.LastPrivate,
	}
	m.ed.recallMax = cfg.MaxMessage
	m.rooms = newRoomViews(m.format, &m.chrome, cfg.RoomName, cfg.Scrollback, m.paneWidth(), m.paneHeight(), cfg.Ignore)
	m.pace = newFramePacer(cfg.FPS, cfg.FrameBurst, m.PaintHeld)
	if cfg.Output != nil {
		m.scr = newScreen(cfg.Output)
	}
	m.rooms.open(RoomState{Name: cfg.RoomName, Topic: cfg.Topic, Members: cfg.Members, Backlog: cfg.Backlog, LastRead: cfg.LastRead})
	m.addLocal(m.format.notice, m.welcome())
	if cfg.Fingerprint != "" {
		m.addLocal(m.format.notice, "The server's host key is "+cfg.Fingerprint+" (the status line shows its start).")
	}
	for _, n := range cfg.Notices {
		m.addLocal(m.format.notice, n)
	}
	for _, r := range cfg.Rooms {
		m.rooms.open(r)
	}
	return m
}

func (m *Model) welcome() string {
	members := m.rooms.cur.members
	return fmt.Sprintf("Welcome to #%s, %s. Online (%d): %s. Type /help for help.",
		m.cfg.RoomName, m.cfg.User, len(members), someNames(members))
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

// plural counts n of a thing: "1 row", "2 rows".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// addLocal shows a notice of this session's own in the room on screen.
func (m *Model) addLocal(style func(string) string, text string) {
	m.rooms.addLocal(style, text)
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

func (m *Model) paneWidth() int  { return m.chrome.paneWidth(m.width) }
func (m *Model) paneHeight() int { return max(m.height-2-m.noticeRows(), 0) }

// Update implements tea.Model. A model that draws itself paints at once
// when its last frame is older than a frame interval, and otherwise holds
// the frame back until then, so a burst of messages costs one frame.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.scr != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	if _, ok := msg.(paintMsg); ok {
		m.pace.pending = false
		m.paint()
		return m, nil
	}
	_, cmd := m.update(msg)
	m.frameDue(true)
	return m, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case incomingMsg:
		return m, m.incoming(&msg)
	case roomJoinedMsg:
		if msg.err != nil {
			m.failed(msg.input, userError(msg.err))
			return m, nil
		}
		if v := m.rooms.views[msg.state.Name]; v != nil {
			m.rooms.show(v)
			return m, nil
		}
		m.rooms.show(m.rooms.open(msg.state))
	case roomLeftMsg:
		if msg.err != nil {
			m.failed(msg.input, userError(msg.err))
			return m, nil
		}
		m.rooms.close(msg.name)
		m.addLocal(m.format.notice, "You left #"+msg.name+".")
	case endedMsg:
		m.exitErr = msg.err
		m.quitting = true
		return m, tea.Quit
	case sentMsg:
		return m, m.sent(msg)
	case outboxRetryMsg:
		return m, m.retry(msg)
	case commandMsg:
		if msg.err == nil && (msg.cmd == "ignore" || msg.cmd == "unignore") && msg.arg != "" {
			m.rooms.ignore[msg.arg] = msg.cmd == "ignore"
		}
		if msg.err == nil {
			m.applySetting(msg.cmd, msg.arg)
		}
		if transientResults[msg.cmd] && len(msg.lines) == 1 {
			m.notify(m.format.notice, msg.lines[0])
		} else {
			for _, l := range msg.lines {
				m.addLocal(m.format.notice, l)
			}
		}
		if msg.err != nil {
			m.failed(msg.input, userError(msg.err))
		}
	case inputCutMsg:
		m.addLocal(m.format.errorStyle, msg.text)
	case tea.WindowSizeMsg:
		m.width, m.height = drawCols(msg.Width), drawRows(msg.Height)
		if m.scr != nil {
			m.scr.invalidate() // the terminal may have moved or dropped rows
		}
		m.chrome.sideChanged()
		m.rooms.resize(m.paneWidth(), m.paneHeight())
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
		if !m.rooms.deliver(rm) {
			continue
		}
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
		m.rooms.setMembers(m.cfg.RoomName, msg.members)
		m.chrome.sideChanged()
	}
	for name, members := range msg.roomMembers {
		m.rooms.setMembers(name, members)
	}
	return bell
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

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.rooms.scroll(3)
	case tea.MouseButtonWheelDown:
		m.rooms.scroll(-3)
	case tea.MouseButtonLeft:
		if msg.Action == tea.MouseActionPress && msg.Y == m.height-1 && msg.X >= m.buttonX() {
			m.clearNotice()
			return m.submit()
		}
	}
	return nil
}

func (m *Model) buttonX() int { return m.width - len(sendButton) }

// key routes a key: what ends, sends or moves between rooms and through
// the scrollback is the model's; the rest edits the line.
func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if k.Type != tea.KeyTab {
		m.clearNotice() // the next key replaces a notice; Tab's list stays
	}
	switch k.Type {
	case tea.KeyCtrlC, tea.KeyCtrlD:
		if k.Type == tea.KeyCtrlD && !m.ed.empty() {
			break // deletes at the cursor
		}
		return m.quit()
	case tea.KeyEnter:
		if k.Alt {
			m.ed.insertNewline()
			return nil
		}
		return m.submit()
	case tea.KeyTab:
		list := m.ed.complete(completions{commands: m.commands, rooms: m.rooms.sortedNames, members: m.rooms.cur.members})
		if list != "" {
			m.notify(m.format.notice, list)
		}
		return nil
	case tea.KeyEsc:
		m.takeBackWaiting()
		return nil
	case tea.KeyF2:
		return m.togglePanel()
	case tea.KeyCtrlN:
		m.rooms.cycle(1)
		return nil
	case tea.KeyCtrlP:
		m.rooms.cycle(-1)
		return nil
	case tea.KeyPgUp:
		m.rooms.scroll(max(m.paneHeight()-1, 1))
		return nil
	case tea.KeyPgDown:
		m.rooms.scroll(-max(m.paneHeight()-1, 1))
		return nil
	case tea.KeyCtrlEnd:
		m.rooms.bottom()
		return nil
	}
	before := len(m.ed.input)
	if _, cut := m.ed.edit(k); cut {
		m.notify(m.format.errorStyle, fmt.Sprintf("the input holds at most %d characters (%d messages): the rest was not typed", m.cfg.MaxDraft, m.cfg.MaxDraft/m.cfg.MaxMessage))
	}
	m.saySplit(before)
	return nil
}

// submit handles Enter and the Send button.
func (m *Model) submit() tea.Cmd {
	text := m.ed.line()
	if text == "" {
		return nil
	}
	m.ed.clear()
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		m.ed.remember(recallable(text))
		return m.command(text)
	}
	m.ed.remember(text)
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	if m.cfg.Chat == nil {
		return nil
	}
	return m.queue(m.rooms.cur.name, text)
}

// restyle redraws everything after a change of looks.
func (m *Model) restyle() {
	m.chrome.sideChanged()
	m.note.invalidate()
	m.ed.invalidate()
	m.rooms.reflow()
}

// LastIDs are the newest stored messages this session showed in each
// room, so the next visit can mark what is new.
func (m *Model) LastIDs() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms.lastIDs()
}

// RoomNames are the rooms this session is in, lobby first.
func (m *Model) RoomNames() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rooms.order)
}
