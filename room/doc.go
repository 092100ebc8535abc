// Package room is the live chat room: who is in it, the order of its messages
// (sequence numbers), and fan-out to every subscribed session.
//
// It must not know anything about sockets, SSH, terminals or files. Messages
// are made durable through the small Journal interface before anyone sees
// them, and handed to each subscriber's bounded queue without ever blocking,
// so one stalled client can never delay the room.
package room
