package sshapp

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"securechat/accounts"
	"securechat/history"
	"securechat/room"
	"securechat/textsafe"
)

// The handlers of the command table (cmdtable.go): one per command, the
// same for the chat UI and exec. Each takes the call and returns the lines
// to show or an error; errUsage (badCall) when the call makes no sense, so
// the front end shows the usage from the table.

func (s *Server) roomsCmd(c *call) ([]string, error) {
	if len(c.args) > 0 {
		return nil, errUsage
	}
	return s.roomLines(), nil
}

func (s *Server) topicCmd(c *call) ([]string, error) {
	return s.setTopic(c.ctx, c.user, c.room, c.text)
}

// whoCmd is /who and who: everyone online (everyone is in the lobby; in a
// cluster, on every node), with who is away; in another room the UI also says who of them is there. With
// a room (--room #go or #go) it lists that room. Over exec the names come
// one a line, for scripts.
func (s *Server) whoCmd(c *call) ([]string, error) {
	where, rest, err := roomFlag(c.args)
	if err != nil {
		return nil, badCall("%s", err)
	}
	if where == "" && len(rest) == 1 && strings.HasPrefix(rest[0], "#") {
		if where, err = parseRoom(rest[0]); err != nil {
			return nil, badCall("%s", err)
		}
		rest = nil
	}
	if len(rest) > 0 {
		return nil, errUsage
	}
	if c.exec() {
		var members []string
		if where == "" {
			members = s.whoOnline(c.ctx)
		} else {
			members = s.room.RoomMembers(where)
		}
		out := make([]string, len(members))
		for i, m := range members {
			out[i] = textsafe.Sanitize(m, false)
		}
		return out, nil
	}
	if where != "" {
		return []string{s.whoLine("In #"+where, s.room.RoomMembers(where))}, nil
	}
	out := []string{s.whoLine("Online", s.whoOnline(c.ctx))}
	if c.room != room.Lobby && c.room != s.cfg.RoomName {
		out = append(out, s.whoLine("In #"+c.room, s.room.RoomMembers(c.room)))
	}
	return out, nil
}

func (s *Server) whoisCmd(c *call) ([]string, error) {
	if strings.TrimSpace(c.text) == "" {
		return nil, errUsage
	}
	return s.whois(c.user, c.text)
}

func (s *Server) meCmd(c *call) ([]string, error) {
	if strings.TrimSpace(c.text) == "" {
		return nil, errUsage
	}
	return nil, s.post(c.ctx, c.user, c.room, room.KindEmote, c.text)
}

// msgCmd sends a private message; over exec the text may come on standard
// input.
func (s *Server) msgCmd(c *call) ([]string, error) {
	to, text, _ := strings.Cut(strings.TrimSpace(c.text), " ")
	if to != "" && text == "" && c.exec() {
		b, err := io.ReadAll(io.LimitReader(c.stdin, int64(s.conf().MaxMessage)*4+1))
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		text = string(b)
	}
	if to == "" || strings.TrimSpace(text) == "" {
		return nil, errUsage
	}
	notice, sealed, err := s.privateMessage(c.ctx, c.user, to, text)
	if err != nil {
		return nil, err
	}
	if sealed && !c.exec() {
		// The [sealed] line the room shows this user is the one
		// confirmation; only an away note is worth a second line.
		return awayOnly(s.awayNote(accounts.Normalize(strings.TrimPrefix(to, "@")))), nil
	}
	return []string{notice}, nil
}

func (s *Server) awayCmd(c *call) ([]string, error) {
	return s.setAway(c.user, c.name == "away", c.text)
}

// keysCmd lists, adds and removes the caller's keys; over exec `keys add`
// reads the keys from standard input when none are given.
func (s *Server) keysCmd(c *call) ([]string, error) {
	sub := ""
	if len(c.args) > 0 {
		sub = c.args[0]
	}
	switch sub {
	case "", "list", "ls":
		lines := s.keyListing(c.user)
		if len(lines) == 0 && !c.exec() {
			return []string{"You have no keys. Add one with /keys add ssh-ed25519 AAAA… (or ssh … keys add < ~/.ssh/id_ed25519.pub)"}, nil
		}
		return lines, nil
	case "add":
		input := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.text), "add"))
		if input == "" && c.exec() {
			b, err := io.ReadAll(io.LimitReader(c.stdin, maxKeysInput+1))
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			if len(b) > maxKeysInput {
				return nil, fmt.Errorf("input too large (at most %d KiB); nothing was added", maxKeysInput>>10)
			}
			input = string(b)
		}
		n, err := s.addKeys(c.user, input)
		if err != nil {
			return nil, err
		}
		return []string{"added " + plural(n, "key", "keys")}, nil
	case "rm", "remove", "del":
		if len(c.args) != 2 {
			return nil, errUsage
		}
		if err := s.removeKey(c.user, c.args[1]); err != nil {
			return nil, err
		}
		return []string{"key removed"}, nil
	}
	return nil, errUsage
}

// ignoreCmd is /ignore and /unignore; either alone lists who is ignored.
func (s *Server) ignoreCmd(c *call) ([]string, error) {
	if strings.TrimSpace(c.text) == "" {
		p, _ := s.acc.Prefs(c.user)
		if len(p.Ignore) == 0 {
			return []string{"You ignore nobody."}, nil
		}
		return []string{"You ignore: " + strings.Join(p.Ignore, ", ")}, nil
	}
	list, err := s.setIgnore(c.user, c.text, c.name == "ignore")
	if err != nil {
		return nil, err
	}
	return []string{ignoreNotice(c.name, c.text, list)}, nil
}

// prefCmd stores a display setting (theme, timestamps, bell, panel); the
// chat UI checks the value and applies it to its screen.
func (s *Server) prefCmd(c *call) ([]string, error) {
	v := strings.TrimSpace(c.text)
	if v == "" {
		return nil, errUsage
	}
	if err := s.acc.UpdatePrefs(c.user, func(p *accounts.Prefs) error {
		switch c.name {
		case "theme":
			p.Theme = v
		case "timestamps":
			p.Timestamps = v
		case "panel":
			p.Panel = v
		default:
			p.Bell = v
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("%s set to %s (remembered)", c.name, v)}, nil
}

// sendCmd posts to a room from a script: the words, or standard input.
func (s *Server) sendCmd(c *call) ([]string, error) {
	where, args, err := roomFlag(c.args)
	if err != nil {
		return nil, badCall("%s", err)
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
		b, err := io.ReadAll(io.LimitReader(c.stdin, limit))
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		if int64(len(b)) == limit {
			return nil, fmt.Errorf("not sent: message too long (at most %d characters)", s.conf().MaxMessage)
		}
		text = string(b)
	}
	if err := s.post(c.ctx, c.user, where, room.KindMessage, text); err != nil {
		return nil, fmt.Errorf("not sent: %w", err)
	}
	return nil, nil
}

// parseFlags parses a command's flags; a mistake is a bad call that says
// what was wrong, -h asks for the usage (flag.ErrHelp).
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return err
	}
	return badCall("%s", err)
}

func (s *Server) historyCmd(c *call) ([]string, error) {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	n := fs.Int("n", s.conf().Backlog, "how many messages")
	asJSON := fs.Bool("json", false, "print JSON lines")
	roomName := fs.String("room", "#"+room.Lobby, "the room")
	if n := len(c.args); n > 0 && (c.args[n-1] == "--room" || c.args[n-1] == "-room") {
		// Most often the shell took an unquoted "#go" for a comment.
		return nil, badCall("%s", errRoomMissing)
	}
	if err := parseFlags(fs, c.args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, badCall("unexpected argument %s", quoteName(fs.Arg(0)))
	}
	if *n < 0 || *n > 100000 {
		return nil, badCall("-n must be between 0 and 100000")
	}
	where, err := parseRoom(*roomName)
	if err != nil {
		return nil, badCall("%s", err)
	}
	msgs, err := s.backlog(c.user, *n, where, nil)
	if err != nil {
		s.log.Error("read history", "err", err)
		return nil, errors.New("history could not be read")
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if *asJSON {
			b, _ := json.Marshal(jsonMessage(m))
			out[i] = string(b)
			continue
		}
		out[i] = textLine(m)
	}
	return out, nil
}

// pubkeyCmd prints USER's keys, one a line: a valid age recipients file, so
// anyone can seal to USER on their own machine.
func (s *Server) pubkeyCmd(c *call) ([]string, error) {
	if len(c.args) != 1 {
		return nil, errUsage
	}
	name := accounts.Normalize(c.args[0])
	u, ok := s.acc.Get(name)
	if !ok {
		return nil, fmt.Errorf("no user %s", quoteName(c.args[0]))
	}
	if len(u.Keys) == 0 {
		return nil, fmt.Errorf("%s has no keys", quoteName(name))
	}
	var out []string
	for _, k := range u.Keys {
		line := k.Line
		if cm := textsafe.Sanitize(k.Comment, false); cm != "" && k.Type != accounts.KeyTypeAge {
			line += " " + cm
		}
		out = append(out, line)
	}
	return out, nil
}

// dmCmd relays a message the sender sealed on their own machine.
func (s *Server) dmCmd(c *call) ([]string, error) {
	if len(c.args) != 1 {
		return nil, badCall("give one USER; the armored age file (sealed to USER's keys, see pubkey USER) comes on standard input")
	}
	b, err := io.ReadAll(io.LimitReader(c.stdin, int64(s.cfg.MaxSealed)+1))
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	m, err := s.relaySealed(c.ctx, c.user, c.args[0], b)
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("sealed message #%d to %s stored", m.ID, m.To)}, nil
}

// inboxArgs is how the inbox command is called.
const inboxArgs = "[--since ID] [-n N] [--sent]"

func (s *Server) inboxCmd(c *call) ([]string, error) {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	since := fs.Uint64("since", 0, "only messages with an id above this")
	n := fs.Int("n", 50, "at most this many messages")
	sent := fs.Bool("sent", false, "also list the sealed messages you sent")
	if err := parseFlags(fs, c.args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 || *n < 1 || *n > 10000 {
		return nil, badCall("N from 1 to 10000")
	}
	var es []history.Entry
	var err error
	if *since > 0 {
		es, _, err = s.hist.SinceFiltered(*since, sealedFor(c.user, *sent), *n, sealedLines)
	} else {
		es, _, err = s.hist.TailFiltered(*n, sealedFor(c.user, *sent), sealedLines)
	}
	if err != nil {
		s.log.Error("read inbox", "err", err)
		return nil, errors.New("inbox could not be read")
	}
	var out []string
	for i, e := range es {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, fmt.Sprintf("%s id=%d time=%s from=%s to=%s", sealedHeader, e.ID, e.Time.UTC().Format("2006-01-02T15:04:05Z"), e.From, e.To))
		// Stored text passed checkArmoredAge or came from seal; sanitise
		// anyway so an edited file cannot reach a terminal raw.
		out = append(out, textsafe.Sanitize(strings.TrimRight(e.Text, "\n"), true))
	}
	return out, nil
}

func (s *Server) moderateCmd(c *call) ([]string, error) {
	if c.name != "bans" && len(c.args) == 0 {
		return nil, errUsage
	}
	return s.moderate(c.user, c.name, c.args)
}

func (s *Server) motdCmd(c *call) ([]string, error) {
	return s.setMOTD(c.user, c.text)
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
