// Package metrics serves securechat's Prometheus metrics (/metrics) and its
// health endpoints (/livez, /readyz) on an operator's address.
//
// It counts through sshapp.Observer (logins, sessions, throttling) and a
// history observer (append and fsync latency, group-commit batch size), and
// reads everything else at scrape time from counters the room and the stores
// keep anyway: the fan-out pays for no lock or map lookup per delivery. No
// label carries a username or an address.
package metrics
