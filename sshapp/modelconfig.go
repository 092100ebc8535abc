package sshapp

import (
	"io"
	"time"

	"github.com/muesli/termenv"

	"securechat/room"
)

// Chat is what the model needs from the server: a way to post a line. It is
// called from a tea.Cmd, never from Update, since storing waits for the disk.
type Chat interface {
	// Send posts text to a room. A slowDown error is not a refusal: the
	// user's flood allowance has no room yet, and the outbox sends the
	// line again after the wait it names.
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
	Backlog  []*room.Message // shared: read-only
	LastRead uint64
}

// ModelConfig is everything a session's model starts from.
type ModelConfig struct {
	User string
	// Admin: the user may run admin commands, so /help and Tab offer them.
	Admin       bool
	RoomName    string
	Fingerprint string // the server's host key, shown in the status line
	Styles      *Styles
	Chat        Chat
	Members     []string
	Backlog     []*room.Message // shared: read-only
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
	// MaxDraft is the most the input, and the outbox, each hold in
	// characters (default draftMessages messages).
	MaxDraft int
	Location *time.Location
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
	// NoColour: the terminal shows no colour (NO_COLOR, or its TERM), so
	// only the mono theme applies.
	NoColour bool
	// MakeStyles builds the styles of a theme on this session's renderer
	// (nil: themes cannot change).
	MakeStyles func(theme string) *Styles
	// LastRead is the last message this user saw in an earlier visit; the
	// backlog marks where newer ones start.
	LastRead uint64
	// LastPrivate is who last sent this user a sealed message, found in
	// the history at login, so /reply answers messages that came while
	// the user was away.
	LastPrivate string
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
