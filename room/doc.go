// Package room is the live chat room: who is in it, the order of its messages
// (sequence numbers), and fan-out to every subscribed session.
//
// It must not know anything about sockets, SSH, terminals or files. Messages
// are made durable through the small Journal interface before anyone sees
// them, and handed to each subscriber's bounded queue without ever blocking,
// so one stalled client can never delay the room. When several servers
// share one log (a cluster), a Sequencer stores messages instead and the
// log's order is the room's: the room shows what Deliver hands it, in
// that order, with the log's IDs.
package room
