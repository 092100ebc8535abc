package sshapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/charmbracelet/ssh"

	"securechat/textsafe"
)

// frontEnds says where a command exists: in the chat UI (/name ARGS), over
// exec (ssh host name ARGS), or both.
type frontEnds uint8

const (
	inChat frontEnds = 1 << iota
	inExec
	inBoth = inChat | inExec
)

// command is one entry of the command table: everything the chat UI and
// exec know about a command. Dispatch, /help and help, Tab completion,
// the usage printed on a bad call and who may see and run it all come from
// here, so adding a command is one entry, its handler and its test.
type command struct {
	name    string
	aliases []string
	args    string // the arguments, as usage shows them ("USER TEXT")
	help    string // one line
	admin   bool   // only admins may run it, and only they see it offered
	where   frontEnds
	// run is the handler both front ends call. nil: the chat UI runs the
	// command itself (it changes only this session's screen), or, for
	// help, each front end lists the table.
	run func(s *Server, c *call) ([]string, error)
}

// call is one run of a command: who asks, from where, with what.
type call struct {
	name string // the command, as the table names it
	user string
	ctx  context.Context
	room string // the room the caller is in: on screen in the UI, the lobby over exec
	// args are the words after the name; text is the same as typed, for
	// commands that take free text (/msg bob  two  spaces).
	args []string
	text string
	// stdin is the exec session's standard input; nil in the chat UI.
	stdin io.Reader
	// stdout is the exec session's standard output, for a command whose
	// output is not lines of text (admin backup); nil in the chat UI.
	stdout io.Writer
}

func (c *call) exec() bool { return c.stdin != nil }

// errUsage is a call the command cannot make sense of: the front end shows
// the command's usage from the table. Wrap it to say what was wrong
// (badCall).
var errUsage = errors.New("bad call")

// badCall is a bad call with the reason.
func badCall(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// commandTable is every command, in the order help lists them. It is never
// changed after start.
var commandTable = []command{
	{name: "help", aliases: []string{"?"}, help: "this help", where: inBoth},
	{name: "join", args: "#room", help: "enter a room (made on first join); Ctrl+N/Ctrl+P switch", where: inChat},
	{name: "leave", aliases: []string{"part"}, help: "leave this room for the lobby", where: inChat},
	{name: "rooms", help: "every room, with how many are in it and its topic", where: inBoth, run: (*Server).roomsCmd},
	{name: "topic", args: "[TEXT]", help: "show or set this room's topic (- clears it)", where: inChat, run: (*Server).topicCmd},
	{name: "who", args: "[--room ROOM]", help: "who is online, and who is away (or who is in a room)", where: inBoth, run: (*Server).whoCmd},
	{name: "whois", args: "USER", help: "who someone is: since when, keys, away, last seen", where: inBoth, run: (*Server).whoisCmd},
	{name: "me", args: "ACTION", help: "say what you do: * alice waves", where: inChat, run: (*Server).meCmd},
	{name: "msg", args: "USER TEXT", help: "a private message; sealed with age when USER has keys", where: inBoth, run: (*Server).msgCmd},
	{name: "reply", args: "TEXT", help: "answer the last private message", where: inChat},
	{name: "away", args: "[REASON]", help: "tell others you are away; /back when you return", where: inBoth, run: (*Server).awayCmd},
	{name: "back", help: "you are no longer away", where: inBoth, run: (*Server).awayCmd},
	{name: "keys", args: "[list | add LINE | rm FINGERPRINT]", help: "your public keys", where: inBoth, run: (*Server).keysCmd},
	{name: "ignore", args: "[USER]", help: "hide USER's messages (remembered); none: the list", where: inChat, run: (*Server).ignoreCmd},
	{name: "unignore", args: "[USER]", help: "show USER's messages again", where: inChat, run: (*Server).ignoreCmd},
	{name: "theme", args: "NAME", help: "dark, light, contrast or mono", where: inChat, run: (*Server).prefCmd},
	{name: "timestamps", args: "off|time|datetime", help: "how messages show their time", where: inChat, run: (*Server).prefCmd},
	{name: "panel", args: "[on|off]", help: "the side panel: rooms and who is online (F2)", where: inChat, run: (*Server).prefCmd},
	{name: "bell", args: "off|mentions|all", help: "when to ring (default: mentions, private)", where: inChat, run: (*Server).prefCmd},
	{name: "quit", aliases: []string{"exit"}, help: "leave (or Ctrl+C)", where: inChat},
	{name: "send", args: "[--room ROOM] TEXT...", help: "post TEXT (or standard input) to a room, the lobby by default", where: inExec, run: (*Server).sendCmd},
	{name: "history", args: "[-n N] [--json] [--room ROOM]", help: "the last N messages of a room (default 50, the lobby)", where: inExec, run: (*Server).historyCmd},
	{name: "pubkey", args: "USER", help: "USER's public keys, one a line (an age recipients file)", where: inExec, run: (*Server).pubkeyCmd},
	{name: "dm", args: "USER", help: "relay a message you sealed yourself (armored age on standard input)", where: inExec, run: (*Server).dmCmd},
	{name: "inbox", args: inboxArgs, help: "sealed messages to you (--sent: and from you); pipe into securechat-decrypt", where: inExec, run: (*Server).inboxCmd},
	{name: "kick", args: "USER [WHY]", help: "end USER's sessions, telling them and the room why", admin: true, where: inBoth, run: (*Server).moderateCmd},
	{name: "mute", args: "USER [30m] [WHY]", help: "USER may not post (for a while)", admin: true, where: inBoth, run: (*Server).moderateCmd},
	{name: "unmute", args: "USER", help: "USER may post again", admin: true, where: inBoth, run: (*Server).moderateCmd},
	{name: "ban", args: "USER [7d] [--addr] [REASON]", help: "keep USER (and their address) out", admin: true, where: inBoth, run: (*Server).moderateCmd},
	{name: "unban", args: "USER", help: "lift a ban", admin: true, where: inBoth, run: (*Server).moderateCmd},
	{name: "bans", help: "who is banned, until when and why", admin: true, where: inBoth, run: (*Server).moderateCmd},
	{name: "motd", args: "[TEXT]", help: "show or set the message of the day (- clears it)", admin: true, where: inBoth, run: (*Server).motdCmd},
	{name: "admin", args: "user list|add|passwd|del|role ...", help: "manage accounts, admin backup [--gzip] > FILE (and admin kick|mute|... as above)", admin: true, where: inExec, run: (*Server).adminCmd},
}

// lookupCommand finds a command by name or alias, as typed, for a front
// end. Admin-only commands are found for everyone, so that others are told
// plainly that only admins may run them (runCommand checks).
func lookupCommand(name string, where frontEnds) (*command, bool) {
	name = strings.ToLower(name)
	for i := range commandTable {
		c := &commandTable[i]
		if c.where&where == 0 {
			continue
		}
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return nil, false
}

// visibleCommands are the commands a front end offers this user.
func visibleCommands(where frontEnds, admin bool) []*command {
	var out []*command
	for i := range commandTable {
		if c := &commandTable[i]; c.where&where != 0 && (admin || !c.admin) {
			out = append(out, c)
		}
	}
	return out
}

// usage is how the command is called, in a front end's own form:
// "/msg USER TEXT" in the chat UI, "msg USER TEXT" over exec.
func (c *command) usage(where frontEnds) string {
	u := c.name
	if where == inChat {
		u = "/" + u
	}
	if c.args != "" {
		u += " " + c.args
	}
	return u
}

// chatHelpKeys ends /help: the keys, which no table holds.
var chatHelpKeys = []string{
	"  //text         send a line that starts with /",
	"Keys: Enter or a click on [ Send ] sends; Alt+Enter or Ctrl+J: a new line;",
	"  Tab completes names and commands; Up/Down recall what you typed;",
	"  Esc takes back lines waiting to be sent ([N to send] by the input);",
	"  PgUp/PgDn or the mouse wheel scroll; Ctrl+End jumps to the newest;",
	"  Ctrl+A/E/U/K/W edit the line. A failed command stays in the line to fix.",
}

// chatHelpColumn and execHelpColumn are where the one-line help starts in
// /help and in help.
const (
	chatHelpColumn = 17
	execHelpColumn = 30
)

// helpLines lists the commands a front end offers this user, one a line
// (a usage too long for its column gets a line of its own), with aliases.
func helpLines(where frontEnds, admin bool) []string {
	col := execHelpColumn
	if where == inChat {
		col = chatHelpColumn
	}
	var out []string
	for _, c := range visibleCommands(where, admin) {
		u := "  " + c.usage(where)
		h := c.help
		for _, a := range c.aliases {
			if where == inChat {
				a = "/" + a
			}
			h += " (also " + a + ")"
		}
		if len(u) >= col {
			out = append(out, u)
			u = ""
		}
		out = append(out, u+strings.Repeat(" ", col-len(u))+h)
	}
	return out
}

// chatHelp is what /help shows this user.
func chatHelp(admin bool) []string {
	return append(append([]string{"Commands:"}, helpLines(inChat, admin)...), chatHelpKeys...)
}

// execHelp is what `help` (and a bad command) prints for this user.
func execHelp(admin bool) string {
	var b strings.Builder
	b.WriteString("usage: ssh -p PORT USER@HOST COMMAND\ncommands:\n")
	for _, l := range helpLines(inExec, admin) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("ROOM is a room's name with or without its \"#\": --room go, or --room '#go'\nquoted (in a shell, an unquoted # starts a comment).\n")
	b.WriteString("without a command, ssh -t opens the chat.\n")
	return b.String()
}

// chatCompletions are what Tab offers after a leading "/".
func chatCompletions(admin bool) []string {
	var out []string
	for _, c := range visibleCommands(inChat, admin) {
		out = append(out, "/"+c.name)
	}
	return out
}

// runCommand runs a command's handler for a caller, once the caller may:
// admin-only commands refuse everyone else here, whatever the front end.
func (s *Server) runCommand(cmd *command, c *call) ([]string, error) {
	c.name = cmd.name
	if cmd.admin && !s.isAdmin(c.user) {
		s.log.Warn("admin command refused", "by", safeName(c.user), "action", cmd.name)
		return nil, errNotAdmin
	}
	return cmd.run(s, c)
}

// runChatCommand runs a command for the chat UI (see sessionChat.Command).
// A bad call's error carries the usage, so the UI shows it as it is.
func (s *Server) runChatCommand(c *call) ([]string, error) {
	cmd, ok := lookupCommand(c.name, inChat)
	if !ok || cmd.run == nil {
		return nil, fmt.Errorf("unknown command /%s: type /help for the list", textsafe.Sanitize(c.name, false))
	}
	lines, err := s.runCommand(cmd, c)
	if errors.Is(err, errUsage) {
		return nil, usageError(err, cmd, inChat)
	}
	return lines, err
}

// usageError is what a bad call tells the user: the reason, if one was
// given, and the usage.
func usageError(err error, cmd *command, where frontEnds) error {
	detail := strings.TrimPrefix(strings.TrimPrefix(err.Error(), errUsage.Error()), ": ")
	if detail == "" {
		return errors.New("usage: " + cmd.usage(where))
	}
	return fmt.Errorf("%s\nusage: %s", detail, cmd.usage(where))
}

// runExecCommand runs one exec command and returns its exit status: 0, 1
// when it failed, 2 for a bad call.
func (s *Server) runExecCommand(sess ssh.Session, user string, args []string) int {
	admin := s.isAdmin(user)
	name := args[0]
	s.log.Info("command", "user", safeName(user), "remote", remote(sess.Context()), "cmd", safeName(name))
	if name == "-h" || name == "--help" {
		name = "help"
	}
	cmd, ok := lookupCommand(name, inExec)
	if !ok {
		fmt.Fprintf(sess.Stderr(), "securechat: unknown command %s\n%s", quoteName(name), execHelp(admin))
		return 2
	}
	if cmd.run == nil { // help
		fmt.Fprint(sess, execHelp(admin))
		return 0
	}
	c := &call{name: cmd.name, user: user, ctx: sess.Context(), room: s.cfg.RoomName, args: args[1:],
		text: strings.Join(args[1:], " "), stdin: sess, stdout: sess}
	lines, err := s.runCommand(cmd, c)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(sess.Stderr(), "usage: %s\n", cmd.usage(inExec))
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(sess.Stderr(), "securechat: %s: %s\n", cmd.name, usageError(err, cmd, inExec))
		return 2
	case err != nil:
		fmt.Fprintf(sess.Stderr(), "securechat: %s: %s\n", cmd.name, textsafe.Sanitize(userError(err), false))
		return 1
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(sess, b.String()); err != nil {
		return 1
	}
	return 0
}
