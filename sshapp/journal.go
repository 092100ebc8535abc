package sshapp

import (
	"securechat/history"
	"securechat/room"
)

// journal stores room messages in the history log; the room calls it with
// each group of messages before anyone sees them.
type journal struct{ h History }

func (j journal) AppendBatch(msgs []room.Message) error {
	es := make([]history.Entry, len(msgs))
	for i, m := range msgs {
		es[i] = toEntry(m)
	}
	return j.h.AppendBatch(es)
}

func toEntry(m room.Message) history.Entry {
	return history.Entry{ID: m.ID, Time: m.Time.UTC(), Kind: string(m.Kind), Room: m.Room, From: m.From, To: m.To, Text: m.Text}
}

func fromEntry(e history.Entry) room.Message {
	m := room.Message{ID: e.ID, Time: e.Time, Kind: room.Kind(e.Kind), Room: e.Room, From: e.From, To: e.To, Text: e.Text}
	if m.Room == "" && m.To == "" {
		m.Room = room.Lobby // written before rooms existed
	}
	return m
}

// roomOf is the room of a stored entry; lines from before rooms existed
// belong to the lobby, read as they are, with no migration.
func roomOf(e history.Entry) string {
	if e.Room == "" {
		return room.Lobby
	}
	return e.Room
}

// visibleIn says whether user may see a stored entry in a room's backlog:
// the room's public messages, and in the lobby also the private ones user
// sent or received.
func visibleIn(user, name string) func(history.Entry) bool {
	return func(e history.Entry) bool {
		if e.To != "" {
			return name == room.Lobby && (e.To == user || e.From == user)
		}
		return roomOf(e) == name
	}
}
