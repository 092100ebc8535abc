package room

import "fmt"

// sequence stores a batch through the Sequencer and gives each pending
// message the ID the log chose; the messages are shown when Deliver brings
// them back.
func (r *Room) sequence(batch []pendingMsg, msgs []Message) error {
	ids, err := r.sequencer.Sequence(msgs)
	if err != nil {
		return err
	}
	if len(ids) != len(batch) {
		return fmt.Errorf("sequencer returned %d ids for %d messages", len(ids), len(msgs))
	}
	for i := range batch {
		batch[i].msg.ID = ids[i] // read by the publisher after its result
	}
	return nil
}

// Deliver shows messages the Sequencer's log ordered, from this server or
// another, in the order given, with the IDs given (which must increase
// from one call to the next). It never blocks on a session, like Publish.
// A join notice is not shown to the session of the joining user that
// caused it (the one session of that user in the room when it was the
// user's first), just as Publish does not show it.
func (r *Room) Deliver(msgs []Message) {
	if len(msgs) == 0 {
		return
	}
	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	for _, m := range msgs {
		r.nextID = max(r.nextID, m.ID)
	}
	r.mu.Unlock()
	subs := *r.subList.Load()
	batch := make([]pendingMsg, len(msgs))
	for i := range msgs {
		m := msgs[i]
		batch[i].msg = &m
		if m.Kind == KindJoin && m.Room != "" {
			batch[i].except = joiner(subs, m)
		}
	}
	r.fanOut(batch) // counts deliveries and drops, as for Publish
}

// joiner is the session a join notice came from when it is on this server:
// the user's only session in that room.
func joiner(subs []*Subscription, m Message) *Subscription {
	var found *Subscription
	for _, s := range subs {
		if s.User == m.From && s.inRoom(m.Room) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}
