// Package sshapp is the SSH side of securechat: the Wish server, the
// authentication handlers, one Bubble Tea program per interactive session,
// the screen renderer, and the commands, which the chat UI (/name) and exec
// (ssh host name) run from one table (cmdtable.go, handlers.go).
//
// It wires the room, accounts, history and hostkeys packages together and is
// the only place that knows about SSH sessions. It owns no chat rules beyond
// turning a session's input into room messages, and it never holds state that
// must survive a restart: that lives in accounts and history.
//
// The chat UI's Model holds no SSH session: it composes small parts that
// know nothing of SSH either (the line editor, the room views and their
// scrollback, the chrome, frame pacing), so it can be built and tested
// alone. ARCHITECTURE.md at the top of the repository has the map.
package sshapp
