// Package hostkeys loads or creates the server's SSH host key, the one thing
// that lets clients authenticate the server.
//
// It owns the key file in the data folder and the ways of showing the key to a
// person (fingerprint, known_hosts line). It knows nothing of chat, users or
// sessions, and never lets a key be written anywhere but the path it is given.
package hostkeys
