package sshapp

import (
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"securechat/textsafe"
)

// This file is the chat UI's side of the command table (cmdtable.go): what
// each /name does in the model; most ask the server through Chat.Command.

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
		m.notify(m.format.notice, fmt.Sprintf("The side panel shows on terminals at least %d columns wide.", minWhoScreen))
	}
	return m.serverCommand("panel", arg, input)
}

// command runs a line that starts with "/". Commands come from the table
// (cmdtable.go); those that change only this screen run here, the rest on
// the server. The rule for the input line: a command that fails, here or
// on the server, comes back into the line (when it is still empty) so the
// user can fix it; one that works leaves the line empty.
func (m *Model) command(text string) tea.Cmd {
	word, args, _ := strings.Cut(text, " ")
	cmd, ok := lookupCommand(strings.TrimPrefix(word, "/"), inChat)
	if !ok {
		return m.failed(text, fmt.Sprintf("unknown command %s: type /help for the list", textsafe.Sanitize(word, false)))
	}
	arg := strings.ToLower(strings.TrimSpace(args))
	usage := "usage: " + cmd.usage(inChat)
	switch cmd.name {
	case "help":
		for _, h := range chatHelp(m.cfg.Admin) {
			m.addLocal(m.format.notice, h)
		}
	case "join":
		name := strings.TrimPrefix(arg, "#")
		if name == "" {
			return m.failed(text, usage)
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
	case "leave":
		name := m.rooms.cur.name
		if name == m.cfg.RoomName {
			return m.failed(text, "you are in the lobby: /quit leaves the server")
		}
		if m.cfg.Chat == nil {
			return nil
		}
		chat := m.cfg.Chat
		return func() tea.Msg { return roomLeftMsg{name: name, err: chat.LeaveRoom(name), input: text} }
	case "reply":
		if m.lastPrivate == "" {
			return m.failed(text, "nobody has sent you a private message yet")
		}
		if strings.TrimSpace(args) == "" {
			return m.failed(text, usage)
		}
		return m.serverCommand("msg", m.lastPrivate+" "+args, text)
	case "theme":
		if arg == "" && m.cfg.NoColour {
			m.notify(m.format.notice, "Theme: mono, as this terminal shows no colour (NO_COLOR is set, or its TERM has none)")
			return nil
		}
		if arg == "" {
			m.notify(m.format.notice, "Theme: "+m.format.st.Theme()+". Choose one: /theme "+strings.Join(Themes, "|"))
			return nil
		}
		if !slices.Contains(Themes, arg) || m.cfg.MakeStyles == nil {
			return m.failed(text, "themes: "+strings.Join(Themes, ", "))
		}
		if m.cfg.NoColour && arg != "mono" {
			return m.failed(text, noColourTheme(arg))
		}
		return m.serverCommand(cmd.name, arg, text)
	case "timestamps":
		if arg != "off" && arg != "time" && arg != "datetime" {
			return m.failed(text, usage)
		}
		return m.serverCommand(cmd.name, arg, text)
	case "bell":
		if arg != "off" && arg != "mentions" && arg != "all" {
			return m.failed(text, usage+" (now: "+m.cfg.Bell+")")
		}
		return m.serverCommand(cmd.name, arg, text)
	case "panel":
		switch arg {
		case "":
			return m.togglePanel()
		case "on", "off":
			return m.setPanel(arg, text)
		}
		return m.failed(text, usage+" (F2 toggles it)")
	case "who":
		if m.cfg.Chat == nil {
			m.addLocal(m.format.notice, fmt.Sprintf("Online (%d): %s", len(m.rooms.cur.members), strings.Join(m.rooms.cur.members, ", ")))
			return nil
		}
		return m.serverCommand(cmd.name, args, text)
	case "quit":
		return m.quit()
	default:
		return m.serverCommand(cmd.name, args, text)
	}
	return nil
}

// failed says why a command was refused and gives it back to the input
// line to be fixed.
func (m *Model) failed(input, why string) tea.Cmd {
	m.notify(m.format.errorStyle, why)
	m.ed.restore(input)
	return nil
}
