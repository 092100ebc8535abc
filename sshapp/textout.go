package sshapp

import (
	"errors"
	"fmt"
	"securechat/textsafe"
	"strings"
	"time"

	"securechat/room"
)

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
