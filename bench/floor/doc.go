// Command floor is a measuring stick for BENCHMARKS.md, not a chat server:
// the least an SSH chat built on x/crypto/ssh can do per delivered message.
// Every session gets one goroutine and one queue, and each message is one
// write of one line to each session's channel: no screen, no history, no
// accounts (it accepts any login), no limits. Run under the same load as
// securechat in the same invocation, it shows how much of securechat's CPU
// per delivery is the SSH write path and the Go runtime, which no chat
// server on this stack avoids, on this machine, that day.
//
//	go run ./bench/floor --listen 127.0.0.1:22023
//
// It listens on loopback only.
package main
