// Command securechat runs the chat server: anyone joins with
// `ssh -p 8080 NAME@HOST`. It parses flags and environment, wires the stores
// to the SSH server, and handles signals; nothing else lives here.
package main
