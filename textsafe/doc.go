// Package textsafe makes peer-controlled text safe for a terminal, a log or a
// file: the one sanitiser that the server and the local helper share
// (Sanitize), and clipping to a length without cutting a character (Clip,
// ClipBytes).
//
// It owns no policy about what text is allowed in a chat, and knows nothing
// of chat, rooms or SSH: it imports nothing of ours.
package textsafe
