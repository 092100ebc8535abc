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
	return history.Entry{ID: m.ID, Time: m.Time.UTC(), Kind: string(m.Kind), From: m.From, To: m.To, Text: m.Text}
}

func fromEntry(e history.Entry) room.Message {
	return room.Message{ID: e.ID, Time: e.Time, Kind: room.Kind(e.Kind), From: e.From, To: e.To, Text: e.Text}
}

// visibleTo says whether user may see a stored entry: everything public, and
// addressed entries only when user sent or receives them.
func visibleTo(user string) func(history.Entry) bool {
	return func(e history.Entry) bool {
		return e.To == "" || e.To == user || e.From == user
	}
}
