package sshapp

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"securechat/textsafe"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"

	"securechat/room"
)

// commandUsage is printed for an unknown command or bad arguments.
const commandUsage = `usage: ssh -p PORT USER@HOST COMMAND
commands:
  who [--room ROOM]           list who is online (or in a room), one name a line
  send [--room ROOM] TEXT...  post TEXT to a room, the lobby by default (or the message on standard input)
  history [-n N] [--json] [--room ROOM]
                              print the last N messages of a room (default 50, the lobby)
  keys [list]                 your public keys: type, fingerprint, comment, date
  keys add [LINE]             add keys (authorized_keys lines or age1… recipients; several on standard input)
  keys rm FINGERPRINT         remove a key
  pubkey USER                 USER's public keys, one a line (an age recipients file)
  msg USER TEXT...            private message; sealed with age when USER has keys
  dm USER < FILE.age          relay a message you sealed yourself (armored age)
  inbox [--since ID] [-n N] [--sent]
                              sealed messages to you (--sent: and from you); pipe into securechat-decrypt
  admin ...                   for admins: kick, mute, unmute, ban, unban, bans, user list|add|passwd|del|role, backup
  help                        this text
ROOM is a room's name with or without its "#": --room go, or --room '#go'
quoted (in a shell, an unquoted # starts a comment).
without a command, ssh -t opens the chat.
`

// runCommand runs one exec command and returns its exit status.
func (s *Server) runCommand(sess ssh.Session, user string, args []string) int {
	name, rest := args[0], args[1:]
	s.log.Info("command", "user", safeName(user), "remote", remote(sess.Context()), "cmd", safeName(name))
	switch name {
	case "who":
		return s.cmdWho(sess, rest)
	case "send":
		return s.cmdSend(sess, user, rest)
	case "history":
		return s.cmdHistory(sess, user, rest)
	case "keys":
		return s.cmdKeys(sess, user, rest)
	case "pubkey":
		return s.cmdPubkey(sess, rest)
	case "msg":
		return s.cmdMsg(sess, user, rest)
	case "dm":
		return s.cmdDM(sess, user, rest)
	case "inbox":
		return s.cmdInbox(sess, user, rest)
	case "admin":
		return s.cmdAdmin(sess, user, rest)
	case "help", "-h", "--help":
		fmt.Fprint(sess, commandUsage)
		return 0
	}
	fmt.Fprintf(sess.Stderr(), "securechat: unknown command %s\n%s", quoteName(name), commandUsage)
	return 2
}

func (s *Server) cmdWho(sess ssh.Session, args []string) int {
	where, args, err := roomFlag(args)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: who: %s\n", err)
		return 2
	}
	if len(args) > 0 {
		fmt.Fprintf(sess.Stderr(), "securechat: usage: who [--room ROOM]\n")
		return 2
	}
	members := s.room.Members()
	if where != "" {
		members = s.room.RoomMembers(where)
	}
	var b strings.Builder
	for _, m := range members {
		b.WriteString(textsafe.Sanitize(m, false))
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(sess, b.String())
	return 0
}

func (s *Server) cmdSend(sess ssh.Session, user string, args []string) int {
	where, args, err := roomFlag(args)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: send: %s\n", err)
		return 2
	}
	if where == "" {
		where = room.Lobby
	}
	var text string
	if len(args) > 0 {
		text = strings.Join(args, " ")
	} else {
		// Read at most one byte past the limit (in bytes, generous for
		// multi-byte text) so a stream that never ends cannot grow memory.
		limit := int64(s.conf().MaxMessage)*4 + 1
		b, err := io.ReadAll(io.LimitReader(sess, limit))
		if err != nil {
			fmt.Fprintf(sess.Stderr(), "securechat: read standard input: %v\n", err)
			return 1
		}
		if int64(len(b)) == limit {
			fmt.Fprintf(sess.Stderr(), "securechat: not sent: message too long (at most %d characters)\n", s.conf().MaxMessage)
			return 1
		}
		text = string(b)
	}
	if err := s.post(sess.Context(), user, where, room.KindMessage, text); err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: not sent: %s\n", userError(err))
		return 1
	}
	return 0
}

// parseArgs parses a command's flags. A mistake gets one line that says
// what was wrong and the command's usage, rather than the flag package's
// listing; -h gets the usage. ok is false when the command should end, with
// code as its exit status.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer, usage string) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stderr, "usage: %s\n", usage)
		return 0, false
	default:
		fmt.Fprintf(stderr, "securechat: %s: %s\nusage: %s\n", fs.Name(), err, usage)
		return 2, false
	}
}

func (s *Server) cmdHistory(sess ssh.Session, user string, args []string) int {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	n := fs.Int("n", s.conf().Backlog, "how many messages")
	asJSON := fs.Bool("json", false, "print JSON lines")
	roomName := fs.String("room", "#"+room.Lobby, "the room")
	if n := len(args); n > 0 && (args[n-1] == "--room" || args[n-1] == "-room") {
		fmt.Fprintf(sess.Stderr(), "securechat: history: %s\n", errRoomMissing)
		return 2
	}
	if code, ok := parseArgs(fs, args, sess.Stderr(), "history [-n N] [--json] [--room ROOM]"); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(sess.Stderr(), "securechat: history: unexpected argument %s\n", quoteName(fs.Arg(0)))
		return 2
	}
	if *n < 0 || *n > 100000 {
		fmt.Fprintf(sess.Stderr(), "securechat: history: -n must be between 0 and 100000\n")
		return 2
	}
	where, err := parseRoom(*roomName)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: history: %s\n", err)
		return 2
	}
	msgs, err := s.backlog(user, *n, where, nil)
	if err != nil {
		s.log.Error("read history", "err", err)
		fmt.Fprintln(sess.Stderr(), "securechat: history could not be read")
		return 1
	}
	w := bufio.NewWriter(sess)
	for _, m := range msgs {
		if *asJSON {
			b, _ := json.Marshal(jsonMessage(m))
			w.Write(b)
			w.WriteByte('\n')
			continue
		}
		w.WriteString(textLine(m))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	return 0
}

// jsonMessage is the shape of `history --json` lines: the stored fields,
// sanitised like everything a peer controls.
type jsonOut struct {
	ID   uint64    `json:"id"`
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
	Room string    `json:"room,omitempty"`
	From string    `json:"from"`
	To   string    `json:"to,omitempty"`
	Text string    `json:"text"`
}

func jsonMessage(m room.Message) jsonOut {
	return jsonOut{ID: m.ID, Time: m.Time.UTC(), Kind: string(m.Kind), Room: m.Room, From: textsafe.Sanitize(m.From, false), To: textsafe.Sanitize(m.To, false), Text: textsafe.Sanitize(m.Text, true)}
}

// textLine is one `history` line: `TIME NAME: TEXT` for messages and
// `TIME * TEXT` for notices. A multi-line message is indented under itself.
func textLine(m room.Message) string {
	ts := m.Time.UTC().Format("2006-01-02 15:04:05Z")
	text := strings.ReplaceAll(textsafe.Sanitize(m.Text, true), "\n", "\n    ")
	switch m.Kind {
	case room.KindMessage:
		return ts + " " + textsafe.Sanitize(m.From, false) + ": " + text
	case room.KindEmote:
		return ts + " * " + textsafe.Sanitize(m.From, false) + " " + text
	case room.KindTopic:
		if text == "" {
			return ts + " * " + textsafe.Sanitize(m.From, false) + " cleared the topic"
		}
		return ts + " * " + textsafe.Sanitize(m.From, false) + " set the topic: " + text
	case room.KindSealed:
		return fmt.Sprintf("%s [sealed] #%d from %s to %s (read it with: inbox | securechat-decrypt)", ts, m.ID, m.From, m.To)
	default:
		return ts + " * " + text
	}
}

// errRoomMissing is a --room without a name; most often the shell took an
// unquoted "#go" and everything after it for a comment.
var errRoomMissing = errors.New("--room needs a room name: write --room go, or quote it as --room '#go' (in a shell, # starts a comment)")

// roomFlag takes a leading "--room NAME" (or "--room=NAME") off args.
func roomFlag(args []string) (string, []string, error) {
	if len(args) == 0 {
		return "", args, nil
	}
	var v string
	switch {
	case args[0] == "--room" || args[0] == "-room":
		if len(args) < 2 {
			return "", args, errRoomMissing
		}
		v, args = args[1], args[2:]
	case strings.HasPrefix(args[0], "--room="):
		v, args = strings.TrimPrefix(args[0], "--room="), args[1:]
	default:
		return "", args, nil
	}
	name, err := parseRoom(v)
	return name, args, err
}
