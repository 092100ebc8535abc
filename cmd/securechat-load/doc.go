// Command securechat-load is securechat's load generator. It opens N real
// SSH sessions with a PTY and the chat UI, has K of them type short unique
// tokens at a fixed rate, and keeps a terminal model (vt10x) of every
// session's screen, so that a token counts as delivered when it first
// appears on that screen, not when its bytes pass by: a renderer rewrites
// only what changed, so a token is rarely whole in the byte stream.
//
// It reports connect times, the delivery ratio, latency percentiles,
// deliveries per second, bytes received per delivery, order violations, its
// own CPU use and, given the server's PID, the server's CPU time and memory
// from /proc. With --setup it first registers the users and uploads a key
// per user derived from --key-seed, so that load runs log in by key and pay
// no bcrypt.
//
// It only ever talks to loopback addresses, spreads its sessions over the
// source addresses 127.0.0.2 to 127.0.0.254 so that the server's per-source
// limits hold, and every phase is bounded in time.
//
// The package knows nothing of the server's internals: it drives the server
// over SSH exactly as users do.
package main
