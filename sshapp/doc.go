// Package sshapp is the SSH side of securechat: the Wish server, the
// authentication handlers, one Bubble Tea program per interactive session,
// and the exec commands that scripts use.
//
// It wires the room, accounts, history and hostkeys packages together and is
// the only place that knows about SSH sessions. It owns no chat rules beyond
// turning a session's input into room messages, and it never holds state that
// must survive a restart: that lives in accounts and history.
package sshapp
