package sshapp

import (
	"context"
	"slices"
	"time"

	"securechat/history"
	"securechat/room"
)

// ReplicatedHistory is a History that several servers append to (a
// cluster's shared log), which decides the messages' order itself. A
// server given one shows a room's messages only as the log hands them
// back, so every server shows them in the log's order with the log's IDs.
type ReplicatedHistory interface {
	History
	// AppendOrdered stores es and returns the ID the log gave each, once
	// they are durable and readable on this server.
	AppendOrdered(es []history.Entry) ([]uint64, error)
	// Feed sets the function that receives every entry the log gets from
	// now on, from any server, in order, with IDs set.
	Feed(fn func([]history.Entry))
}

// sequencer stores a room's messages in a ReplicatedHistory.
type sequencer struct{ h ReplicatedHistory }

func (s sequencer) Sequence(msgs []room.Message) ([]uint64, error) {
	es := make([]history.Entry, len(msgs))
	for i, m := range msgs {
		es[i] = toEntry(m)
	}
	return s.h.AppendOrdered(es)
}

// deliverReplicated shows what the shared log hands back to this server's
// sessions.
func (s *Server) deliverReplicated(es []history.Entry) {
	msgs := make([]room.Message, len(es))
	for i, e := range es {
		msgs[i] = fromEntry(e)
	}
	s.room.Deliver(msgs)
}

// Presence says who is online on the other servers of a cluster.
type Presence interface {
	Others(ctx context.Context) ([]string, error)
}

// whoOnline is everyone with a session here or, in a cluster, on another
// server, sorted. If the other servers cannot be asked, it is this
// server's users.
func (s *Server) whoOnline(ctx context.Context) []string {
	here := s.room.Members()
	if s.presence == nil {
		return here
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	others, err := s.presence.Others(ctx)
	if err != nil {
		s.log.Warn("read who is online on other nodes", "err", err)
		return here
	}
	all := append(slices.Clone(here), others...)
	slices.Sort(all)
	return slices.Compact(all)
}
