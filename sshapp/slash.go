package sshapp

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"securechat/room"
	"securechat/textsafe"
)

// This file is the chat UI's slash commands: what /help lists, what Tab
// completes after "/", and what each /name does in the model (most ask the
// server through Chat.Command).

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
	chat, room := m.cfg.Chat, m.rooms.cur.name
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
			m.format.st = m.cfg.MakeStyles(arg)
			m.cfg.Theme = arg
			m.restyle()
		}
	case "timestamps":
		m.format.stamps = arg
		m.restyle()
	case "bell":
		m.cfg.Bell = arg
	case "panel":
		if on := arg == "on"; on != m.chrome.panel {
			m.chrome.panel = on
			m.chrome.sideChanged()
			m.rooms.resize(m.paneWidth(), m.paneHeight())
		}
	}
}

// togglePanel shows or hides the side panel, and remembers the choice.
func (m *Model) togglePanel() tea.Cmd {
	if m.chrome.panel {
		return m.setPanel("off", "")
	}
	return m.setPanel("on", "")
}

// setPanel applies the panel setting at once and has the server remember it.
func (m *Model) setPanel(arg, input string) tea.Cmd {
	m.applySetting("panel", arg)
	if arg == "on" && m.width < minWhoScreen {
		m.addLocal(m.format.notice, fmt.Sprintf("The side panel shows on terminals at least %d columns wide.", minWhoScreen))
	}
	return m.serverCommand("panel", arg, input)
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
			m.addLocal(m.format.errorStyle, "usage: /join #room")
			return nil
		}
		if v := m.rooms.views[name]; v != nil {
			m.rooms.show(v)
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
		name := m.rooms.cur.name
		if name == m.cfg.RoomName {
			m.addLocal(m.format.errorStyle, "you are in the lobby: /quit leaves the server")
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
			m.addLocal(m.format.errorStyle, "nobody has sent you a private message yet")
			return nil
		}
		if strings.TrimSpace(args) == "" {
			m.addLocal(m.format.errorStyle, "usage: /reply TEXT")
			return nil
		}
		return m.serverCommand("msg", m.lastPrivate+" "+args, text)
	case "/theme":
		arg := strings.ToLower(strings.TrimSpace(args))
		if arg == "" {
			m.addLocal(m.format.notice, "Theme: "+m.format.st.Theme()+". Choose one: /theme "+strings.Join(Themes, "|"))
			return nil
		}
		if !slices.Contains(Themes, arg) || m.cfg.MakeStyles == nil {
			m.addLocal(m.format.errorStyle, "themes: "+strings.Join(Themes, ", "))
			return nil
		}
		return m.serverCommand("theme", arg, text)
	case "/timestamps":
		arg := strings.ToLower(strings.TrimSpace(args))
		if arg != "off" && arg != "time" && arg != "datetime" {
			m.addLocal(m.format.errorStyle, "usage: /timestamps off|time|datetime")
			return nil
		}
		return m.serverCommand("timestamps", arg, text)
	case "/bell":
		arg := strings.ToLower(strings.TrimSpace(args))
		if arg != "off" && arg != "mentions" && arg != "all" {
			m.addLocal(m.format.errorStyle, "usage: /bell off|mentions|all (now: "+m.cfg.Bell+")")
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
		m.addLocal(m.format.errorStyle, "usage: /panel on|off (F2 toggles it)")
		return nil
	case "/msg", "/keys", "/kick", "/mute", "/unmute", "/ban", "/unban", "/bans", "/ignore", "/unignore",
		"/me", "/away", "/back", "/whois", "/motd":
		return m.serverCommand(strings.ToLower(name[1:]), args, text)
	case "/help", "/?":
		for _, h := range helpText {
			m.addLocal(m.format.notice, h)
		}
	case "/who":
		if m.cfg.Chat != nil {
			return m.serverCommand("who", "", text)
		}
		m.addLocal(m.format.notice, fmt.Sprintf("Online (%d): %s", len(m.rooms.cur.members), strings.Join(m.rooms.cur.members, ", ")))
	case "/quit", "/exit":
		m.quitting = true
		return tea.Quit
	default:
		m.addLocal(m.format.errorStyle, fmt.Sprintf("unknown command %s: type /help for the list", textsafe.Sanitize(name, false)))
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
